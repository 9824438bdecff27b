"""The extension's identity and the host manifest built from it (and checked).

One template for both families plus a per-family allow-list key, so the two
manifests cannot drift apart (docs in the reference, part A2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .browsers import CHROMIUM, FIREFOX, HOST_DESCRIPTION, HOST_NAME
from .errors import InstallError

EXTENSION_ID_RE = re.compile(r"^[a-p]{32}$")
ALLOW_KEY = {CHROMIUM: "allowed_origins", FIREFOX: "allowed_extensions"}


def id_from_bytes(data: bytes) -> str:
    """Chromium's id: first 32 hex digits of SHA-256, each 0-f mapped to a-p."""
    return "".join(chr(ord("a") + int(c, 16)) for c in hashlib.sha256(data).hexdigest()[:32])


@dataclass(frozen=True)
class Identity:
    extension_dir: Path | None  # None: installed as a package, no extension/ folder at hand
    chromium_id: str
    gecko_id: str | None
    id_source: str  # "key" (manifest.json), "option" (--extension-id), "path" (no key) or "package"

    @property
    def origin(self) -> str:
        return f"chrome-extension://{self.chromium_id}/"


def packaged_identity(extension_id: str | None = None) -> Identity:
    """The ids the installed host allows (cpa_bridge.wire.identity), for an install without extension/."""
    try:
        from cpa_bridge.wire import identity  # noqa: PLC0415 (an install without the host package must still run)
    except ImportError:
        raise InstallError(
            "no extension/manifest.json here and cpa_bridge is not importable (use --extension-dir)"
        ) from None
    if extension_id is not None:
        validate_extension_id(extension_id)
    return Identity(
        None, extension_id or identity.CHROMIUM_EXTENSION_ID, identity.GECKO_ID, "package"
    )


def read_identity(extension_dir: Path, extension_id: str | None = None) -> Identity:
    """Read the ids from <extension_dir>/manifest.json (``key`` and the gecko id)."""
    if extension_id is not None:
        validate_extension_id(extension_id)
    path = extension_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstallError(f"extension manifest {path} not found (use --extension-dir)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InstallError(f"extension manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise InstallError(f"extension manifest {path} is not a JSON object")
    gecko = (manifest.get("browser_specific_settings") or manifest.get("applications") or {}).get(
        "gecko"
    ) or {}
    gecko_id = gecko.get("id") if isinstance(gecko.get("id"), str) else None
    if extension_id is not None:
        return Identity(extension_dir, extension_id, gecko_id, "option")
    key = manifest.get("key")
    if isinstance(key, str) and key:
        try:
            der = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise InstallError(f'extension manifest {path}: "key" is not valid base64') from None
        return Identity(extension_dir, id_from_bytes(der), gecko_id, "key")
    # Without a key Chromium hashes the unpacked directory's absolute path.
    return Identity(
        extension_dir, id_from_bytes(os.path.abspath(extension_dir).encode()), gecko_id, "path"
    )


def validate_extension_id(value: str) -> str:
    if not EXTENSION_ID_RE.match(value):
        raise InstallError(f"extension id {value!r} is not 32 letters a-p")
    return value


def build(family: str, launcher: Path, ident: Identity) -> dict:
    allow = [ident.origin] if family == CHROMIUM else [ident.gecko_id]
    return {
        "name": HOST_NAME,
        "description": HOST_DESCRIPTION,
        "path": str(launcher),
        "type": "stdio",
        ALLOW_KEY[family]: allow,
    }


def is_ours(path: Path) -> bool:
    """Whether the file at ``path`` is a cpa-bridge host manifest (by content, whoever wrote it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("name") == HOST_NAME
        and "cpa-bridge" in str(data.get("path", ""))
    )


def render(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def problems(path: Path, family: str, ident: Identity, platform: str) -> list[str]:
    """What is wrong with the manifest at ``path``; an empty list means usable.

    Each entry is a short sentence naming the file, meant for the user.
    """
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return [f"manifest {path} does not exist"]
    except OSError as exc:
        return [f"manifest {path} cannot be read: {exc.strerror}"]
    try:
        data = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"manifest {path} is not valid JSON ({exc})"]
    if not isinstance(data, dict):
        return [f"manifest {path} is not a JSON object"]
    found = []
    if data.get("name") != HOST_NAME:
        found.append(f'manifest {path}: "name" is {data.get("name")!r}, expected {HOST_NAME!r}')
    if platform != "win32" and path.stem != HOST_NAME:
        found.append(f"manifest {path}: file name must be {HOST_NAME}.json")
    if data.get("type") != "stdio":
        found.append(f'manifest {path}: "type" must be "stdio"')
    want_key, want_value = (
        ALLOW_KEY[family],
        (ident.origin if family == CHROMIUM else ident.gecko_id),
    )
    allowed = data.get(want_key)
    if not isinstance(allowed, list) or want_value not in allowed:
        found.append(f'manifest {path}: "{want_key}" does not list {want_value}')
    found += _path_problems(path, data.get("path"), platform)
    return found


def _path_problems(manifest: Path, host, platform: str) -> list[str]:
    if not isinstance(host, str) or not host:
        return [f'manifest {manifest}: "path" is missing']
    host_path = Path(host)
    if not host_path.is_absolute():
        if platform != "win32":  # Windows allows a path relative to the manifest
            return [f'manifest {manifest}: "path" {host} is not absolute']
        host_path = manifest.parent / host_path
    if not host_path.exists():
        return [f"host path {host_path} does not exist"]
    if not host_path.is_file():
        return [f"host path {host_path} is not a file"]
    if platform != "win32" and not os.access(host_path, os.X_OK):
        return [f"host path {host_path} is not executable (chmod +x)"]
    return []


def host_path(manifest: Path) -> Path | None:
    """The (absolute) host path a valid manifest names."""
    try:
        value = json.loads(manifest.read_text(encoding="utf-8")).get("path")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(value, str):
        return None
    return Path(value) if os.path.isabs(value) else manifest.parent / value
