"""Provider management: stable ids, describing entries, pure edits of a list, drift, sync.

Pure functions, no I/O (the write path is :func:`cpa_bridge.cliproxyapi.engine.write`). The
page never holds a raw key: it points at things with ids computed here.

* ``entry_id``: a short hash of (list, provider name or api-key, normalised base URL);
  openai-compatibility names count case-insensitively. Two entries with the same id are
  ambiguous: edits refuse them with ``conflict``.
* ``key_id``: a short hash of one api-key.

Writes go by PATCH of the one entry where the server can address it unambiguously
(openai-compatibility: an exact, unique name; key lists: a unique api-key as ``match``
when the field is patchable there), DELETE ``?name=`` for a unique openai-compatibility
name, and otherwise PUT of the whole list. Key lists have no ``disabled`` field: a
key-list entry is disabled by ``*`` in its ``excluded-models``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cpa_bridge.core.edits import Edit, ListChange, Merged, merge_edit, unique_value
from cpa_bridge.core.lists import CLAUDE, CODEX, GEMINI, OPENAI, VERTEX, XAI
from cpa_bridge.core.merge import Draft, MergeResult, Model, NameConflict, mask_secrets, merge
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.core.redact import mask, safe_proxy_url
from cpa_bridge.core.urls import comparable_url, display_url
from cpa_bridge.errors import BridgeError, ErrorCode

#: Fields a PATCH may change, per list (reference section 3.4 and 4).
PATCHABLE: dict[str, frozenset[str]] = {
    OPENAI: frozenset({"disabled", "api-key-entries", "models"}),
    CLAUDE: frozenset({"models", "excluded-models"}),
    GEMINI: frozenset({"excluded-models"}),
    CODEX: frozenset({"models", "excluded-models"}),
    XAI: frozenset({"models", "excluded-models"}),
    VERTEX: frozenset({"models", "excluded-models"}),
}
DISABLE_ALL = "*"
#: Fields ``describe`` shows in their own place (or never: keys, header values).
_SHOWN = frozenset(
    {
        "name",
        "base-url",
        "api-key",
        "api-key-entries",
        "models",
        "headers",
        "excluded-models",
        "disabled",
        "prefix",
        "priority",
        "weight",
        "proxy-url",
        "auth-index",
    }
)


# -- ids ---------------------------------------------------------------------------------
def _short(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:12]


def key_id(api_key: str) -> str:
    """A short, stable id of an api-key (never the key)."""
    return _short("cpa-bridge/key", api_key.strip())


def _ident(list_name: str, item: dict[str, Any]) -> str:
    if list_name == OPENAI:
        return str(item.get("name") or "").strip().casefold()
    return str(item.get("api-key") or "").strip()


def entry_id(list_name: str, item: dict[str, Any]) -> str:
    """A short, stable id of a provider entry: (list, name or api-key, normalised base URL)."""
    return _short(
        "cpa-bridge/entry",
        list_name,
        _ident(list_name, item),
        comparable_url(str(item.get("base-url") or "")),
    )


def keys_of(item: dict[str, Any]) -> list[str]:
    entries = item.get("api-key-entries")
    if isinstance(entries, list):
        return [str(e.get("api-key", "")) for e in entries if isinstance(e, dict)]
    key = item.get("api-key")
    return [key] if isinstance(key, str) else []


def models_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    models = item.get("models")
    return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []


def _model_pair(model: dict[str, Any]) -> tuple[str, str]:
    name = str(model.get("name") or "")
    return name, str(model.get("alias") or "") or name


def _excluded(item: dict[str, Any]) -> list[Any]:
    value = item.get("excluded-models")
    return list(value) if isinstance(value, list) else []


def is_disabled(list_name: str, item: dict[str, Any]) -> bool:
    if list_name == OPENAI:
        return bool(item.get("disabled", False))
    return any(str(m).strip() == DISABLE_ALL for m in _excluded(item))


def label(list_name: str, item: dict[str, Any]) -> str:
    """How a provider is named in messages (no secret)."""
    if list_name == OPENAI:
        return str(item.get("name") or "") or str(item.get("base-url") or "")
    return f"{list_name} {mask(str(item.get('api-key') or ''))} ({item.get('base-url') or 'default upstream'})"


# -- describing --------------------------------------------------------------------------
def summarize(list_name: str, item: dict[str, Any]) -> dict[str, Any]:
    """One row of ``providers.list``: keys masked, with ids."""
    keys = keys_of(item)
    models = models_of(item)
    return {
        "entry_id": entry_id(list_name, item),
        "name": item.get("name"),
        "label": label(list_name, item),
        "base_url": item.get("base-url"),
        "disabled": is_disabled(list_name, item),
        "prefix": item.get("prefix") or None,
        "key_count": len(keys),
        "keys": [mask(k) for k in keys],
        "key_ids": [key_id(k) for k in keys],
        "model_count": len(models),
        "models": [{"name": m.get("name"), "alias": m.get("alias")} for m in models[:200]],
    }


def describe(list_name: str, item: dict[str, Any]) -> dict[str, Any]:
    """``providers.show``: everything but secrets (keys masked, header names only)."""
    if list_name == OPENAI:
        raw = item.get("api-key-entries")
        entries: list[Any] = raw if isinstance(raw, list) else []
        keys = [
            {
                "key_id": key_id(str(e.get("api-key", ""))),
                "key_hint": mask(str(e.get("api-key", ""))),
                "weight": e.get("weight"),
                "proxy_url": safe_proxy_url(e.get("proxy-url")),
            }
            for e in entries
            if isinstance(e, dict)
        ]
    else:
        key = str(item.get("api-key") or "")
        keys = [
            {
                "key_id": key_id(key),
                "key_hint": mask(key),
                "weight": item.get("weight"),
                "proxy_url": safe_proxy_url(item.get("proxy-url")),
            }
        ]
    raw_headers = item.get("headers")
    headers: dict[Any, Any] = raw_headers if isinstance(raw_headers, dict) else {}
    return {
        "entry_id": entry_id(list_name, item),
        "list": list_name,
        "name": item.get("name"),
        "label": label(list_name, item),
        "base_url": item.get("base-url"),
        "disabled": is_disabled(list_name, item),
        "prefix": item.get("prefix") or None,
        "priority": item.get("priority"),
        "key_count": len(keys),
        "keys": keys,
        "model_count": len(models_of(item)),
        "models": copy.deepcopy(models_of(item)),
        "headers": sorted(str(name) for name in headers),
        "excluded_models": [str(m) for m in _excluded(item)],
        "other": mask_secrets({k: v for k, v in item.items() if k not in _SHOWN}),
    }


# -- locating ----------------------------------------------------------------------------
def locate(list_name: str, items: list[dict[str, Any]], wanted: str) -> int:
    """The index of the one entry with id ``wanted``: ``not_found`` if none, ``conflict`` if several."""
    hits = [i for i, item in enumerate(items) if entry_id(list_name, item) == wanted]
    if not hits:
        raise BridgeError(
            ErrorCode.NOT_FOUND,
            f"no provider with id '{wanted[:64]}' in {list_name} (it was changed or removed; reload the list)",
            entry_id=wanted[:64],
            list=list_name,
        )
    if len(hits) > 1:
        raise BridgeError(
            ErrorCode.CONFLICT,
            f"{len(hits)} entries in {list_name} share this id (same name or key, same base URL); "
            "nothing was changed. Make them distinct in CLIProxyAPI first.",
            list=list_name,
            entry_id=wanted,
            expected=1,
            actual=len(hits),
        )
    return hits[0]


# -- edits -------------------------------------------------------------------------------
def _fingerprint(list_name: str, item: dict[str, Any]) -> tuple[Any, ...]:
    """What a read-back must show of an edited entry (stable under the server's normalisation)."""
    return (
        tuple(k.strip() for k in keys_of(item)),
        tuple(_model_pair(m) for m in models_of(item)),
        is_disabled(list_name, item),
    )


def _checker(
    list_name: str, expected: list[dict[str, Any]], wanted: str, what: str
) -> Callable[[list[dict[str, Any]]], list[str]]:
    want = [_fingerprint(list_name, i) for i in expected if entry_id(list_name, i) == wanted]

    def check(after: list[dict[str, Any]]) -> list[str]:
        problems = []
        if len(after) != len(expected):
            problems.append(
                f"CLIProxyAPI now has {len(after)} entries, {len(expected)} were expected"
            )
        got = [_fingerprint(list_name, i) for i in after if entry_id(list_name, i) == wanted]
        if got != want:
            problems.append(f"the list read back does not show the change ({what})")
        return problems

    return check


def _openai_name(items: list[dict[str, Any]], index: int) -> str | None:
    """The name to address ``items[index]`` by (PATCH / DELETE), if exact and unique."""
    return unique_value(items, index, "name")


def _unique_key(items: list[dict[str, Any]], index: int) -> str | None:
    return unique_value(items, index, "api-key")


def _put(
    list_name: str, new: list[dict[str, Any]], changed: Iterable[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {"method": "PUT", "path": list_name, "body": new}
    preview = {
        "method": "PUT",
        "path": list_name,
        "entries": len(new),
        "changed_entries": [mask_secrets(new[i]) for i in changed],
    }
    return request, preview


def _field_request(
    list_name: str,
    before: list[dict[str, Any]],
    index: int,
    new: list[dict[str, Any]],
    fields: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """PATCH ``fields`` of one entry where the server can address it unambiguously, else PUT."""
    if set(fields) <= PATCHABLE[list_name]:
        if list_name == OPENAI:
            name = _openai_name(before, index)
            if name is not None:
                body = {"name": name, "value": fields}
                return (
                    {"method": "PATCH", "path": list_name, "body": body},
                    {"method": "PATCH", "path": list_name, "body": mask_secrets(body)},
                )
        else:
            key = _unique_key(before, index)
            if key is not None:
                body = {"match": key, "value": fields}
                shown = {"match": mask(key), "value": mask_secrets(fields)}
                return (
                    {"method": "PATCH", "path": list_name, "body": body},
                    {"method": "PATCH", "path": list_name, "body": shown},
                )
    return _put(list_name, new, [index])


def _delete_request(
    list_name: str, before: list[dict[str, Any]], index: int, new: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if list_name == OPENAI:
        name = _openai_name(before, index)
        if name is not None:
            request = {"method": "DELETE", "path": list_name, "params": {"name": name}}
            return request, dict(request)
    request, preview = _put(list_name, new, [])
    preview["removed_entry"] = mask_secrets(before[index])
    return request, preview


def _edit(
    list_name: str,
    before: list[dict[str, Any]],
    index: int,
    new: list[dict[str, Any]],
    fields: dict[str, Any] | None,
    summary: list[dict[str, Any]],
    what: str,
    warnings: Sequence[str] = (),
) -> Edit:
    wanted = entry_id(list_name, before[index])
    if fields is None:
        request, preview = _delete_request(list_name, before, index, new)
    else:
        request, preview = _field_request(list_name, before, index, new, fields)
    changed = [] if fields is None else [index]
    return Edit(
        items=new,
        request=request,
        preview=preview,
        summary=summary,
        check=_checker(list_name, new, wanted, what),
        warnings=list(warnings),
        changed=changed,
    )


def delete(list_name: str, before: list[dict[str, Any]], wanted: str) -> Edit:
    """Remove one provider entry (the whole entry, all its keys)."""
    index = locate(list_name, before, wanted)
    item = before[index]
    new = copy.deepcopy(before)
    del new[index]
    summary = [
        {
            "op": "delete_provider",
            "provider": label(list_name, item),
            "base_url": item.get("base-url"),
            "keys": [mask(k) for k in keys_of(item)],
        }
    ]
    return _edit(list_name, before, index, new, None, summary, "provider removed")


def remove_key(list_name: str, before: list[dict[str, Any]], wanted: str, wanted_key: str) -> Edit:
    """Remove one key from an openai-compatibility provider; for a key list, the entry holding it."""
    index = locate(list_name, before, wanted)
    item = before[index]
    keys = keys_of(item)
    matching = [k for k in keys if key_id(k) == wanted_key]
    if not matching:
        raise BridgeError(
            ErrorCode.NOT_FOUND,
            f"'{label(list_name, item)}' has no key with id '{wanted_key[:64]}'",
            key_id=wanted_key[:64],
            entry_id=wanted,
            list=list_name,
        )
    if list_name != OPENAI:
        edit = delete(list_name, before, wanted)
        edit.summary = [
            {
                "op": "remove_key",
                "provider": label(list_name, item),
                "key_hint": mask(matching[0]),
                "entry_removed": True,
            }
        ]
        return edit
    new = copy.deepcopy(before)
    entries = [
        e
        for e in new[index].get("api-key-entries") or []
        if not (isinstance(e, dict) and key_id(str(e.get("api-key", ""))) == wanted_key)
    ]
    new[index]["api-key-entries"] = entries
    warnings = []
    if not entries:
        warnings.append(
            Notice(
                W.PROVIDER_WITHOUT_KEY,
                f"'{label(list_name, item)}' has no key left: CLIProxyAPI "
                "calls it without an Authorization header",
                provider=label(list_name, item),
            )
        )
    summary = [
        {
            "op": "remove_key",
            "provider": label(list_name, item),
            "key_hint": mask(matching[0]),
            "removed": len(keys) - len(entries),
        }
    ]
    return _edit(
        list_name,
        before,
        index,
        new,
        {"api-key-entries": entries},
        summary,
        "key removed",
        warnings,
    )


def set_disabled(
    list_name: str, before: list[dict[str, Any]], wanted: str, disabled: bool
) -> Edit | None:
    """Disable or enable a provider (key lists: ``*`` in excluded-models). None: already so."""
    index = locate(list_name, before, wanted)
    item = before[index]
    if is_disabled(list_name, item) == disabled:
        return None
    new = copy.deepcopy(before)
    if list_name == OPENAI:
        fields: dict[str, Any] = {"disabled": disabled}
        new[index]["disabled"] = disabled
    else:
        excluded = _excluded(item)
        excluded = (
            [*excluded, DISABLE_ALL]
            if disabled
            else [m for m in excluded if str(m).strip() != DISABLE_ALL]
        )
        fields = {"excluded-models": excluded}
        if excluded:
            new[index]["excluded-models"] = excluded
        else:
            new[index].pop("excluded-models", None)
    op = "disable_provider" if disabled else "enable_provider"
    summary = [{"op": op, "provider": label(list_name, item)}]
    return _edit(
        list_name, before, index, new, fields, summary, "disabled" if disabled else "enabled"
    )


def set_models(
    list_name: str, before: list[dict[str, Any]], wanted: str, models: list[Model]
) -> Edit | None:
    """Replace the model mappings; extra fields of a kept model (same name) are kept. None: no change."""
    index = locate(list_name, before, wanted)
    item = before[index]
    existing = models_of(item)
    used: set[int] = set()
    result: list[dict[str, Any]] = []
    for model in models:
        pick = next(
            (
                i
                for i, m in enumerate(existing)
                if i not in used and _model_pair(m) == (model.name, model.alias)
            ),
            None,
        )
        if pick is None:
            pick = next(
                (
                    i
                    for i, m in enumerate(existing)
                    if i not in used and m.get("name") == model.name
                ),
                None,
            )
        if pick is None:
            result.append(model.as_dict())
            continue
        used.add(pick)
        kept = copy.deepcopy(existing[pick])
        if _model_pair(kept) != (model.name, model.alias):
            kept["name"], kept["alias"] = model.name, model.alias
        result.append(kept)
    if result == existing and isinstance(item.get("models"), list):
        return None
    if not result and not existing:
        return None
    new = copy.deepcopy(before)
    new[index]["models"] = result
    before_pairs = {_model_pair(m) for m in existing}
    after_pairs = {_model_pair(m) for m in result}
    summary = [
        {
            "op": "set_models",
            "provider": label(list_name, item),
            "model_count": len(result),
            "added": [{"name": n, "alias": a} for n, a in sorted(after_pairs - before_pairs)][:50],
            "removed": [{"name": n, "alias": a} for n, a in sorted(before_pairs - after_pairs)][
                :50
            ],
        }
    ]
    warnings = []
    if not result and list_name == OPENAI:
        warnings.append(
            Notice(
                W.PROVIDER_WITHOUT_MODELS,
                f"'{label(list_name, item)}' has no models left, so "
                "CLIProxyAPI serves nothing from it",
                provider=label(list_name, item),
            )
        )
    return _edit(
        list_name, before, index, new, {"models": result}, summary, "models replaced", warnings
    )


# -- drift -------------------------------------------------------------------------------
def _group_key(list_name: str, item: dict[str, Any]) -> tuple[str, ...]:
    base = comparable_url(str(item.get("base-url") or ""))
    if list_name == OPENAI:
        return (base,)
    return (str(item.get("api-key") or "").strip(), base)


def drift(
    lists_by_target: dict[str, dict[str, list[dict[str, Any]]]],
    list_names: list[str],
    *,
    include_in_sync: bool = False,
) -> dict[str, Any]:
    """Where targets differ: per list, per provider (openai-compatibility: same normalised base
    URL; key lists: same api-key and base URL), which targets have which keys."""
    targets = list(lists_by_target)
    out: dict[str, list[dict[str, Any]]] = {}
    summary = {
        "targets": len(targets),
        "providers": 0,
        "in_sync": 0,
        "drifted": 0,
        "missing_providers": 0,
        "missing_keys": 0,
    }
    for list_name in list_names:
        groups: dict[tuple[str, ...], dict[str, Any]] = {}
        for target in targets:
            for item in lists_by_target[target].get(list_name, []):
                group = groups.setdefault(
                    _group_key(list_name, item),
                    {
                        "list": list_name,
                        "name": item.get("name"),
                        "label": label(list_name, item),
                        "base_url": item.get("base-url"),
                        "entry_ids": {},
                        "names": {},
                        "keys": {},
                        "models": {},
                    },
                )
                group["entry_ids"].setdefault(target, []).append(entry_id(list_name, item))
                group["names"].setdefault(target, item.get("name"))
                group["models"].setdefault(target, set()).update(
                    _model_pair(m) for m in models_of(item)
                )
                for key in keys_of(item):
                    row = group["keys"].setdefault(
                        key_id(key),
                        {"key_id": key_id(key), "key_hint": mask(key), "present_on": []},
                    )
                    if target not in row["present_on"]:
                        row["present_on"].append(target)
        rows = []
        for group in groups.values():
            present = [t for t in targets if t in group["entry_ids"]]
            missing = [t for t in targets if t not in group["entry_ids"]]
            keys = []
            for row in group["keys"].values():
                row["missing_on"] = [t for t in targets if t not in row["present_on"]]
                keys.append(row)
            model_sets = list(group["models"].values())
            models_differ = any(s != model_sets[0] for s in model_sets)
            in_sync = not missing and all(not row["missing_on"] for row in keys)
            summary["providers"] += 1
            summary["in_sync" if in_sync else "drifted"] += 1
            summary["missing_providers"] += len(missing)
            summary["missing_keys"] += sum(len(row["missing_on"]) for row in keys)
            if in_sync and not include_in_sync:
                continue
            rows.append(
                {
                    "list": list_name,
                    "name": group["name"],
                    "label": group["label"],
                    "base_url": group["base_url"],
                    "entry_ids": {
                        t: ids[0] if len(ids) == 1 else ids for t, ids in group["entry_ids"].items()
                    },
                    "names": group["names"],
                    "present_on": present,
                    "missing_on": missing,
                    "keys": keys,
                    "models_differ": models_differ,
                    "in_sync": in_sync,
                }
            )
        out[list_name] = rows
    return {"targets": targets, "lists": out, "summary": summary}


# -- sync --------------------------------------------------------------------------------
@dataclass
class SyncDraft:
    draft: Draft
    #: the source entry (for settings of a new provider, key weights, model extras)
    source: dict[str, Any]


def sync_drafts(
    list_name: str, source: list[dict[str, Any]], on_name_conflict: NameConflict = "fail"
) -> tuple[list[SyncDraft], list[str]]:
    """Import drafts that copy every key of ``source`` (name, base URL, key, its proxy, models)."""
    out: list[SyncDraft] = []
    warnings: list[str] = []
    for item in source:
        base = str(item.get("base-url") or "").strip()
        models = tuple(
            dict.fromkeys(Model(*_model_pair(m)) for m in models_of(item) if _model_pair(m)[0])
        )
        if list_name == OPENAI:
            entries = [
                e
                for e in item.get("api-key-entries") or []
                if isinstance(e, dict) and str(e.get("api-key") or "").strip()
            ]
            if not entries:
                warnings.append(
                    Notice(
                        W.SYNC_SKIPPED_NO_KEY,
                        f"'{label(list_name, item)}' has no key on the source and is not copied",
                        provider=label(list_name, item),
                    )
                )
                continue
            name = str(item.get("name") or "").strip() or display_url(base)
            for entry in entries:
                out.append(
                    SyncDraft(
                        Draft(
                            OPENAI,
                            name,
                            base,
                            str(entry["api-key"]).strip(),
                            models,
                            str(entry.get("proxy-url") or "") or None,
                            on_name_conflict=on_name_conflict,
                        ),
                        item,
                    )
                )
        else:
            key = str(item.get("api-key") or "").strip()
            if not key:
                warnings.append(
                    Notice(
                        W.SYNC_SKIPPED_NO_KEY,
                        f"an entry of {list_name} at "
                        f"{base or 'the default upstream'} has no key; not copied",
                        provider=base or list_name,
                    )
                )
                continue
            out.append(
                SyncDraft(
                    Draft(
                        list_name,
                        list_name,
                        base,
                        key,
                        models,
                        str(item.get("proxy-url") or "") or None,
                    ),
                    item,
                )
            )
    return out, warnings


_NEW_ENTRY_OWN = frozenset(
    {"name", "base-url", "api-key", "api-key-entries", "models", "proxy-url"}
)


def _source_key_entries(drafts: list[SyncDraft]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for sd in drafts:
        for e in sd.source.get("api-key-entries") or []:
            if isinstance(e, dict) and str(e.get("api-key") or "").strip() == sd.draft.api_key:
                out.setdefault(sd.draft.api_key, e)
    return out


def sync_merge(
    list_name: str, before: list[dict[str, Any]], drafts: list[SyncDraft]
) -> MergeResult:
    """Merge the drafts (never deleting), then give new entries the source's other settings
    (prefix, headers, disabled, excluded-models …) and added keys their source weight / proxy."""
    result = merge(before, [sd.draft for sd in drafts])
    source_keys = _source_key_entries(drafts)
    source_models: dict[tuple[str, str], dict[str, Any]] = {}
    for sd in drafts:
        for m in models_of(sd.source):
            source_models.setdefault(_model_pair(m), m)
    created_from: dict[int, dict[str, Any]] = {}
    for sd, outcome in zip(drafts, result.outcomes, strict=False):
        if not isinstance(outcome, BridgeError) and outcome.index in result.created:
            created_from.setdefault(outcome.index, sd.source)
    for index in sorted(result.touched | result.created):
        entry = result.items[index]
        old_keys = set(keys_of(before[index])) if index < len(before) else set()
        if list_name == OPENAI and isinstance(entry.get("api-key-entries"), list):
            entry["api-key-entries"] = [
                copy.deepcopy(source_keys[e["api-key"]])
                if isinstance(e, dict)
                and e.get("api-key") not in old_keys
                and e.get("api-key") in source_keys
                else e
                for e in entry["api-key-entries"]
            ]
        old_pairs = (
            {_model_pair(m) for m in models_of(before[index])} if index < len(before) else set()
        )
        if isinstance(entry.get("models"), list):
            entry["models"] = [
                copy.deepcopy(source_models[_model_pair(m)])
                if _model_pair(m) not in old_pairs and _model_pair(m) in source_models
                else m
                for m in entry["models"]
            ]
        if index in created_from:
            extra = {
                k: copy.deepcopy(v)
                for k, v in created_from[index].items()
                if k not in _NEW_ENTRY_OWN
            }
            entry.update(extra)
    return result


# -- clean-up of dead keys ---------------------------------------------------------------
def holders(
    list_name: str, items: list[dict[str, Any]], api_keys: set[str]
) -> list[dict[str, Any]]:
    """The entries of a list holding any of ``api_keys``: entry id, label and which keys (by key id)."""
    found = []
    for item in items:
        held = [k for k in keys_of(item) if k.strip() in api_keys]
        if held:
            found.append(
                {
                    "list": list_name,
                    "entry_id": entry_id(list_name, item),
                    "provider": label(list_name, item),
                    "key_ids": sorted({key_id(k) for k in held}),
                }
            )
    return found


def remove_keys(list_name: str, before: list[dict[str, Any]], api_keys: set[str]) -> Edit | None:
    """Remove every one of ``api_keys`` from a list in one write (None: the list holds none).

    openai-compatibility: the keys leave each provider's ``api-key-entries`` (the provider stays);
    key lists: the entries holding them are removed. One PUT of the whole list, checked on read-back.
    """
    if not holders(list_name, before, api_keys):
        return None
    new: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    warnings: list[str] = []
    changed: list[int] = []
    for item in before:
        held = [k for k in keys_of(item) if k.strip() in api_keys]
        if not held:
            new.append(copy.deepcopy(item))
            continue
        if list_name != OPENAI:
            summary.append(
                {
                    "op": "remove_key",
                    "provider": label(list_name, item),
                    "key_hint": mask(held[0]),
                    "entry_removed": True,
                }
            )
            continue
        kept = copy.deepcopy(item)
        kept["api-key-entries"] = [
            e
            for e in kept.get("api-key-entries") or []
            if not (isinstance(e, dict) and str(e.get("api-key", "")).strip() in api_keys)
        ]
        if not kept["api-key-entries"]:
            warnings.append(
                f"'{label(list_name, item)}' has no key left: CLIProxyAPI calls it without an "
                "Authorization header"
            )
        summary.append(
            {
                "op": "remove_key",
                "provider": label(list_name, item),
                "key_hints": [mask(k) for k in held],
                "removed": len(held),
            }
        )
        changed.append(len(new))
        new.append(kept)
    request, preview = _put(list_name, new, changed)
    expected = len(new)

    def check(after: list[dict[str, Any]]) -> list[str]:
        problems = []
        if len(after) != expected:
            problems.append(f"CLIProxyAPI now has {len(after)} entries, {expected} were expected")
        if holders(list_name, after, api_keys):
            problems.append("the list read back still holds a removed key")
        return problems

    return Edit(
        items=new,
        request=request,
        preview=preview,
        summary=summary,
        check=check,
        warnings=warnings,
        changed=changed,
    )


def sync_change(list_name: str, drafts: list[SyncDraft]) -> ListChange:
    """The write of a sync: copy the missing keys and providers of ``drafts`` into ``list_name``."""
    slot = Merged()

    def build(before: list[dict[str, Any]]) -> Edit | None:
        slot.result = merged = sync_merge(list_name, before, drafts)
        return merge_edit(list_name, before, merged, [sd.draft for sd in drafts])

    return ListChange(list_name, build, slot=slot)
