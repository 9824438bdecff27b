"""Private files: atomic JSON writes with mode 0600 in 0700 directories."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cpa_bridge.errors import BridgeError, ErrorCode

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700, and every missing parent 0700 too (``mkdir(parents=True)`` would
    give the parents the umask's 0755); an existing ``path`` is narrowed to 0700."""
    try:
        missing = []
        folder = path
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                pass
            if os.name == "posix":
                folder.chmod(0o700)  # mkdir's mode is masked by the umask
        if os.name == "posix" and (path.stat().st_mode & 0o077):
            path.chmod(0o700)
    except OSError as exc:
        raise storage_error("create the directory", path, exc) from None


def storage_error(action: str, path: Path, exc: OSError) -> BridgeError:
    reason = exc.strerror or type(exc).__name__
    return BridgeError(
        ErrorCode.STORAGE_ERROR,
        f"could not {action} {path}: {reason}",
        path=str(path),
        errno=exc.errno,
    )


def write_json_atomic(path: Path, data: Any, *, durable: bool = True) -> None:
    """Write JSON to ``path`` atomically (temp file in the same dir, fsync, rename), mode 0600.

    ``durable=False`` leaves out the fsync: the rename is still atomic (a reader sees the old
    file or the new one), but after a crash the new content may be missing or empty. Only for
    facts whose loss is harmless (see :func:`cpa_bridge.cliproxyapi.backups.update`).
    """
    ensure_private_dir(path.parent)
    payload = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    fd = -1
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise storage_error("write", path, exc) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def read_json(path: Path, default: Any) -> Any:
    """Read JSON; a missing file gives ``default``; a damaged one is a ``storage_error``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise storage_error("read", path, exc) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BridgeError(
            ErrorCode.STORAGE_ERROR,
            f"{path} is damaged (not valid JSON); fix or remove it",
            path=str(path),
        ) from None


def load_model(path: Path, model: type[M]) -> M:
    """Read a JSON file into a pydantic model; missing → defaults; damaged → ``storage_error``."""
    from pydantic import ValidationError  # noqa: PLC0415 (start-up: pydantic loads only past ping)

    data = read_json(path, default={})
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError:
        raise BridgeError(
            ErrorCode.STORAGE_ERROR,
            f"{path} has an unexpected shape; fix or remove it",
            path=str(path),
        ) from None


def save_model(path: Path, value: BaseModel) -> None:
    write_json_atomic(path, value.model_dump(mode="json"))
