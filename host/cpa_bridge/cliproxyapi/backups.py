"""Backups of provider lists, taken before every write, for ``history.undo``.

One JSON file per write under ``<data dir>/backups/<target>/`` (0600 in 0700 dirs),
newest kept, at most :data:`MAX_BACKUPS` per target. A backup holds the list exactly as
read before the write (``before``) and the hash of the list after it (``after_hash``),
so an undo can tell whether the list changed since.

The backup file is written once, and fsynced, before the write is sent; it is never rewritten.
What became of the write (``outcome``, ``after_hash``, later ``undone_by``) goes beside it, to
``<backup id>.outcome`` (:func:`update`), and reads merged into the record.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage

MAX_BACKUPS = 200


def target_dir(management_url: str) -> Path:
    digest = hashlib.sha256(management_url.encode("utf-8")).hexdigest()[:16]
    return paths.backups_dir() / digest


def new_id() -> str:
    """Sortable by time (to the microsecond), unique by a random tail."""
    now = time.time()
    return (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        + f"{int(now % 1 * 1e6):06d}Z-"
        + secrets.token_hex(2)
    )


def save(management_url: str, record: dict[str, Any]) -> str:
    """Store a backup record; returns its id. Raises ``storage_error`` (then nothing may be written)."""
    backup_id = record.get("backup_id") or new_id()
    record = {**record, "backup_id": backup_id, "created_at": record.get("created_at", time.time())}
    folder = target_dir(management_url)
    storage.write_json_atomic(folder / f"{backup_id}.json", record)
    _prune(folder)
    return backup_id


def _facts_path(path: Path) -> Path:
    return path.with_suffix(".outcome")


def _facts(path: Path) -> dict[str, Any]:
    """What :func:`update` recorded beside the backup at ``path``; {} when nothing was, or when
    it did not survive a crash (it is written without fsync)."""
    try:
        facts = storage.read_json(_facts_path(path), default={})
    except BridgeError:
        return {}
    return facts if isinstance(facts, dict) else {}


def update(management_url: str, backup_id: str, **fields: Any) -> None:
    """Record what became of a backed-up write, beside the backup.

    The backup itself (the list as it was, written and fsynced before the write was sent) is
    not rewritten, so the list is not serialised, written or fsynced a second time. These facts
    are written atomically but not fsynced: a crash may lose them, never the backup, which then
    reads as ``pending``, as if the crash had come a moment earlier.
    """
    path = target_dir(management_url) / f"{backup_id}.json"
    if not path.is_file():
        return
    facts = _facts(path)
    facts.update(fields)
    storage.write_json_atomic(_facts_path(path), facts, durable=False)


def _read(path: Path) -> Any:
    """The record at ``path`` with its facts merged in; None when missing."""
    record = storage.read_json(path, default=None)
    if isinstance(record, dict):
        record.update(_facts(path))
    return record


def _remove(path: Path) -> None:
    for name in (path, _facts_path(path)):
        try:
            name.unlink()
        except OSError:
            pass


def discard(management_url: str, backup_id: str) -> None:
    """Remove a backup whose write was refused (nothing was applied)."""
    _remove(target_dir(management_url) / f"{backup_id}.json")


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(folder.glob("*.json"), reverse=True)
    except OSError:
        return []


def _prune(folder: Path) -> None:
    for old in _files(folder)[MAX_BACKUPS:]:
        _remove(old)


def page(management_url: str, limit: int, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The records of backup files ``offset`` to ``offset + limit`` (newest first), and how
    many backup files the target has. A file that cannot be read is skipped but counted, so
    the offsets of later pages stay true."""
    files = _files(target_dir(management_url))
    records = []
    for path in files[offset : offset + limit]:
        try:
            record = _read(path)
        except BridgeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, len(files)


def list_records(management_url: str, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    return page(management_url, limit, offset)[0]


def load(management_url: str, backup_id: str | None) -> dict[str, Any]:
    if backup_id is None:
        records = [
            r
            for r in list_records(management_url, limit=MAX_BACKUPS)
            if r.get("operation") != "undo"
            and not r.get("undone_by")
            and r.get("outcome") != "pending"
        ]
        if not records:
            raise BridgeError(ErrorCode.NOT_FOUND, "there is no write to undo for this target")
        return records[0]
    if not backup_id.replace("-", "").isalnum() or len(backup_id) > 64:
        raise BridgeError(ErrorCode.INVALID_REQUEST, "invalid backup_id", field="params.backup_id")
    record = _read(target_dir(management_url) / f"{backup_id}.json")
    if not isinstance(record, dict):
        raise BridgeError(
            ErrorCode.NOT_FOUND, f"no backup '{backup_id}' for this target", backup_id=backup_id
        )
    return record


#: What one history entry may show of its summary: changes, and items in a change's lists.
SUMMARY_CHANGES = 20
SUMMARY_ITEMS = 20


def _short_summary(summary: Any) -> tuple[list[Any], bool]:
    """At most :data:`SUMMARY_CHANGES` changes, each list in them cut to :data:`SUMMARY_ITEMS`
    (``<name>_more`` says how many were left out); True when anything was cut."""
    if not isinstance(summary, list):
        return [], summary is not None
    cut = len(summary) > SUMMARY_CHANGES
    out = []
    for change in summary[:SUMMARY_CHANGES]:
        if not isinstance(change, dict):
            continue
        short: dict[str, Any] = {}
        for key, value in change.items():
            if isinstance(value, list) and len(value) > SUMMARY_ITEMS:
                short[key], short[f"{key}_more"], cut = (
                    value[:SUMMARY_ITEMS],
                    len(value) - SUMMARY_ITEMS,
                    True,
                )
            elif isinstance(value, str) and len(value) > 300:
                short[key], cut = value[:300] + "…", True
            else:
                short[key] = value
        out.append(short)
    return out, cut


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A backup as history shows it: no list content (it holds keys), the summary kept short."""
    summary, cut = _short_summary(record.get("summary"))
    before = record.get("before")
    return {
        "backup_id": record.get("backup_id"),
        "created_at": record.get("created_at"),
        "target": record.get("target"),
        "list": record.get("list"),
        "operation": record.get("operation"),
        "summary": summary,
        "summary_truncated": cut,
        "outcome": record.get("outcome"),
        "entries_before": len(before) if isinstance(before, list) else 0,
        "undone_by": record.get("undone_by"),
    }
