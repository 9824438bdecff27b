"""``import``, ``import.batch``, ``history.list``, ``history.undo``.

The CLIProxyAPI side (engine, session: httpx) is imported inside the handlers that talk to it,
so ``history.list``, answered at once while a write waits, loads no HTTP stack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import Field

from cpa_bridge.cliproxyapi import backups, fanout
from cpa_bridge.core import edits, urls
from cpa_bridge.core.lists import OPENAI
from cpa_bridge.core.merge import Draft, Model, options_dropped
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.handlers.drafts import ImportItem, resolve
from cpa_bridge.store import keystore, views
from cpa_bridge.store import settings as store
from cpa_bridge.wire.dispatch import handles
from cpa_bridge.wire.params import Params

TargetsParam = list[str] | Literal["all"] | None

#: Failures of a whole target (not of one item): connection, auth, server, storage.
TARGET_LEVEL_CODES = {
    ErrorCode.UNREACHABLE.value,
    ErrorCode.TIMEOUT.value,
    ErrorCode.TLS_ERROR.value,
    ErrorCode.MANAGEMENT_DISABLED.value,
    ErrorCode.UNAUTHORIZED.value,
    ErrorCode.REMOTE_DISABLED.value,
    ErrorCode.BANNED.value,
    ErrorCode.AUTH_BLOCKED.value,
    ErrorCode.SERVER_ERROR.value,
    ErrorCode.BAD_RESPONSE.value,
    ErrorCode.STORAGE_ERROR.value,
}


class ImportParams(ImportItem, Params):
    dry_run: bool = False
    allow_unusable: bool = False
    expect_list_hash: str | None = Field(default=None, max_length=64)
    target: str | None = Field(default=None, max_length=40)
    targets: TargetsParam = None


class BatchParams(Params):
    items: list[ImportItem] = Field(min_length=1, max_length=5000)
    dry_run: bool = False
    allow_unusable: bool = False
    skip_unusable: bool = False
    expect_list_hashes: dict[str, str] = Field(default_factory=dict)
    target: str | None = Field(default=None, max_length=40)
    targets: TargetsParam = None


class HistoryParams(Params):
    target: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000)


class UndoParams(Params):
    backup_id: str | None = Field(default=None, max_length=64)
    force: bool = False
    dry_run: bool = False
    target: str | None = Field(default=None, max_length=40)


#: How many sites (servers) a batch fetches model lists from at once. The lists one server
#: gives (its keys, or several base URLs on it) are fetched one after another, over one
#: connection; a batch of keys from many sites then waits for the slowest few, not for all.
MODEL_FETCHES_AT_ONCE = 8


def _fetch_models(
    entries: list[tuple[int, Draft]],
    positions: list[int],
    allow_link_local: bool,
    warnings: dict[int, Notice],
) -> None:
    """Fill ``default_models`` of the drafts at ``positions`` (new openai-compatibility providers
    without models) from their sites, once per distinct base URL and key; outside the lock. One
    HTTP client serves them all: one server's lists in turn (its connection reused), up to
    :data:`MODEL_FETCHES_AT_ONCE` servers at a time."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 (start-up: only a batch with new providers from several sites needs threads)

    from cpa_bridge.cliproxyapi.session import timeouts  # noqa: PLC0415 (start-up: httpx loads only for network messages)
    from cpa_bridge.net.http import is_https  # noqa: PLC0415 (start-up: httpx loads only for network messages)
    from cpa_bridge.sites.http import site_client  # noqa: PLC0415 (start-up: httpx loads only for network messages)
    from cpa_bridge.sites.models import fetch_models  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    timeout = timeouts()[1]
    by_server: dict[str, dict[tuple[str, str], Draft]] = {}
    for pos in positions:
        draft = entries[pos][1]
        wanted = by_server.setdefault(urls.origin(draft.base_url), {})
        wanted.setdefault((draft.base_url, draft.api_key), draft)
    https = any(is_https(server) for server in by_server)
    fetched: dict[tuple[str, str], tuple[tuple[Model, ...], Notice | None]] = {}
    with site_client(timeout, allow_link_local=allow_link_local, https=https) as client:

        def fetch_all(wanted: dict[tuple[str, str], Draft]) -> None:
            for cache_key, draft in wanted.items():
                fetched[cache_key] = _site_models(
                    fetch_models, draft, timeout, allow_link_local, client
                )

        if len(by_server) == 1:
            fetch_all(next(iter(by_server.values())))
        else:
            with ThreadPoolExecutor(min(MODEL_FETCHES_AT_ONCE, len(by_server))) as pool:
                list(pool.map(fetch_all, by_server.values()))
    for pos in positions:
        index, draft = entries[pos]
        models, problem = fetched[(draft.base_url, draft.api_key)]
        if problem:
            warnings[index] = problem
        entries[pos] = (index, replace(draft, default_models=models))


def _site_models(
    fetch_models: Any, draft: Draft, timeout: float, allow_link_local: bool, client: Any
) -> tuple[tuple[Model, ...], Notice | None]:
    """The models of ``draft``'s site, or none and the warning that says why."""
    try:
        found = fetch_models(
            draft.base_url,
            draft.api_key,
            timeout=timeout,
            allow_link_local=allow_link_local,
            client=client,
        )
    except BridgeError as exc:
        return (
            (),
            Notice(
                W.MODEL_LIST_FAILED,
                f"could not get the site's model list ({exc.message}); add models by hand",
                error=exc.code.value,
                status=exc.details.get("status"),
            ),
        )
    models = tuple(Model(m, m) for m in found["models"])
    if not models:
        return (), Notice(W.MODEL_LIST_EMPTY, "the site listed no models; add models by hand")
    return models, None


def _outcome_result(
    outcome: Any, status: Any, draft: Draft, target: str, dry_run: bool, model_warning: str | None
) -> dict[str, Any]:
    warnings = list(outcome.warnings) + list(status.warnings)
    if model_warning and outcome.action == "created":
        warnings.insert(0, model_warning)
    dropped = (
        options_dropped(status.after, draft) if status.after is not None and outcome.changes else []
    )
    if dropped:
        warnings.append(
            Notice(
                W.OPTIONS_DROPPED,
                f"CLIProxyAPI accepted the write but did not keep {', '.join(dropped)}: this server version does not "
                "support it (see docs/cliproxyapi-compat.md); the key itself was imported",
                options=list(dropped),
            )
        )
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
        "dropped_options": dropped,
        "warnings": warnings,
        "target": target,
        "dry_run": dry_run,
    }


def _run_batch(
    target_name: str | None,
    drafts: list[tuple[int, Draft]],
    *,
    dry_run: bool,
    expect: dict[str, str],
    operation: str,
    with_request: bool = False,
) -> dict[str, Any]:
    """Import drafts into one target: per list one GET, one write, one read-back.

    ``with_request`` adds each list's request preview (``import`` shows it; a batch leaves it
    out: for a PUT it repeats every changed provider, which the items' ``changes`` already say).
    """
    from cpa_bridge.cliproxyapi import engine  # noqa: PLC0415 (start-up: httpx loads only for network messages)
    from cpa_bridge.cliproxyapi.session import open_client  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    by_list: dict[str, list[tuple[int, Draft]]] = {}
    for index, draft in drafts:
        by_list.setdefault(draft.provider_type, []).append((index, draft))
    # openai-compatibility first: a model-list fetch it may need happens before anything is written
    by_list = dict(sorted(by_list.items(), key=lambda kv: kv[0] != OPENAI))
    model_warnings: dict[int, Notice] = {}
    with open_client(target_name) as client:
        while True:
            changes = [
                edits.import_change(name, [d for _, d in entries], expect.get(name))
                for name, entries in by_list.items()
            ]
            try:
                report = engine.write(
                    target_name, changes, dry_run=dry_run, operation=operation, client=client
                )
                break
            except (
                edits.NeedsModels
            ) as need:  # raised under the lock, before any write: fetch outside it
                _fetch_models(
                    by_list[OPENAI], need.positions, store.load().allow_link_local, model_warnings
                )
    items: dict[int, dict[str, Any]] = {}
    lists: dict[str, Any] = {}
    for change in changes:
        entries = by_list[change.list_name]
        status = report.lists[change.list_name]
        if isinstance(status, BridgeError):
            lists[change.list_name] = {"action": "failed", "error": status.to_dict()}
            for index, _ in entries:
                items[index] = {"index": index, "ok": False, "error": status.to_dict()}
            continue
        lists[change.list_name] = (
            {**status.public(), "request": status.request} if with_request else status.public()
        )
        outcomes = change.merged.outcomes if change.merged else []
        for (index, draft), outcome in zip(entries, outcomes, strict=False):
            if isinstance(outcome, BridgeError):
                items[index] = {"index": index, "ok": False, "error": outcome.to_dict()}
            else:
                items[index] = {
                    "index": index,
                    "ok": True,
                    "result": _outcome_result(
                        outcome, status, draft, report.target, dry_run, model_warnings.get(index)
                    ),
                }
    failures = [entry["error"] for entry in lists.values() if entry.get("action") == "failed"]
    if (
        failures
        and len(failures) == len(lists)
        and all(f["code"] in TARGET_LEVEL_CODES for f in failures)
    ):
        # nothing reached this target: report the target as failed, so a retry re-sends to it
        first = failures[0]
        raise BridgeError(ErrorCode(first["code"]), first["message"], **first["details"])
    ordered = [items[i] for i in sorted(items)]
    summary = {
        "total": len(ordered),
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "uncertain": 0,
        "not_saved": 0,
    }
    for entry in ordered:
        if not entry["ok"]:
            summary["failed"] += 1
        else:
            summary[entry["result"]["action"]] += 1
            summary["uncertain"] += entry["result"]["outcome"] == "uncertain"
            summary["not_saved"] += entry["result"]["outcome"] == "not_saved"
    return {
        "items": ordered,
        "lists": lists,
        "requests_sent": report.requests_sent,
        "summary": summary,
        "target": report.target,
        "dry_run": dry_run,
    }


def _resolve_all(
    items: list[ImportItem], skip: frozenset[int] = frozenset()
) -> list[tuple[int, Draft]]:
    """Validate every item first: one bad item refuses the whole batch, before any request."""
    settings = store.load()
    inventory = keystore.load() if any(i.key_id for i in items) else None
    drafts, problems = [], []
    for index, item in enumerate(items):
        if index in skip:
            continue
        try:
            drafts.append(
                (
                    index,
                    resolve(
                        item,
                        inventory=inventory,
                        allow_link_local=settings.allow_link_local,
                        prefix=f"params.items.{index}",
                    ),
                )
            )
        except BridgeError as exc:
            problems.append({"index": index, **exc.to_dict()})
    if problems:
        first = problems[0]
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"{len(problems)} of {len(items)} items are invalid (first: item {first['index']}: {first['message']}); "
            "nothing was sent",
            field=first["details"].get("field", f"params.items.{first['index']}"),
            items=problems[:50],
        )
    return drafts


@handles(ImportParams)
def import_one(params: ImportParams) -> dict[str, Any]:
    from cpa_bridge.sites.service import prepare_import  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    item = ImportItem.model_validate(params.model_dump(include=set(ImportItem.model_fields)))
    prepare_import([item.key_id], allow_unusable=params.allow_unusable, skip_unusable=False)
    settings = store.load()
    draft = resolve(item, allow_link_local=settings.allow_link_local)
    expect = {draft.provider_type: params.expect_list_hash} if params.expect_list_hash else {}

    def on_target(name: str | None) -> dict[str, Any]:
        batch = _run_batch(
            name,
            [(0, draft)],
            dry_run=params.dry_run,
            expect=expect,
            operation="import",
            with_request=True,
        )
        entry = batch["items"][0]
        if not entry["ok"]:
            error = entry["error"]
            raise BridgeError(ErrorCode(error["code"]), error["message"], **error["details"])
        return {**entry["result"], "request": batch["lists"][draft.provider_type].get("request")}

    if params.targets is None:
        return on_target(params.target)
    return fanout.run(fanout.target_names(params.targets, params.target), on_target)


@handles(BatchParams)
def import_batch(params: BatchParams) -> dict[str, Any]:
    from cpa_bridge.sites.service import prepare_import  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    skipped = prepare_import(
        [i.key_id for i in params.items],
        allow_unusable=params.allow_unusable,
        skip_unusable=params.skip_unusable,
    )
    if len(skipped) == len(params.items):
        raise BridgeError(
            ErrorCode.KEY_UNUSABLE,
            "every key of the batch is unusable on its site; nothing was sent",
            items=list(skipped.values())[:50],
        )
    drafts = _resolve_all(params.items, frozenset(skipped))

    def on_target(name: str | None) -> dict[str, Any]:
        result = _run_batch(
            name,
            drafts,
            dry_run=params.dry_run,
            expect=params.expect_list_hashes,
            operation="import.batch",
        )
        return {**result, "skipped": list(skipped.values())} if skipped else result

    if params.targets is None:
        return on_target(params.target)
    return fanout.run(fanout.target_names(params.targets, params.target), on_target)


@handles(HistoryParams)
def history_list(params: HistoryParams) -> dict[str, Any]:
    return views.history(store.load().model_dump(), params.target, params.limit, params.offset)


@handles(UndoParams)
def history_undo(params: UndoParams) -> dict[str, Any]:
    """Undo is a write with a restore edit, on the one write path."""
    from cpa_bridge.cliproxyapi import engine  # noqa: PLC0415 (start-up: httpx loads only for network messages)
    from cpa_bridge.cliproxyapi.session import open_client  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    with open_client(params.target) as client:
        url = client.target.management_url
        record = edits.check_record(backups.load(url, params.backup_id))
        change = edits.restore_change(record, force=params.force)
        report = engine.write(
            params.target, [change], dry_run=params.dry_run, operation="undo", client=client
        )
        status = report.one(change.list_name)
    if status.outcome in ("succeeded", "not_saved"):
        backups.update(url, record["backup_id"], undone_by=status.backup_id)
    result: dict[str, Any] = {
        "restored": record.get("backup_id"),
        "list": change.list_name,
        "entries": len(record["before"]),
        "target": report.target,
        "dry_run": params.dry_run,
        "backup_id": status.backup_id,
        "action": status.action,
        "outcome": status.outcome or "unchanged",
        "read_back": status.read_back,
        "warnings": status.warnings,
    }
    if status.server_error:
        result["server_error"] = status.server_error
    if params.dry_run and status.request:
        result["request"] = status.request
    return result
