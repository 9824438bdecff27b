"""``providers.*``: what CLIProxyAPI holds (keys masked) and managing it safely.

Every write goes through :func:`cpa_bridge.cliproxyapi.engine.write` (lock, re-read, locate by
id, validate, backup, write, read back) and can be undone with ``history.undo``.
The page never sends or receives a raw key: entries and keys are named by the ids
:mod:`cpa_bridge.core.manage` computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from cpa_bridge.cliproxyapi import engine, fanout
from cpa_bridge.cliproxyapi.session import open_client
from cpa_bridge.core import edits, manage
from cpa_bridge.core.lists import LATER_LISTS, OPENAI, PROVIDER_LISTS, ListName
from cpa_bridge.core.manage import describe, entry_id, locate, sync_change
from cpa_bridge.core.manage import summarize as summarize_entry
from cpa_bridge.core.merge import Model, list_hash
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.core.redact import mask
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.handlers.drafts import ModelParam, clean_text
from cpa_bridge.store import settings as store
from cpa_bridge.wire.dispatch import Reply, handles
from cpa_bridge.wire.params import Params

TargetsParam = list[str] | Literal["all"] | None
#: Aliases: inside the params models the field ``list`` shadows the builtin.
ToTargets = list[str] | Literal["all"]
ModelRows = list[ModelParam]
IdList = list[str]


class ListParams(Params):
    target: str | None = Field(default=None, max_length=40)
    list: ListName | None = None
    targets: TargetsParam = None


class ShowParams(Params):
    target: str | None = Field(default=None, max_length=40)
    list: ListName
    entry_id: str = Field(min_length=1, max_length=64)


class _WriteParams(Params):
    target: str | None = Field(default=None, max_length=40)
    list: ListName
    entry_id: str = Field(min_length=1, max_length=64)
    dry_run: bool = False
    expect_list_hash: str | None = Field(default=None, max_length=64)


class RemoveKeyParams(_WriteParams):
    key_id: str = Field(min_length=1, max_length=64)


class SetDisabledParams(_WriteParams):
    disabled: bool


class DeleteParams(_WriteParams):
    pass


class SetModelsParams(_WriteParams):
    models: ModelRows = Field(max_length=5000)


class DriftParams(Params):
    targets: TargetsParam = None
    list: ListName | None = None
    include_in_sync: bool = False


class SyncParams(Params):
    from_target: str = Field(min_length=1, max_length=40)
    to_targets: ToTargets
    list: ListName | None = None
    entry_ids: IdList | None = Field(default=None, max_length=5000)
    dry_run: bool = False
    on_name_conflict: Literal["fail", "rename"] = "fail"


def _list_names(name: str | None) -> list[str]:
    return [name] if name else list(PROVIDER_LISTS)


def _read_lists(target: str | None, names: list[str]) -> dict[str, Any]:
    with open_client(target) as client:
        lists = {}
        for name in names:
            try:
                lists[name] = client.get_list(name)
            except (
                BridgeError
            ) as exc:  # a list this server version lacks is left out of "every list"
                if len(names) == 1 or exc.details.get("reason") != "no_such_list":
                    raise
        return {
            "target": client.target.name,
            "server_version": client.server_version,
            "lists": lists,
        }


def _listing(target: str | None, names: list[str]) -> dict[str, Any]:
    read = _read_lists(target, names)
    return {
        **read,
        "lists": {
            name: [summarize_entry(name, item) for item in items]
            for name, items in read["lists"].items()
        },
    }


@handles(ListParams)
def list_(params: ListParams) -> Reply:
    names = _list_names(params.list)
    if params.targets is None:
        return _listing(params.target, names)
    return fanout.run(
        fanout.target_names(params.targets, params.target), lambda name: _listing(name, names)
    )


@handles(ShowParams)
def show(params: ShowParams) -> Reply:
    with open_client(params.target) as client:
        items = client.get_list(params.list)
        provider = describe(params.list, items[locate(params.list, items, params.entry_id)])
        return {
            "target": client.target.name,
            "list": params.list,
            "server_version": client.server_version,
            "list_hash": list_hash(items),
            "provider": provider,
        }


def _write(
    params: _WriteParams, operation: str, build: Callable[[list[dict[str, Any]]], Any]
) -> dict[str, Any]:
    """Run one provider edit through the one write path and describe what happened."""
    change = edits.manage_change(params.list, build, params.expect_list_hash)
    report = engine.write(params.target, [change], dry_run=params.dry_run, operation=operation)
    status = report.one(params.list)
    edit = status.edit
    provider = None
    if edit is not None:
        after = [item for item in edit.items if entry_id(params.list, item) == params.entry_id]
        provider = summarize_entry(params.list, after[0]) if after else None
    return {
        "target": report.target,
        "list": params.list,
        "entry_id": params.entry_id,
        "action": status.action,
        "outcome": status.outcome or ("dry_run" if params.dry_run else "succeeded"),
        "backup_id": status.backup_id,
        "list_hash": status.list_hash,
        "read_back": status.read_back,
        "request": status.request,
        "changes": edit.summary if edit is not None else [],
        "provider": provider,
        "warnings": status.warnings,
        "dry_run": params.dry_run,
    }


@handles(RemoveKeyParams)
def remove_key(params: RemoveKeyParams) -> Reply:
    return _write(
        params,
        "providers.remove_key",
        lambda before: manage.remove_key(params.list, before, params.entry_id, params.key_id),
    )


@handles(SetDisabledParams)
def set_disabled(params: SetDisabledParams) -> Reply:
    operation = "providers.disable" if params.disabled else "providers.enable"
    return _write(
        params,
        operation,
        lambda before: manage.set_disabled(params.list, before, params.entry_id, params.disabled),
    )


@handles(DeleteParams)
def delete(params: DeleteParams) -> Reply:
    return _write(
        params,
        "providers.delete",
        lambda before: manage.delete(params.list, before, params.entry_id),
    )


@handles(SetModelsParams)
def set_models(params: SetModelsParams) -> Reply:
    models = []
    for i, row in enumerate(params.models):
        name = clean_text(row.name, f"params.models.{i}.name", max_len=300)
        if not name:
            raise BridgeError(
                ErrorCode.INVALID_REQUEST,
                f"'params.models.{i}.name' is empty",
                field=f"params.models.{i}.name",
            )
        alias = clean_text(row.alias or "", f"params.models.{i}.alias", max_len=300) or name
        models.append(Model(name, alias))
    models = list(dict.fromkeys(models))
    return _write(
        params,
        "providers.set_models",
        lambda before: manage.set_models(params.list, before, params.entry_id, models),
    )


@handles(DriftParams)
def drift(params: DriftParams) -> Reply:
    names = _list_names(params.list)
    targets = fanout.target_names(params.targets if params.targets is not None else "all", None)
    read = fanout.run(targets, lambda name: _read_lists(name, names))
    lists_by_target = {
        r["result"]["target"]: r["result"]["lists"] for r in read["results"] if r["ok"]
    }
    result = manage.drift(lists_by_target, names, include_in_sync=params.include_in_sync)
    errors = [{"target": r["target"], "error": r["error"]} for r in read["results"] if not r["ok"]]
    warnings = []
    if errors:
        warnings.append(
            Notice(
                W.TARGETS_NOT_READ,
                f"{len(errors)} target(s) could not be read and are not compared",
                count=len(errors),
            )
        )
    if len(lists_by_target) < 2:
        warnings.append(Notice(W.TOO_FEW_TARGETS, "fewer than two targets were compared"))
    return {
        **result,
        "failed_targets": read["failed_targets"],
        "errors": errors,
        "warnings": warnings,
    }


def _sync_target(
    name: str | None, per_list: dict[str, tuple[list[Any], list[str]]], *, dry_run: bool
) -> dict[str, Any]:
    """Copy the missing keys/providers into one target: per list one GET, one write, one read-back."""

    changes = [sync_change(list_name, drafts) for list_name, (drafts, _) in per_list.items()]
    report = engine.write(name, changes, dry_run=dry_run, operation="providers.sync")
    target = report.target
    lists: dict[str, Any] = {}
    summary = {"providers_created": 0, "keys_added": 0, "models_added": 0, "failed": 0}
    first_error: BridgeError | None = None
    for change in changes:
        list_name = change.list_name
        drafts, warnings = per_list[list_name]
        status = report.lists[list_name]
        if isinstance(status, BridgeError):
            first_error = first_error or status
            lists[list_name] = {"action": "failed", "error": status.to_dict()}
            continue
        entry = {**status.public(), "request": status.request, "changes": [], "errors": []}
        entry["warnings"] = list(warnings) + entry["warnings"]
        entry["outcome"] = status.outcome or ("dry_run" if dry_run else "succeeded")
        result = change.merged
        for sd, outcome in zip(drafts, result.outcomes if result else [], strict=False):
            if isinstance(outcome, BridgeError):
                summary["failed"] += 1
                entry["errors"].append(
                    {
                        "provider": outcome.details.get("provider_name") or sd.draft.provider_name,
                        "key_hint": mask(sd.draft.api_key),
                        **outcome.to_dict(),
                    }
                )
                continue
            for item in outcome.changes:
                entry["changes"].append({"provider": outcome.provider_name, **item})
                if item["op"] == "create_provider":
                    summary["providers_created"] += 1
                elif item["op"] == "add_key":
                    summary["keys_added"] += 1
                    if list_name != OPENAI:
                        summary["providers_created"] += 1
                elif item["op"] == "add_models":
                    summary["models_added"] += len(item.get("models", []))
        lists[list_name] = entry
    if first_error is not None:
        raise BridgeError(
            first_error.code,
            first_error.message,
            **{**first_error.details, "target": target, "lists": lists},
        )
    return {"target": target, "lists": lists, "summary": summary, "dry_run": dry_run}


@handles(SyncParams)
def sync(params: SyncParams) -> Reply:
    settings = store.load()
    source = store.require_target(settings, params.from_target)
    if params.to_targets == "all":
        names: list[str | None] = [
            t.name
            for t in settings.targets
            if t.configured and t.name.lower() != source.name.lower()
        ]
        if not names:
            raise BridgeError(
                ErrorCode.NOT_CONFIGURED, "there is no other configured target to sync to"
            )
    else:
        if not params.to_targets:
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, "'to_targets' is empty", field="params.to_targets"
            )
        if any(n.strip().lower() == source.name.lower() for n in params.to_targets):
            raise BridgeError(
                ErrorCode.INVALID_REQUEST,
                f"'{source.name}' is both the source and a destination",
                field="params.to_targets",
            )
        names = fanout.target_names(params.to_targets, None)
    list_names = _list_names(params.list)
    read = _read_lists(source.name, list_names)
    sources = read["lists"]
    if params.entry_ids is not None:
        wanted = set(params.entry_ids)
        sources = {
            name: [item for item in items if manage.entry_id(name, item) in wanted]
            for name, items in sources.items()
        }
        found = {manage.entry_id(name, item) for name, items in sources.items() for item in items}
        if wanted - found:
            missing = sorted(wanted - found)
            raise BridgeError(
                ErrorCode.NOT_FOUND,
                f"{len(missing)} entry id(s) are not on '{read['target']}'",
                entry_id=missing[0][:64],
                target=read["target"],
            )
        sources = {name: items for name, items in sources.items() if items}
    # an empty list some servers lack (xai-api-key on v6) has nothing to copy: don't ask the targets for it
    sources = {name: items for name, items in sources.items() if items or name not in LATER_LISTS}
    per_list = {
        name: manage.sync_drafts(name, items, params.on_name_conflict)
        for name, items in sources.items()
    }
    result = fanout.run(names, lambda name: _sync_target(name, per_list, dry_run=params.dry_run))
    return {**result, "from_target": read["target"], "dry_run": params.dry_run}
