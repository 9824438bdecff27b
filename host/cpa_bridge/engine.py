"""The safe write path: lock, read, merge, validate, back up, write, read back.

Per provider list touched: one GET, one write (PATCH of the one provider that changed,
or PUT of the list), one read-back GET: at most three requests, whatever the number
of keys. I/O lives here; the decisions live in :mod:`cpa_bridge.merge`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from contextlib import contextmanager

from . import backups, paths, storage
from .client import ManagementClient
from .errors import BridgeError, ErrorCode
from .notices import Notice
from .notices import WarningCode as W
from .merge import OPENAI, Draft, MergeResult, key_present, list_hash, mask_secrets, merge, validate_list

LOCK_TIMEOUT = 60.0
#: Codes that mean "the request may have been applied": the outcome is uncertain.
_UNCERTAIN = {ErrorCode.TIMEOUT, ErrorCode.SERVER_ERROR, ErrorCode.BAD_RESPONSE, ErrorCode.UNREACHABLE}


@dataclass
class ListWrite:
    """What happened to one provider list."""

    list_name: str
    action: str = "unchanged"  # "written" | "unchanged" | "would_write"
    outcome: str | None = None  # "succeeded" | "uncertain" | "dry_run" | None (nothing to do)
    backup_id: str | None = None
    list_hash: str = ""
    request: dict[str, Any] | None = None
    read_back: str | None = None  # "applied" | "not_applied" | "unavailable"
    warnings: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "outcome": self.outcome,
            "backup_id": self.backup_id,
            "list_hash": self.list_hash,
            "read_back": self.read_back,
            "warnings": self.warnings,
        }


@contextmanager
def target_lock(management_url: str) -> Iterator[None]:
    """Serialise writes to one CLIProxyAPI across host processes and the CLI."""
    from filelock import FileLock, Timeout

    folder = paths.locks_dir()
    storage.ensure_private_dir(folder)
    digest = hashlib.sha256(management_url.encode("utf-8")).hexdigest()[:16]
    lock = FileLock(str(folder / f"{digest}.lock"), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise BridgeError(
            ErrorCode.TIMEOUT, f"another write to this CLIProxyAPI is still running after {LOCK_TIMEOUT:g} s"
        ) from None
    except OSError as exc:
        raise storage.storage_error("create the lock file in", folder, exc) from None
    try:
        yield
    finally:
        lock.release()


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if before.get(k) != v}


def plan_request(list_name: str, before: list[dict[str, Any]], result: MergeResult) -> dict[str, Any]:
    """The request that applies ``result``: PATCH one provider by its unique name, else PUT the list."""
    if list_name == OPENAI and not result.created and len(result.touched) == 1:
        (index,) = result.touched
        name = before[index].get("name")
        exact = [item for item in before if item.get("name") == name]
        if isinstance(name, str) and name.strip() == name and name and len(exact) == 1:
            value = _changed_fields(before[index], result.items[index])
            return {"method": "PATCH", "path": list_name, "body": {"name": name, "value": value}}
    return {"method": "PUT", "path": list_name, "body": result.items}


def preview(request: dict[str, Any], result: MergeResult) -> dict[str, Any]:
    """What will be sent, keys masked; for a PUT only the changed entries (the rest is sent as read)."""
    if request["method"] == "PATCH":
        return {"method": "PATCH", "path": request["path"], "body": mask_secrets(request["body"])}
    changed = sorted(result.touched | result.created)
    return {
        "method": "PUT",
        "path": request["path"],
        "entries": len(result.items),
        "changed_entries": [mask_secrets(result.items[i]) for i in changed],
    }


def _send(client: ManagementClient, request: dict[str, Any]) -> None:
    if request["method"] == "PATCH":
        client.patch_item(request["path"], request["body"])
    elif request["method"] == "DELETE":
        client.delete_item(request["path"], request["params"])
    else:
        client.put_list(request["path"], request["body"])


def merge_checks(result: MergeResult, drafts: list[Draft]) -> tuple[
        Callable[[list[dict[str, Any]]], list[str]], Callable[[list[dict[str, Any]]], bool]]:
    """``check`` (differences between the read-back list and what the merge meant) and ``applied``
    (are the merged keys there at all, for a read-back after an uncertain write)."""
    done = [(d, o) for d, o in zip(drafts, result.outcomes) if not isinstance(o, BridgeError)]

    def check(after: list[dict[str, Any]]) -> list[str]:
        problems = []
        if len(after) != len(result.items):
            problems.append(f"CLIProxyAPI now has {len(after)} entries, {len(result.items)} were expected")
        for draft, outcome in done:
            if not key_present(after, draft):
                problems.append(f"the key for '{outcome.provider_name}' is not in the list read back")
        return problems

    def applied(after: list[dict[str, Any]]) -> bool:
        return all(key_present(after, draft) for draft, _ in done)

    return check, applied


@dataclass
class Edit:
    """One change to one provider list, computed (purely) from the list as read.

    ``request`` is what is sent (``{method, path, body}``, or ``{method: "DELETE", path,
    params}``); ``preview`` is the same with secrets masked (for replies). ``check`` compares
    the list read back after the write with what was meant (empty = applied); ``applied``
    decides ``read_back`` after an uncertain write (default: ``not check(after)``).
    """

    items: list[dict[str, Any]]
    request: dict[str, Any]
    preview: dict[str, Any]
    summary: list[dict[str, Any]]
    check: Callable[[list[dict[str, Any]]], list[str]]
    applied: Callable[[list[dict[str, Any]]], bool] | None = None
    warnings: list[str] = field(default_factory=list)


def apply_edit(
    client: ManagementClient,
    list_name: str,
    make_edit: Callable[[list[dict[str, Any]]], Edit | None],
    *,
    dry_run: bool,
    expect_hash: str | None,
    operation: str,
) -> ListWrite:
    """The safe write path for any change: GET, check the hash, ``make_edit`` (None = nothing
    to do), validate, back up, write, read back. The caller holds the target lock for real runs."""
    before = client.get_list(list_name)
    status = ListWrite(list_name, list_hash=list_hash(before))
    if expect_hash and expect_hash != status.list_hash:
        raise BridgeError(
            ErrorCode.CONFLICT,
            f"CLIProxyAPI's {list_name} changed since the preview; nothing was written. Preview again.",
            list=list_name, expected=expect_hash, actual=status.list_hash,
        )
    edit = make_edit(before)
    if edit is None:
        return status
    validate_list(list_name, edit.items)
    status.request = edit.preview
    status.warnings.extend(edit.warnings)
    if dry_run:
        status.action, status.outcome = "would_write", "dry_run"
        return status

    backup_id = backups.save(
        client.target.management_url,
        {
            "target": client.target.name,
            "list": list_name,
            "operation": operation,
            "summary": edit.summary[:50],
            "before": before,
            "before_hash": status.list_hash,
            "outcome": "pending",
        },
    )
    status.backup_id = backup_id
    try:
        _send(client, edit.request)
    except BridgeError as exc:
        if exc.code not in _UNCERTAIN or (exc.code == ErrorCode.UNREACHABLE and not exc.details.get("sent")):
            backups.discard(client.target.management_url, backup_id)
            if edit.request["method"] in ("PATCH", "DELETE") and exc.details.get("status") == 404:
                raise BridgeError(
                    ErrorCode.CONFLICT,
                    f"the entry is no longer in CLIProxyAPI's {list_name} (the server restarted or another tool "
                    "changed it since it was read); nothing was written. Try again.",
                    list=list_name,
                ) from None
            raise
        return _uncertain(client, list_name, edit, status, exc)

    status.action = "written"
    try:
        after = client.get_list(list_name)
    except BridgeError:
        status.outcome, status.read_back = "uncertain", "unavailable"
        status.warnings.append(Notice(W.READ_BACK_FAILED, "CLIProxyAPI accepted the write, but reading it back "
                                      "failed; check the list"))
        backups.update(client.target.management_url, backup_id, outcome=status.outcome)
        return status
    problems = edit.check(after)
    status.read_back = "applied" if not problems else "not_applied"
    status.outcome = "succeeded" if not problems else "uncertain"
    status.warnings.extend(Notice(W.READ_BACK_MISMATCH, problem) for problem in problems)
    backups.update(client.target.management_url, backup_id, outcome=status.outcome, after_hash=list_hash(after))
    return status


def write_list(
    client: ManagementClient,
    list_name: str,
    drafts: list[Draft],
    *,
    dry_run: bool,
    expect_hash: str | None,
    operation: str,
    prepare: Callable[[list[dict[str, Any]], list[Draft]], list[Draft]] | None = None,
) -> tuple[MergeResult, ListWrite]:
    """Merge ``drafts`` into ``list_name`` on the server. The caller holds the target lock for real runs."""
    merged: list[MergeResult] = []

    def make_edit(before: list[dict[str, Any]]) -> Edit | None:
        prepared = prepare(before, drafts) if prepare is not None else drafts
        result = merge(before, prepared)
        merged.append(result)
        if not result.changed:
            return None
        request = plan_request(list_name, before, result)
        summary = [c for o in result.outcomes if not isinstance(o, BridgeError) for c in o.changes]
        check, applied = merge_checks(result, prepared)
        return Edit(items=result.items, request=request, preview=preview(request, result), summary=summary,
                    check=check, applied=applied)

    status = apply_edit(client, list_name, make_edit, dry_run=dry_run, expect_hash=expect_hash,
                        operation=operation)
    return merged[0], status


def _uncertain(client: ManagementClient, list_name: str, edit: Edit, status: ListWrite,
               exc: BridgeError) -> ListWrite:
    status.action, status.outcome = "written", "uncertain"
    status.warnings.append(Notice(W.WRITE_UNCERTAIN, f"the write may or may not have been applied: {exc.message}",
                                  error=exc.code.value))
    if "failed to save config" in str(exc.details.get("server_error", "")):
        status.warnings.append(Notice(
            W.CONFIG_NOT_SAVED,
            "CLIProxyAPI changed its running config but could not save config.yaml: the change is lost "
            "when CLIProxyAPI restarts. Fix the server's disk, then try again.",
        ))
    after_hash = None
    try:
        after = client.get_list(list_name)
        after_hash = list_hash(after)
        applied = edit.applied(after) if edit.applied is not None else not edit.check(after)
        status.read_back = "applied" if applied else "not_applied"
    except BridgeError:
        status.read_back = "unavailable"
    backups.update(client.target.management_url, status.backup_id or "", outcome="uncertain", after_hash=after_hash)
    return status
