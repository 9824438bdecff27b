"""The one write path to CLIProxyAPI: :func:`write`.

For a target and a list of changes (:class:`cpa_bridge.core.edits.ListChange`) it opens
the client, takes the server's lock unless it is a dry run, and per list: GET, check
the expected hash, build the edit (pure), validate what changed, back up, send, read
back, classify the outcome. Per list touched: one GET, one write (PATCH of the one
provider that changed, or PUT of the list), one read-back GET. Nothing else in the host
sends a PUT, PATCH or DELETE. The decisions live in :mod:`cpa_bridge.core.edits`.

Every write goes through :func:`servers.paced_write`: it is held back (under the server lock,
across processes) while it could reach the server inside the config reload that follows the
previous write, where CLIProxyAPI would revert it and then lose it (:mod:`cpa_bridge.core.pacing`).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from cpa_bridge.cliproxyapi import backups, servers
from cpa_bridge.cliproxyapi.client import ManagementClient
from cpa_bridge.cliproxyapi.session import open_client
from cpa_bridge.core.edits import Edit, ListChange, validate_edit
from cpa_bridge.core.merge import list_hash
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.errors import BridgeError, ErrorCode

#: Codes that mean "the request may have been applied": the outcome is uncertain.
_UNCERTAIN = {
    ErrorCode.TIMEOUT,
    ErrorCode.SERVER_ERROR,
    ErrorCode.BAD_RESPONSE,
    ErrorCode.UNREACHABLE,
}
#: What CLIProxyAPI answers (500) when it applied a change in memory but could not save config.yaml.
NOT_SAVED_TEXT = "failed to save config"


@dataclass
class ListWrite:
    """What happened to one provider list."""

    list_name: str
    action: str = "unchanged"  # "written" | "unchanged" | "would_write"
    #: "succeeded" | "uncertain" | "not_saved" | "dry_run" | None (nothing to do)
    outcome: str | None = None
    backup_id: str | None = None
    list_hash: str = ""
    request: dict[str, Any] | None = None
    read_back: str | None = None  # "applied" | "not_applied" | "unavailable"
    warnings: list[str] = field(default_factory=list)
    edit: Edit | None = None
    server_error: str | None = None
    #: The list as read back after the write (None before, or when it could not be read).
    after: list[dict[str, Any]] | None = field(default=None, repr=False)

    def public(self) -> dict[str, Any]:
        out = {
            "action": self.action,
            "outcome": self.outcome,
            "backup_id": self.backup_id,
            "list_hash": self.list_hash,
            "read_back": self.read_back,
            "warnings": self.warnings,
        }
        if self.server_error:
            out["server_error"] = self.server_error
        return out


@dataclass
class WriteReport:
    """The result of :func:`write`: per list a :class:`ListWrite` or the error that stopped it."""

    target: str
    server_version: str | None = None
    requests_sent: int = 0
    lists: dict[str, ListWrite | BridgeError] = field(default_factory=dict)

    def one(self, list_name: str) -> ListWrite:
        """The outcome for ``list_name``; its error raised as is."""
        status = self.lists[list_name]
        if isinstance(status, BridgeError):
            raise status
        return status


def write(
    target: str | None,
    changes: list[ListChange],
    *,
    dry_run: bool,
    operation: str,
    client: ManagementClient | None = None,
) -> WriteReport:
    """Apply ``changes`` to one target. A failing list does not stop the next one, except for
    failures of the whole target (connection, auth), which the next list would meet again."""
    owned = client is None
    client = client or open_client(target)
    try:
        report = WriteReport(target=client.target.name)
        with nullcontext() if dry_run else servers.lock(client.server_id):
            for change in changes:
                try:
                    report.lists[change.list_name] = _apply(
                        client, change, dry_run=dry_run, operation=operation
                    )
                except BridgeError as exc:
                    report.lists[change.list_name] = exc
                    if exc.code in _TARGET_WIDE:
                        for rest in changes:
                            report.lists.setdefault(rest.list_name, exc)
                        break
        report.server_version = client.server_version
        report.requests_sent = client.requests_sent
        return report
    finally:
        if owned:
            client.close()


#: Failures of the target as a whole: later lists are not tried.
_TARGET_WIDE = {
    ErrorCode.UNAUTHORIZED,
    ErrorCode.BANNED,
    ErrorCode.AUTH_BLOCKED,
    ErrorCode.REMOTE_DISABLED,
    ErrorCode.MANAGEMENT_DISABLED,
    ErrorCode.TLS_ERROR,
    ErrorCode.STORAGE_ERROR,
}


def _apply(
    client: ManagementClient, change: ListChange, *, dry_run: bool, operation: str
) -> ListWrite:
    list_name = change.list_name
    before = client.get_list(list_name)
    status = ListWrite(list_name, list_hash=list_hash(before))
    if change.expect_hash and change.expect_hash != status.list_hash:
        raise BridgeError(
            ErrorCode.CONFLICT,
            f"CLIProxyAPI's {list_name} changed since the preview; nothing was written. Preview again.",
            list=list_name,
            expected=change.expect_hash,
            actual=status.list_hash,
        )
    edit = change.build(before)
    retry = edit is None and _not_saved_before(client, list_name, status.list_hash) and not dry_run
    if edit is None and retry:
        edit = _resend(list_name, before)
    if edit is None:
        return status
    status.edit = edit
    validate_edit(list_name, edit)
    status.request = edit.preview
    status.warnings.extend(edit.warnings)
    if dry_run:
        status.action, status.outcome = "would_write", "dry_run"
        return status

    url = client.target.management_url
    status.backup_id = backups.save(
        url,
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
    try:
        raced_until = servers.paced_write(client.server_id, lambda: _send(client, edit.request))
    except BridgeError as exc:
        if exc.code not in _UNCERTAIN or (
            exc.code == ErrorCode.UNREACHABLE and not exc.details.get("sent")
        ):
            backups.discard(url, status.backup_id)
            if edit.request["method"] in ("PATCH", "DELETE") and exc.details.get("status") == 404:
                raise BridgeError(
                    ErrorCode.CONFLICT,
                    f"the entry is no longer in CLIProxyAPI's {list_name} (the server restarted or another tool "
                    "changed it since it was read); nothing was written. Try again.",
                    list=list_name,
                ) from None
            raise
        return _uncertain(client, edit, status, exc)

    status.action = "written"
    try:
        after = _read_back(client, edit, status, raced_until)
    except BridgeError as exc:  # sending it again (see _read_back) failed: written, then reverted
        return _uncertain(client, edit, status, exc)
    if after is None:
        status.outcome, status.read_back = "uncertain", "unavailable"
        status.warnings.append(
            Notice(
                W.READ_BACK_FAILED,
                "CLIProxyAPI accepted the write, but reading it back failed; check the list",
            )
        )
        backups.update(url, status.backup_id, outcome=status.outcome)
        return status
    status.after = after
    problems = edit.check(after)
    status.read_back = "applied" if not problems else "not_applied"
    status.outcome = "succeeded" if not problems else "uncertain"
    status.warnings.extend(Notice(W.READ_BACK_MISMATCH, problem) for problem in problems)
    backups.update(url, status.backup_id, outcome=status.outcome, after_hash=list_hash(after))
    return status


def _read_back(
    client: ManagementClient, edit: Edit, status: ListWrite, raced_until: float | None
) -> list[dict[str, Any]] | None:
    """The list read back after ``edit`` was sent (``None``: the read failed).

    ``raced_until`` set: the write may have landed in the config reload of the write before it
    (:func:`servers.paced_write`). The read waits until that reload is over; if it then finds
    the list exactly as it was before the write (the reload put its older copy back, as
    CLIProxyAPI does), the write is sent once more, now that no reload can catch it. A failure
    of that second send raises, as the first one's would."""
    after = _read_after(client, status.list_name, raced_until)
    if (
        raced_until is None
        or after is None
        or not edit.check(after)
        or list_hash(after) != status.list_hash
    ):
        return after
    again = servers.paced_write(client.server_id, lambda: _send(client, edit.request))
    return _read_after(client, status.list_name, again)


def _read_after(
    client: ManagementClient, list_name: str, moment: float | None
) -> list[dict[str, Any]] | None:
    if moment is not None:
        servers.sleep_until(moment)
    try:
        return client.get_list(list_name)
    except BridgeError:
        return None


def _send(client: ManagementClient, request: dict[str, Any]) -> None:
    if request["method"] == "PATCH":
        client.patch_item(request["path"], request["body"])
    elif request["method"] == "DELETE":
        client.delete_item(request["path"], request["params"])
    else:
        client.put_list(request["path"], request["body"])


def _not_saved_before(client: ManagementClient, list_name: str, current_hash: str) -> bool:
    """Whether the last write to this list was applied in memory but not saved, and the list
    is still as that write left it (so "unchanged" would hide that the change is not on disk)."""
    for record in backups.list_records(client.target.management_url, limit=10):
        if record.get("list") != list_name:
            continue
        return record.get("outcome") == "not_saved" and record.get("after_hash") == current_hash
    return False


def _resend(list_name: str, current: list[dict[str, Any]]) -> Edit:
    """PUT the list as it is, so CLIProxyAPI saves the change it holds only in memory."""

    def check(after: list[dict[str, Any]]) -> list[str]:
        return (
            [] if list_hash(after) == list_hash(current) else [f"the {list_name} read back differs"]
        )

    return Edit(
        items=current,
        request={"method": "PUT", "path": list_name, "body": current},
        preview={"method": "PUT", "path": list_name, "entries": len(current), "resave": True},
        summary=[{"op": "resave"}],
        check=check,
        changed=[],
        warnings=[
            Notice(
                W.CONFIG_RESENT,
                "the last write was applied but not saved by CLIProxyAPI; sending "
                "it again so it is saved",
            )
        ],
    )


def _uncertain(
    client: ManagementClient, edit: Edit, status: ListWrite, exc: BridgeError
) -> ListWrite:
    list_name = status.list_name
    status.action, status.outcome = "written", "uncertain"
    server_error = str(exc.details.get("server_error") or "")
    not_saved = NOT_SAVED_TEXT in server_error
    if not_saved:
        status.server_error = server_error[:300]
    else:
        status.warnings.append(
            Notice(
                W.WRITE_UNCERTAIN,
                f"the write may or may not have been applied: {exc.message}",
                error=exc.code.value,
            )
        )
    after_hash = None
    try:
        after = client.get_list(list_name)
        after_hash = list_hash(after)
        applied = edit.applied(after) if edit.applied is not None else not edit.check(after)
        status.read_back = "applied" if applied else "not_applied"
    except BridgeError:
        status.read_back = "unavailable"
    if not_saved and status.read_back == "applied":
        status.outcome = "not_saved"
        status.warnings.append(
            Notice(
                W.CONFIG_NOT_SAVED,
                f"CLIProxyAPI applied the change but could not save its config file ({server_error[:200]}): "
                "the change is lost when CLIProxyAPI restarts. Fix the server's config file or disk (permissions, "
                "space, a read-only mount), then run the same write again: it is re-sent even though the list "
                "already looks right.",
            )
        )
    elif not_saved:
        status.warnings.append(
            Notice(
                W.CONFIG_NOT_SAVED_UNCERTAIN,
                f"CLIProxyAPI could not save its config file ({server_error[:200]})",
            )
        )
    backups.update(
        client.target.management_url,
        status.backup_id or "",
        outcome=status.outcome,
        after_hash=after_hash,
    )
    return status
