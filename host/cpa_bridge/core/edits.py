"""Edits of a provider list: what to send, how to preview it, how to check the read-back.

Pure: no I/O. A *change* (:class:`ListChange`) names a list and holds a builder, a
function from the list as read to an :class:`Edit` (or ``None``: nothing to do). The
engine (:func:`cpa_bridge.cliproxyapi.engine.write`) runs every change the same way:
lock, re-read, build, validate, back up, send, read back. This module has the builders
for every kind of write: import (:func:`import_change`), undo (:func:`restore_change`)
and, with :mod:`cpa_bridge.core.manage`, every ``providers.*`` edit
(:func:`manage_change`) and sync (:func:`cpa_bridge.core.manage.sync_change`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cpa_bridge.core.lists import OPENAI, PROVIDER_LISTS
from cpa_bridge.core.merge import (
    Draft,
    MergeResult,
    key_present,
    list_hash,
    mask_secrets,
    merge,
    validate_list,
)
from cpa_bridge.errors import BridgeError, ErrorCode

Items = list[dict[str, Any]]


@dataclass
class Edit:
    """One change to one provider list, computed from the list as read.

    ``request`` is what is sent (``{method, path, body}``, or ``{method: "DELETE", path,
    params}``); ``preview`` is the same with secrets masked (for replies). ``check`` compares
    the list read back after the write with what was meant (empty = applied); ``applied``
    decides ``read_back`` after an uncertain write (default: ``not check(after)``).
    ``changed`` are the indexes of ``items`` that differ from the list as read (validated
    before the write; ``None``: validate every entry).
    """

    items: Items
    request: dict[str, Any]
    preview: dict[str, Any]
    summary: list[dict[str, Any]]
    check: Callable[[Items], list[str]]
    applied: Callable[[Items], bool] | None = None
    warnings: list[str] = field(default_factory=list)
    changed: Iterable[int] | None = None


Builder = Callable[[Items], "Edit | None"]


@dataclass
class Merged:
    """Where an import or sync builder puts its merge when it runs (for the reply)."""

    result: MergeResult | None = None


@dataclass
class ListChange:
    """A planned write to one list: the builder runs on the list as read under the lock.

    ``expect_hash``: refuse with ``conflict`` when the list read differs (preview → apply).
    :attr:`merged` is the merge of an import or sync once built (for the reply). The builder
    fills ``slot``, which it shares with the change: a builder that referred to the change
    itself would make a reference cycle, which only the cyclic collector frees, late, with the
    list read from the server and the merged one inside it.
    """

    list_name: str
    build: Builder
    expect_hash: str | None = None
    slot: Merged = field(default_factory=Merged)

    @property
    def merged(self) -> MergeResult | None:
        return self.slot.result


def validate_edit(list_name: str, edit: Edit) -> None:
    """Validate the entries that changed (the rest is as the server holds it and sent it)."""
    if edit.changed is None:
        validate_list(list_name, edit.items)
        return
    for index in edit.changed:
        validate_list(list_name, [edit.items[index]], offset=index)


# -- requests and previews ------------------------------------------------------------------
def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if before.get(k) != v}


def unique_value(items: Items, index: int, field: str) -> str | None:
    """``items[index][field]`` if it can address that entry on the server (PATCH / DELETE):
    a non-empty string without outer spaces that no other entry has."""
    value = items[index].get(field)
    if (
        isinstance(value, str)
        and value
        and value.strip() == value
        and sum(1 for item in items if item.get(field) == value) == 1
    ):
        return value
    return None


def plan_request(list_name: str, before: Items, result: MergeResult) -> dict[str, Any]:
    """The request that applies ``result``: PATCH one provider by its unique name, else PUT the list."""
    if list_name == OPENAI and not result.created and len(result.touched) == 1:
        (index,) = result.touched
        name = unique_value(before, index, "name")
        if name is not None:
            value = _changed_fields(before[index], result.items[index])
            # CLIProxyAPI before v7.3.13 answers a PATCH of priority with ok and ignores it (CPA #5967);
            # a PUT keeps it on every version (docs/cliproxyapi-compat.md).
            if "priority" not in value:
                return {
                    "method": "PATCH",
                    "path": list_name,
                    "body": {"name": name, "value": value},
                }
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


def merge_checks(
    result: MergeResult, drafts: list[Draft]
) -> tuple[Callable[[Items], list[str]], Callable[[Items], bool]]:
    """``check`` (differences between the read-back list and what the merge meant) and ``applied``
    (are the merged keys there at all, for a read-back after an uncertain write)."""
    done = [
        (d, o)
        for d, o in zip(drafts, result.outcomes, strict=False)
        if not isinstance(o, BridgeError)
    ]

    def check(after: Items) -> list[str]:
        problems = []
        if len(after) != len(result.items):
            problems.append(
                f"CLIProxyAPI now has {len(after)} entries, {len(result.items)} were expected"
            )
        for draft, outcome in done:
            if not key_present(after, draft):
                problems.append(
                    f"the key for '{outcome.provider_name}' is not in the list read back"
                )
        return problems

    def applied(after: Items) -> bool:
        return all(key_present(after, draft) for draft, _ in done)

    return check, applied


def merge_edit(
    list_name: str, before: Items, result: MergeResult, drafts: list[Draft]
) -> Edit | None:
    """The edit that writes a merge (import or sync); None when it changed nothing."""
    if not result.changed:
        return None
    request = plan_request(list_name, before, result)
    summary = [c for o in result.outcomes if not isinstance(o, BridgeError) for c in o.changes]
    check, applied = merge_checks(result, drafts)
    return Edit(
        items=result.items,
        request=request,
        preview=preview(request, result),
        summary=summary,
        check=check,
        applied=applied,
        changed=sorted(result.touched | result.created),
    )


# -- the builders -----------------------------------------------------------------------------
class NeedsModels(Exception):
    """Raised by an import builder: these drafts (positions) would create openai-compatibility
    providers without models, and their site's model list was not fetched yet. The caller
    fetches them *outside the lock* (fills ``default_models``) and writes again."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__(positions)
        self.positions = positions


def import_change(
    list_name: str, drafts: list[Draft], expect_hash: str | None = None
) -> ListChange:
    """Merge ``drafts`` (import or import.batch) into ``list_name``."""
    slot = Merged()

    def build(before: Items) -> Edit | None:
        slot.result = merged = merge(before, drafts)
        missing = [
            pos
            for pos, (draft, outcome) in enumerate(zip(drafts, merged.outcomes, strict=False))
            if draft.provider_type == OPENAI
            and not draft.models
            and draft.default_models is None
            and not isinstance(outcome, BridgeError)
            and outcome.action == "created"
        ]
        if missing:
            raise NeedsModels(missing)
        return merge_edit(list_name, before, merged, drafts)

    return ListChange(list_name, build, expect_hash, slot)


def manage_change(list_name: str, build: Builder, expect_hash: str | None = None) -> ListChange:
    """A ``providers.*`` edit: ``build`` is one of :mod:`cpa_bridge.core.manage`'s edit functions."""
    return ListChange(list_name, build, expect_hash)


def check_record(record: Any) -> dict[str, Any]:
    """A backup record fit to restore: ``list`` one of the provider lists, ``before`` a list of
    objects; anything else is ``storage_error`` (a damaged or hand-edited file)."""
    backup_id = record.get("backup_id") if isinstance(record, dict) else None
    shown = str(backup_id)[:64] if isinstance(backup_id, str) else None

    def damaged(what: str) -> BridgeError:
        return BridgeError(
            ErrorCode.STORAGE_ERROR,
            f"the backup is damaged ({what}); it cannot be restored",
            backup_id=shown,
        )

    if not isinstance(record, dict):
        raise damaged("not an object")
    if not isinstance(record.get("list"), str) or record["list"] not in PROVIDER_LISTS:
        raise damaged("no valid list name")
    before = record.get("before")
    if not isinstance(before, list) or not all(isinstance(item, dict) for item in before):
        raise damaged("no list")
    for name in ("before_hash", "after_hash"):
        if record.get(name) is not None and not isinstance(record.get(name), str):
            raise damaged(f"{name} is not a string")
    return record


def restore_change(record: dict[str, Any], *, force: bool) -> ListChange:
    """Put a backed-up list back (``history.undo``). Refused with ``conflict`` when the list
    changed since that write (unless ``force``); nothing to do when it is already as backed up."""
    record = check_record(record)
    list_name, backup = record["list"], record["before"]
    wanted = list_hash(backup)  # the server's own reload may turn null into [] (merge.comparable)

    def build(current: Items) -> Edit | None:
        current_hash = list_hash(current)
        if current_hash in (record.get("before_hash"), wanted):
            return None
        expected = record.get("after_hash")
        if current_hash != expected and not force:
            raise BridgeError(
                ErrorCode.CONFLICT,
                f"CLIProxyAPI's {list_name} changed since that write; undoing it would discard those changes. "
                "Use force to restore anyway.",
                list=list_name,
                expected=expected,
                actual=current_hash,
                backup_id=record.get("backup_id"),
            )

        def check(after: Items) -> list[str]:
            return (
                []
                if list_hash(after) == wanted
                else [f"the {list_name} read back is not the backed-up list"]
            )

        return Edit(
            items=backup,
            request={"method": "PUT", "path": list_name, "body": backup},
            preview={
                "method": "PUT",
                "path": list_name,
                "entries": len(backup),
                "body_preview": mask_secrets(backup[:20]),
            },
            summary=[{"op": "restore", "backup_id": record.get("backup_id")}],
            check=check,
        )

    return ListChange(list_name, build)
