"""``import``, ``import.batch``, ``history.list``, ``history.undo``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .. import backups, fanout, keystore, views
from .. import settings as store
from ..dispatch import Context, handles
from ..drafts import ImportItem, resolve
from ..errors import BridgeError, ErrorCode
from ..notices import Notice
from ..notices import WarningCode as W
from ..merge import OPENAI, Draft, Model, list_hash
from ..protocol import Params

TargetsParam = list[str] | Literal["all"] | None

#: Failures of a whole target (not of one item): connection, auth, server, storage.
TARGET_LEVEL_CODES = {
    ErrorCode.UNREACHABLE.value, ErrorCode.TIMEOUT.value, ErrorCode.TLS_ERROR.value,
    ErrorCode.MANAGEMENT_DISABLED.value, ErrorCode.UNAUTHORIZED.value, ErrorCode.REMOTE_DISABLED.value,
    ErrorCode.BANNED.value, ErrorCode.AUTH_BLOCKED.value, ErrorCode.SERVER_ERROR.value,
    ErrorCode.BAD_RESPONSE.value, ErrorCode.STORAGE_ERROR.value,
}


class ImportParams(ImportItem, Params):
    dry_run: bool = False
    expect_list_hash: str | None = Field(default=None, max_length=64)
    target: str | None = Field(default=None, max_length=40)
    targets: TargetsParam = None


class BatchParams(Params):
    items: list[ImportItem] = Field(min_length=1, max_length=5000)
    dry_run: bool = False
    expect_list_hashes: dict[str, str] = Field(default_factory=dict)
    target: str | None = Field(default=None, max_length=40)
    targets: TargetsParam = None


class HistoryParams(Params):
    target: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=50, ge=1, le=200)


class UndoParams(Params):
    backup_id: str | None = Field(default=None, max_length=64)
    force: bool = False
    dry_run: bool = False
    target: str | None = Field(default=None, max_length=40)


class _DefaultModels:
    """Fills ``default_models`` of new openai-compatibility providers from the upstream list."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[tuple[Model, ...] | None, Notice | None]] = {}
        self.warnings: dict[int, Notice] = {}

    def __call__(self, before: list[dict[str, Any]], drafts: list[Draft]) -> list[Draft]:
        from ..merge import _find_by_url
        from ..session import timeouts
        from ..upstream import fetch_models

        settings = store.load()
        out = []
        for i, draft in enumerate(drafts):
            if draft.provider_type != OPENAI or draft.models or _find_by_url(before, draft.base_url) is not None:
                out.append(draft)
                continue
            cache_key = (draft.base_url, draft.api_key)
            if cache_key not in self.cache:
                try:
                    fetched = fetch_models(draft.base_url, draft.api_key, timeout=timeouts()[1],
                                           allow_link_local=settings.allow_link_local)
                    models = tuple(Model(m, m) for m in fetched["models"])
                    self.cache[cache_key] = (models, None if models else Notice(
                        W.MODEL_LIST_EMPTY, "the site listed no models; add models by hand"))
                except BridgeError as exc:
                    self.cache[cache_key] = (None, Notice(
                        W.MODEL_LIST_FAILED, f"could not get the site's model list ({exc.message}); add models by hand",
                        error=exc.code.value, status=exc.details.get("status")))
            models, problem = self.cache[cache_key]
            if problem:
                self.warnings[i] = problem
            out.append(Draft(**{**draft.__dict__, "default_models": models}))
        return out


def _outcome_result(outcome: Any, status: Any, draft: Draft, target: str, dry_run: bool,
                    model_warning: str | None) -> dict[str, Any]:
    warnings = list(outcome.warnings) + list(status.warnings)
    if model_warning and outcome.action == "created":
        warnings.insert(0, model_warning)
    return {
        "action": outcome.action,
        "provider_type": draft.provider_type,
        "provider_name": outcome.provider_name,
        "base_url": outcome.base_url,
        "changes": outcome.changes,
        "outcome": status.outcome or ("dry_run" if dry_run else "succeeded"),
        "backup_id": status.backup_id,
        "list_hash": status.list_hash,
        "read_back": status.read_back,
        "warnings": warnings,
        "target": target,
        "dry_run": dry_run,
    }


def _run_batch(target_name: str | None, drafts: list[tuple[int, Draft]], *, dry_run: bool,
               expect: dict[str, str], operation: str) -> dict[str, Any]:
    """Import drafts into one target: per list one GET, one write, one read-back."""
    from ..engine import target_lock, write_list
    from ..session import open_client

    by_list: dict[str, list[tuple[int, Draft]]] = {}
    for index, draft in drafts:
        by_list.setdefault(draft.provider_type, []).append((index, draft))
    items: dict[int, dict[str, Any]] = {}
    lists: dict[str, Any] = {}
    with open_client(target_name) as client:
        target = client.target.name

        def run_all() -> None:
            for list_name, entries in by_list.items():
                defaults = _DefaultModels()
                list_drafts = [d for _, d in entries]
                try:
                    result, status = write_list(
                        client, list_name, list_drafts, dry_run=dry_run, expect_hash=expect.get(list_name),
                        operation=operation, prepare=defaults,
                    )
                except BridgeError as exc:
                    lists[list_name] = {"action": "failed", "error": exc.to_dict()}
                    for index, _ in entries:
                        items[index] = {"index": index, "ok": False, "error": exc.to_dict()}
                    continue
                lists[list_name] = {**status.public(), "request": status.request}
                for pos, ((index, draft), outcome) in enumerate(zip(entries, result.outcomes)):
                    if isinstance(outcome, BridgeError):
                        items[index] = {"index": index, "ok": False, "error": outcome.to_dict()}
                    else:
                        items[index] = {"index": index, "ok": True, "result": _outcome_result(
                            outcome, status, draft, target, dry_run, defaults.warnings.get(pos))}

        if dry_run:
            run_all()
        else:
            with target_lock(client.target.management_url):
                run_all()
        requests_sent = client.requests_sent
    failures = [entry["error"] for entry in lists.values() if entry.get("action") == "failed"]
    if failures and len(failures) == len(lists) and all(f["code"] in TARGET_LEVEL_CODES for f in failures):
        # nothing reached this target: report the target as failed, so a retry re-sends to it
        first = failures[0]
        raise BridgeError(ErrorCode(first["code"]), first["message"], **first["details"])
    ordered = [items[i] for i in sorted(items)]
    summary = {"total": len(ordered), "created": 0, "updated": 0, "unchanged": 0, "failed": 0, "uncertain": 0}
    for entry in ordered:
        if not entry["ok"]:
            summary["failed"] += 1
        else:
            summary[entry["result"]["action"]] += 1
            summary["uncertain"] += entry["result"]["outcome"] == "uncertain"
    return {"items": ordered, "lists": lists, "requests_sent": requests_sent, "summary": summary,
            "target": target, "dry_run": dry_run}


def _resolve_all(items: list[ImportItem]) -> list[tuple[int, Draft]]:
    """Validate every item first: one bad item refuses the whole batch, before any request."""
    settings = store.load()
    inventory = keystore.load() if any(i.key_id for i in items) else None
    drafts, problems = [], []
    for index, item in enumerate(items):
        try:
            drafts.append((index, resolve(item, inventory=inventory, allow_link_local=settings.allow_link_local,
                                          prefix=f"params.items.{index}")))
        except BridgeError as exc:
            problems.append({"index": index, **exc.to_dict()})
    if problems:
        first = problems[0]
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"{len(problems)} of {len(items)} items are invalid (first: item {first['index']}: {first['message']}); "
            "nothing was sent",
            field=first["details"].get("field", f"params.items.{first['index']}"), items=problems[:50],
        )
    return drafts


@handles(ImportParams)
def import_one(params: ImportParams, ctx: Context) -> dict[str, Any]:
    item = ImportItem.model_validate(params.model_dump(include=set(ImportItem.model_fields)))
    settings = store.load()
    draft = resolve(item, allow_link_local=settings.allow_link_local)
    expect = {draft.provider_type: params.expect_list_hash} if params.expect_list_hash else {}

    def on_target(name: str | None) -> dict[str, Any]:
        batch = _run_batch(name, [(0, draft)], dry_run=params.dry_run, expect=expect, operation="import")
        entry = batch["items"][0]
        if not entry["ok"]:
            error = entry["error"]
            raise BridgeError(ErrorCode(error["code"]), error["message"], **error["details"])
        return {**entry["result"], "request": batch["lists"][draft.provider_type].get("request")}

    if params.targets is None:
        return on_target(params.target)
    return fanout.run(fanout.target_names(params.targets, params.target), on_target)


@handles(BatchParams)
def import_batch(params: BatchParams, ctx: Context) -> dict[str, Any]:
    drafts = _resolve_all(params.items)

    def on_target(name: str | None) -> dict[str, Any]:
        return _run_batch(name, drafts, dry_run=params.dry_run, expect=params.expect_list_hashes,
                          operation="import.batch")

    if params.targets is None:
        return on_target(params.target)
    return fanout.run(fanout.target_names(params.targets, params.target), on_target)


@handles(HistoryParams)
def history_list(params: HistoryParams, ctx: Context) -> dict[str, Any]:
    return views.history(store.load().model_dump(), params.target, params.limit)


@handles(UndoParams)
def history_undo(params: UndoParams, ctx: Context) -> dict[str, Any]:
    from ..session import open_client

    with open_client(params.target) as client:
        record = backups.load(client.target.management_url, params.backup_id)
        return restore(client, record, force=params.force, dry_run=params.dry_run)


def restore(client: Any, record: dict[str, Any], *, force: bool, dry_run: bool) -> dict[str, Any]:
    """Put a backed-up list back, as a write with its own backup."""
    from ..engine import ListWrite, target_lock
    from ..merge import mask_secrets, validate_list

    list_name = record["list"]
    before = record.get("before")
    if not isinstance(before, list):
        raise BridgeError(ErrorCode.STORAGE_ERROR, "the backup is damaged (no list)", backup_id=record.get("backup_id"))
    validate_list(list_name, before)
    url = client.target.management_url
    with target_lock(url):
        current = client.get_list(list_name)
        current_hash = list_hash(current)
        expected = record.get("after_hash")
        if current_hash != expected and not force:
            raise BridgeError(
                ErrorCode.CONFLICT,
                f"CLIProxyAPI's {list_name} changed since that write; undoing it would discard those changes. "
                "Use force to restore anyway.",
                list=list_name, expected=expected, actual=current_hash, backup_id=record.get("backup_id"),
            )
        status = ListWrite(list_name, list_hash=current_hash)
        status.request = {"method": "PUT", "path": list_name, "entries": len(before)}
        result = {"restored": record.get("backup_id"), "list": list_name, "entries": len(before),
                  "target": client.target.name, "dry_run": dry_run}
        if current_hash == record.get("before_hash"):
            return {**result, "backup_id": None, "outcome": "unchanged", "action": "unchanged"}
        if dry_run:
            return {**result, "backup_id": None, "outcome": "dry_run", "action": "would_write",
                    "request": {**status.request, "body_preview": mask_secrets(before[:20])}}
        backup_id = backups.save(url, {
            "target": client.target.name, "list": list_name, "operation": "undo",
            "summary": [{"op": "restore", "backup_id": record.get("backup_id")}],
            "before": current, "before_hash": current_hash, "outcome": "pending",
        })
        try:
            client.put_list(list_name, before)
        except BridgeError as exc:
            if exc.code in (ErrorCode.REJECTED,) or (exc.code == ErrorCode.UNREACHABLE and not exc.details.get("sent")):
                backups.discard(url, backup_id)
                raise
            backups.update(url, backup_id, outcome="uncertain")
            return {**result, "backup_id": backup_id, "outcome": "uncertain", "action": "written",
                    "warnings": [Notice(W.WRITE_UNCERTAIN, f"the restore may or may not have been applied: "
                                        f"{exc.message}", error=exc.code.value)]}
        try:
            after_hash = list_hash(client.get_list(list_name))
        except BridgeError:
            after_hash = None
        outcome = "succeeded" if after_hash == record.get("before_hash") else "uncertain"
        backups.update(url, backup_id, outcome=outcome, after_hash=after_hash)
        backups.update(url, record["backup_id"], undone_by=backup_id)
        return {**result, "backup_id": backup_id, "outcome": outcome, "action": "written"}
