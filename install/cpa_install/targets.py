"""What an operation works on: the context, the chosen browsers, and the one loop
over the browser table that turns them into registrations (manifest + key)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import browsers as table
from . import manifests
from .browsers import CHROMIUM, HOST_NAME
from .context import Context
from .errors import InstallError
from .windows import MemoryRegistry, Registry

REPO = Path(__file__).resolve().parents[2]
DEFAULT_EXTENSION_DIR = REPO / "extension"
MANIFEST_NAME = f"{HOST_NAME}.json"
UDD_PREFIX = "user-data-dir:"


@dataclass
class Registration:
    """One place a browser looks for our host: a manifest file (+ a registry key on Windows)."""

    label: str  # browser name, or "user-data-dir:<dir>"
    family: str
    manifest: Path
    registry_key: str | None = None


def extension_identity(
    extension_dir: Path | None, extension_id: str | None = None
) -> manifests.Identity:
    """The ids from <extension_dir>/manifest.json (default: the checkout's extension/).

    Installed as a Python package (pip, pipx) there is no extension/ beside the code: then
    the ids are the ones the host itself allows (cpa_bridge.wire.identity), and
    ``extension_dir`` is None.
    """
    if extension_dir is None and not (DEFAULT_EXTENSION_DIR / "manifest.json").exists():
        return manifests.packaged_identity(extension_id)
    return manifests.read_identity(extension_dir or DEFAULT_EXTENSION_DIR, extension_id)


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def abs_path(path) -> Path | None:
    return None if path is None else Path(os.path.abspath(os.path.expanduser(str(path))))


def make_context(platform, home, environ, system, root, user_data_dir) -> Context:
    ctx = Context.create(platform=platform, home=home, environ=environ, system=system, root=root)
    if user_data_dir is not None and system:
        raise InstallError("--user-data-dir and --system cannot be combined")
    if user_data_dir is not None and ctx.platform == "win32":
        raise InstallError(
            "--user-data-dir is not used on Windows: Chromium finds hosts through the registry there"
        )
    return ctx


def browser_names(browsers: Iterable[str] | None) -> list[str] | None:
    """--browser values, "all" expanded; None when none were given."""
    if not browsers:
        return None
    names: list[str] = []
    for name in browsers:
        name = name.lower()
        if name not in (*table.NAMES, "all"):
            raise InstallError(
                f"unknown browser {name!r} (choose from {', '.join(table.NAMES)} or all)"
            )
        names += table.NAMES if name == "all" else (name,)
    return list(dict.fromkeys(names))


def display_label(label: str) -> str:
    """How install and --check name a registration: the browser, or ``chromium profile <dir>``."""
    return f"chromium profile {label[len(UDD_PREFIX) :]}" if label.startswith(UDD_PREFIX) else label


def registrations(ctx: Context, names: Iterable[str], udd: Path | None) -> list[Registration]:
    """The one loop over the browser table."""
    regs = []
    for name in names:
        browser = table.get(name)
        if ctx.platform == "win32":
            manifest = ctx.windows_manifest(browser.family)
            regs += [
                Registration(name, browser.family, manifest, ctx.registry_key(v))
                for v in browser.win_vendors
            ]
        else:
            dirs = (browser.system_dirs if ctx.system else browser.user_dirs)[ctx.platform]
            regs += [
                Registration(name, browser.family, ctx.expand(d) / MANIFEST_NAME) for d in dirs
            ]
    if udd is not None:
        # Chromium started with --user-data-dir=X reads X/NativeMessagingHosts only (reference A2).
        regs.append(
            Registration(
                UDD_PREFIX + str(udd), CHROMIUM, udd / "NativeMessagingHosts" / MANIFEST_NAME
            )
        )
    return regs


def registry_for(ctx: Context, registry, dry_run: bool):
    if ctx.platform != "win32" or registry is not None:
        return registry
    if sys.platform == "win32":
        return Registry()
    if dry_run:
        return MemoryRegistry()  # shows what a fresh Windows machine would get
    raise InstallError("the Windows registry can only be written on Windows")
