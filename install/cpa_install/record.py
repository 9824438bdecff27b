"""The install record (what we wrote, so uninstall can remove exactly that) and file helpers.

``<data dir>/install-record.json``::

    {"format": 1,
     "extension_id": "...", "gecko_id": "...",
     "files":    {"<abs path>": {"sha256": "...", "kind": "manifest|launcher", "browsers": [...]}},
     "registry": {"<HKCU\\...>": {"value": "<manifest path>", "browsers": [...]}},
     "dirs": ["<dirs we created>"], "registry_keys": ["<keys we created>"],
     "venv": "<venv dir we created, or null>"}

Entries accumulate over installs (say one per browser profile) and leave only
through uninstall.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InstallError

FORMAT = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file and rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def makedirs(path: Path, created: list[str]) -> None:
    """mkdir -p, appending each directory it creates to ``created`` (parents first)."""
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(str(d))


@dataclass
class Record:
    extension_id: str | None = None
    gecko_id: str | None = None
    files: dict[str, dict] = field(default_factory=dict)
    registry: dict[str, dict] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    registry_keys: list[str] = field(default_factory=list)
    venv: str | None = None

    def is_empty(self) -> bool:
        return not (self.files or self.registry or self.dirs or self.registry_keys or self.venv)

    def browsers(self) -> list[str]:
        entries = list(self.files.values()) + list(self.registry.values())
        return sorted({b for e in entries for b in e.get("browsers", [])})

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "extension_id": self.extension_id,
            "gecko_id": self.gecko_id,
            "files": self.files,
            "registry": self.registry,
            "dirs": sorted(set(self.dirs)),
            "registry_keys": sorted(set(self.registry_keys)),
            "venv": self.venv,
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def load(cls, path: Path) -> Record:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (ValueError, UnicodeDecodeError) as exc:
            raise InstallError(
                f"install record {path} is damaged ({exc}); move it away and run again"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InstallError(
                f"install record {path} has an unknown format; move it away and run again"
            )
        return cls(
            extension_id=data.get("extension_id"),
            gecko_id=data.get("gecko_id"),
            files=dict(data.get("files") or {}),
            registry=dict(data.get("registry") or {}),
            dirs=list(data.get("dirs") or []),
            registry_keys=list(data.get("registry_keys") or []),
            venv=data.get("venv"),
        )

    def save(self, path: Path) -> bool:
        """Write the record if it changed (or delete it when empty). True if the file changed."""
        if self.is_empty():
            if path.exists():
                path.unlink()
                return True
            return False
        data = self.to_bytes()
        try:
            if path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        makedirs(path.parent, self.dirs)
        data = self.to_bytes()  # makedirs may have added dirs
        write_atomic(path, data, 0o644)
        return True
