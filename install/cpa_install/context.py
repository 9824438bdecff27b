"""Where things go on this machine: platform, home, environment, scope.

Everything that depends on the OS or on environment variables is resolved
here, so tests can pick the platform and home without touching the real ones.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import browsers

APP = "cpa-bridge"
RECORD_NAME = "install-record.json"
PLATFORMS = ("linux", "darwin", "win32")


def normalize_platform(name: str) -> str:
    if name.startswith(("win", "cygwin")):
        return "win32"
    if name == "darwin":
        return "darwin"
    return "linux"  # Linux and the BSDs share Chromium's and Firefox's Unix layout


@dataclass(frozen=True)
class Context:
    platform: str  # "linux" | "darwin" | "win32"
    home: Path
    environ: Mapping[str, str] = field(default_factory=dict)
    system: bool = False  # system-wide instead of per-user
    root: Path = Path("/")  # prefix of system paths; "/" except in tests

    @classmethod
    def create(
        cls,
        platform: str | None = None,
        home: Path | None = None,
        environ: Mapping[str, str] | None = None,
        system: bool = False,
        root: Path | None = None,
    ) -> Context:
        env = dict(os.environ if environ is None else environ)
        if home is None:
            home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        return cls(
            platform=normalize_platform(platform or sys.platform),
            home=Path(os.path.abspath(home)),
            environ=env,
            system=system,
            root=Path(os.path.abspath(root)) if root else Path(os.path.abspath(os.sep)),
        )

    # -- base folders -------------------------------------------------------

    def _env_dir(self, var: str, default: Path) -> Path:
        value = self.environ.get(var, "")
        return Path(value) if value and os.path.isabs(value) else default

    @property
    def config_home(self) -> Path:
        return self._env_dir("XDG_CONFIG_HOME", self.home / ".config")

    def expand(self, template: str) -> Path:
        head, _, rest = template.partition("/")
        bases = {
            "~": lambda: self.home,
            "{config}": lambda: self.config_home,
            "{appsupport}": lambda: self.home / "Library" / "Application Support",
            "{localappdata}": lambda: self._env_dir(
                "LOCALAPPDATA", self.home / "AppData" / "Local"
            ),
            "{appdata}": lambda: self._env_dir("APPDATA", self.home / "AppData" / "Roaming"),
            "{programdata}": lambda: self._env_dir("PROGRAMDATA", self.root / "ProgramData"),
            "": lambda: self.root,
        }
        if head not in bases:
            raise ValueError(f"bad path template {template!r}")
        base = bases[head]()
        return base.joinpath(*rest.split("/")) if rest else base

    # -- our files ----------------------------------------------------------

    @property
    def scope(self) -> str:
        return "system" if self.system else "user"

    @property
    def data_dir(self) -> Path:
        if self.platform == "win32":
            return self.expand("{programdata}/" + APP if self.system else "{localappdata}/" + APP)
        if self.platform == "darwin":
            return self.expand(
                "/Library/Application Support/" + APP if self.system else "{appsupport}/" + APP
            )
        if self.system:
            return self.expand("/usr/local/lib/" + APP)
        return self._env_dir("XDG_DATA_HOME", self.home / ".local" / "share") / APP

    @property
    def record_path(self) -> Path:
        return self.data_dir / RECORD_NAME

    @property
    def venv_dir(self) -> Path:
        return self.data_dir / "venv"

    @property
    def venv_python(self) -> Path:
        if self.platform == "win32":
            return self.venv_dir / "Scripts" / "python.exe"
        return self.venv_dir / "bin" / "python"

    @property
    def host_launcher(self) -> Path:
        suffix = ".bat" if self.platform == "win32" else ""
        return self.data_dir / "bin" / f"{APP}-host{suffix}"

    @property
    def cli_launcher(self) -> Path:
        if self.platform == "win32":
            return self.data_dir / "bin" / f"{APP}.bat"
        if self.system:
            return self.expand("/usr/local/bin/" + APP)
        return self.home / ".local" / "bin" / APP

    @property
    def hive(self) -> str:
        return "HKLM" if self.system else "HKCU"

    def registry_key(self, vendor: str) -> str:
        return f"{self.hive}\\Software\\{vendor}\\NativeMessagingHosts\\{browsers.HOST_NAME}"

    def windows_manifest(self, family: str) -> Path:
        """On Windows the manifest may live anywhere; the registry points to it."""
        return self.data_dir / "manifests" / family / f"{browsers.HOST_NAME}.json"

    # -- detection ----------------------------------------------------------

    def on_path(self, directory: Path) -> bool:
        entries = self.environ.get("PATH", "").split(os.pathsep)
        return any(e and os.path.abspath(e) == str(directory) for e in entries)

    def which(self, program: str) -> str | None:
        return shutil.which(program, path=self.environ.get("PATH", ""))

    def detect(self) -> list:
        """Names of the browsers that look used or installed here."""
        found = []
        for b in browsers.BROWSERS:
            hits = [self.expand(t).is_dir() for t in b.profile_dirs.get(self.platform, ())]
            if self.platform != "win32":
                hits += [self.which(p) is not None for p in b.binaries]
            if self.platform == "darwin":
                for app in b.mac_apps:
                    hits += [
                        (self.root / "Applications" / app).is_dir(),
                        (self.home / "Applications" / app).is_dir(),
                    ]
            if any(hits):
                found.append(b.name)
        return found
