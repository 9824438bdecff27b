"""The merge: a provider list + import drafts → a new list + a description of each change.

Pure functions, no I/O. The input list is never mutated. Rules (PROTOCOL.md, ``import``):

* openai-compatibility: the provider with the same normalised base URL is updated; a
  name-only match (case-insensitive) at another URL is never re-pointed
  (``name_conflict`` unless the draft says ``rename`` or ``use_existing``).
* A key is appended only if absent (exact match); every other field of the provider and
  of the other key entries is kept as it was. New model mappings are added, none dropped.
* claude/gemini/codex lists hold one entry per key: an entry with the same key and base
  URL is the match; otherwise a new entry is appended.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from cpa_bridge.core.lists import CODEX, KEY_LISTS, OPENAI, VERTEX, XAI
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.core.redact import mask, safe_proxy_url
from cpa_bridge.core.urls import comparable_url
from cpa_bridge.errors import BridgeError, ErrorCode

MAX_WEIGHT = 1_000_000

Action = Literal["created", "updated", "unchanged"]

#: What an import does when a provider of that name exists with another base URL.
NameConflict = Literal["fail", "rename", "use_existing"]


@dataclass(frozen=True)
class Model:
    name: str
    alias: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "alias": self.alias}


@dataclass(frozen=True)
class Draft:
    """One key to import, fully resolved and validated."""

    provider_type: str
    provider_name: str
    base_url: str
    api_key: str
    models: tuple[Model, ...] = ()
    proxy_url: str | None = None
    on_name_conflict: NameConflict = "fail"
    #: Models for a new openai-compatibility provider when ``models`` is empty.
    default_models: tuple[Model, ...] | None = None
    #: Options the user set (None = leave as it is): the provider's (an openai-compatibility
    #: provider, or the key's entry in the other lists) ``prefix``, ``priority`` and ``headers``
    #: (added to the existing ones), and the key's ``weight``.
    prefix: str | None = None
    priority: int | None = None
    weight: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def provider_options(self) -> dict[str, Any]:
        """The provider-level options the user set, as CLIProxyAPI fields."""
        out: dict[str, Any] = {}
        if self.prefix is not None:
            out["prefix"] = self.prefix
        if self.priority is not None:
            out["priority"] = self.priority
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    def key_options(self) -> dict[str, Any]:
        """The key-level options the user set."""
        return {"weight": self.weight} if self.weight is not None else {}

    def all_options(self) -> dict[str, Any]:
        return {**self.provider_options(), **self.key_options()}


@dataclass
class Outcome:
    """What one draft did to the list."""

    action: Action
    provider_name: str
    base_url: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    index: int | None = None  # position of the provider in the new list
    warnings: list[str] = field(default_factory=list)


@dataclass
class MergeResult:
    items: list[dict[str, Any]]
    outcomes: list[Outcome | BridgeError]
    touched: set[int] = field(default_factory=set)  # indexes of changed entries in ``items``
    created: set[int] = field(default_factory=set)  # indexes of new entries

    @property
    def changed(self) -> bool:
        return bool(self.touched or self.created)


_EMPTY: tuple[Any, ...] = (None, "", [], {})
#: How an empty field looks in compact JSON (a cheap test before :func:`comparable`'s walk).
_EMPTY_MARKS = (b":null", b':""', b":[]", b":{}")


def comparable(value: Any) -> Any:
    """``value`` with every empty field (``null``, ``""``, ``[]``, ``{}``) left out, recursively.

    CLIProxyAPI itself does not tell these apart from an absent field, and it turns one into
    another on its own: a PUT with ``"models": null`` reads back as ``null`` and, once the
    asynchronous reload has run, as ``[]``; a claude entry without ``proxy-url`` reads back with
    ``"proxy-url": ""``. Hashes and read-back checks compare this form, so the reload never looks
    like someone else's change. Items inside lists are kept (an empty entry is still an entry).
    """
    if isinstance(value, dict):
        return {
            k: comparable(v)
            for k, v in value.items()
            if not any(v == e and type(v) is type(e) for e in _EMPTY)
        }
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def compact_json(items: Any) -> bytes:
    """Compact UTF-8 JSON, keys in the order given: orjson (the same bytes as ``json.dumps(...,
    ensure_ascii=False, separators=(",", ":"))``, ~10× faster); json for what orjson refuses
    (integers beyond 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(items)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )


def list_hash(items: list[dict[str, Any]]) -> str:
    """A hash of a list's content; empty fields (see :func:`comparable`) do not matter.

    The hash of ``comparable(items)``, computed fast: the walk runs only when the compact
    JSON shows an empty field at all. Key order is kept as CLIProxyAPI sends it: every hash
    the host compares is of a list read from the server (or its backup, which keeps the
    order), and the server writes each entry's fields in one fixed order; sorting every key
    of a 10,000-provider list cost 5× the rest of an import.
    """
    raw = compact_json(items)
    if any(mark in raw for mark in _EMPTY_MARKS):
        raw = compact_json(comparable(items))
    return hashlib.sha256(raw).hexdigest()[:32]


def _name_key(name: Any) -> str:
    return str(name or "").strip().casefold()


def unique_name(items: list[dict[str, Any]], wanted: str) -> str:
    taken = {_name_key(item.get("name")) for item in items}
    if _name_key(wanted) not in taken:
        return wanted
    n = 2
    while _name_key(f"{wanted}-{n}") in taken:
        n += 1
    return f"{wanted}-{n}"


def _models_of(entry: dict[str, Any]) -> list[Any]:
    models = entry.get("models")
    return models if isinstance(models, list) else []


def _add_models(entry: dict[str, Any], models: tuple[Model, ...]) -> list[dict[str, str]]:
    """Append model mappings not already present (same name and alias). Returns those added."""
    existing = _models_of(entry)
    seen = {
        (str(m.get("name", "")), str(m.get("alias", "") or m.get("name", "")))
        for m in existing
        if isinstance(m, dict)
    }
    added = [m.as_dict() for m in models if (m.name, m.alias) not in seen]
    if added:
        entry["models"] = list(existing) + added
    return added


def find_by_url(items: list[dict[str, Any]], base_url: str) -> int | None:
    wanted = comparable_url(base_url)
    host = (urlsplit(wanted).hostname or "").lower()
    for i, item in enumerate(items):
        url = str(item.get("base-url", ""))
        # cheap pre-check: equal URLs have equal host names (keeps large lists fast)
        if host in url.lower() and comparable_url(url) == wanted:
            return i
    return None


def _find_by_name(items: list[dict[str, Any]], name: str) -> int | None:
    wanted = _name_key(name)
    for i, item in enumerate(items):
        if _name_key(item.get("name")) == wanted:
            return i
    return None


def _key_entry(draft: Draft) -> dict[str, Any]:
    entry: dict[str, Any] = {"api-key": draft.api_key}
    if draft.proxy_url:
        entry["proxy-url"] = draft.proxy_url
    entry.update(draft.key_options())
    return entry


def _set_options(entry: dict[str, Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Set the options that differ on ``entry`` (headers are added to the existing ones).

    Returns one ``set_option`` change per field set; header values are never shown (they can
    hold credentials), only their names.
    """
    changes = []
    for name, value in options.items():
        if name == "headers":
            headers = entry.get("headers")
            current: dict[str, Any] = headers if isinstance(headers, dict) else {}
            value = {**current, **value}
            if value != current:
                entry["headers"] = value
                changes.append({"op": "set_option", "field": "headers", "value": sorted(value)})
        elif entry.get(name) != value:
            entry[name] = value
            changes.append({"op": "set_option", "field": name, "value": value})
    return changes


def dropped_options(entry: dict[str, Any], options: dict[str, Any]) -> list[str]:
    """The fields of ``options`` that ``entry`` (as read back) does not hold: the server dropped them."""
    missing = []
    for name, value in options.items():
        held = entry.get(name)
        if name == "headers":
            if not isinstance(held, dict) or any(held.get(k) != v for k, v in value.items()):
                missing.append(name)
        elif held != value:
            missing.append(name)
    return missing


def _merge_openai(items: list[dict[str, Any]], draft: Draft, result: MergeResult) -> Outcome:
    index = find_by_url(items, draft.base_url)
    if index is None:
        named = _find_by_name(items, draft.provider_name)
        if named is not None:
            existing_url = str(items[named].get("base-url", ""))
            if draft.on_name_conflict == "use_existing":
                index = named
            elif draft.on_name_conflict == "rename":
                draft = Draft(
                    **{**draft.__dict__, "provider_name": unique_name(items, draft.provider_name)}
                )
            else:
                raise BridgeError(
                    ErrorCode.NAME_CONFLICT,
                    f"a provider named '{items[named].get('name')}' already exists at {existing_url}; "
                    f"it is not re-pointed to {draft.base_url}. Import under a new name, or add the key "
                    "to the existing provider.",
                    provider_name=str(items[named].get("name")),
                    existing_base_url=existing_url,
                    base_url=draft.base_url,
                )
    if index is None:
        models = draft.models or draft.default_models or ()
        entry: dict[str, Any] = {
            "name": draft.provider_name,
            **draft.provider_options(),
            "base-url": draft.base_url,
            "api-key-entries": [_key_entry(draft)],
        }
        if models:
            entry["models"] = [m.as_dict() for m in models]
        items.append(entry)
        new_index = len(items) - 1
        result.created.add(new_index)
        changes: list[dict[str, Any]] = [
            {
                "op": "create_provider",
                "provider_name": draft.provider_name,
                "base_url": draft.base_url,
            },
            {"op": "add_key", "key_hint": mask(draft.api_key)},
        ]
        if models:
            changes.append({"op": "add_models", "models": [m.as_dict() for m in models]})
        changes += [
            {"op": "set_option", "field": k, "value": sorted(v) if k == "headers" else v}
            for k, v in draft.all_options().items()
        ]
        outcome = Outcome("created", draft.provider_name, draft.base_url, changes, new_index)
        if not models:
            outcome.warnings.append(
                Notice(
                    W.PROVIDER_WITHOUT_MODELS,
                    "the new provider has no models, so CLIProxyAPI serves nothing from it yet",
                    provider=draft.provider_name,
                )
            )
        return outcome

    entry = items[index]
    changes = []
    keys = entry.get("api-key-entries")
    key_entries = list(keys) if isinstance(keys, list) else []
    position = next(
        (
            i
            for i, e in enumerate(key_entries)
            if isinstance(e, dict) and e.get("api-key") == draft.api_key
        ),
        None,
    )
    if position is None:
        entry["api-key-entries"] = [*key_entries, _key_entry(draft)]
        changes.append({"op": "add_key", "key_hint": mask(draft.api_key)})
        changes += [
            {"op": "set_option", "field": k, "value": v} for k, v in draft.key_options().items()
        ]
    elif draft.key_options():
        key_entry = dict(key_entries[position])
        key_changes = _set_options(key_entry, draft.key_options())
        if key_changes:
            entry["api-key-entries"] = [
                *key_entries[:position],
                key_entry,
                *key_entries[position + 1 :],
            ]
            changes += key_changes
    changes += _set_options(entry, draft.provider_options())
    added = _add_models(entry, draft.models)
    if added:
        changes.append({"op": "add_models", "models": added})
    if changes and index not in result.created:
        result.touched.add(index)
    name = str(entry.get("name", ""))
    base = str(entry.get("base-url", ""))
    return Outcome("updated" if changes else "unchanged", name, base, changes, index)


def _merge_key_list(items: list[dict[str, Any]], draft: Draft, result: MergeResult) -> Outcome:
    label = f"{draft.provider_type} ({draft.base_url or 'default upstream'})"
    wanted = comparable_url(draft.base_url)
    for index, entry in enumerate(items):
        if (
            entry.get("api-key") == draft.api_key
            and comparable_url(str(entry.get("base-url", "") or "")) == wanted
        ):
            changes = _set_options(entry, draft.all_options())
            added = _add_models(entry, draft.models)
            changes += [{"op": "add_models", "models": added}] if added else []
            if changes and index not in result.created:
                result.touched.add(index)
            return Outcome(
                "updated" if changes else "unchanged", label, draft.base_url, changes, index
            )
    entry = {"api-key": draft.api_key, **draft.all_options(), "base-url": draft.base_url}
    if draft.proxy_url:
        entry["proxy-url"] = draft.proxy_url
    if draft.models:
        entry["models"] = [m.as_dict() for m in draft.models]
    items.append(entry)
    result.created.add(len(items) - 1)
    changes = [{"op": "add_key", "key_hint": mask(draft.api_key), "base_url": draft.base_url}]
    changes += [
        {"op": "set_option", "field": k, "value": sorted(v) if k == "headers" else v}
        for k, v in draft.all_options().items()
    ]
    if draft.models:
        changes.append({"op": "add_models", "models": [m.as_dict() for m in draft.models]})
    return Outcome("created", label, draft.base_url, changes, len(items) - 1)


def merge(items: list[dict[str, Any]], drafts: list[Draft]) -> MergeResult:
    """Apply ``drafts`` in order to a copy of ``items``.

    A draft that cannot be applied (``name_conflict``) yields its error in ``outcomes``
    and changes nothing; later drafts see the changes of earlier ones.
    """
    # A shallow copy per entry is enough: the merge replaces nested lists, never changes them in place.
    result = MergeResult(items=[dict(item) for item in items], outcomes=[])
    for draft in drafts:
        try:
            if draft.provider_type == OPENAI:
                outcome = _merge_openai(result.items, draft, result)
            elif draft.provider_type in KEY_LISTS:
                outcome = _merge_key_list(result.items, draft, result)
            else:
                raise BridgeError(
                    ErrorCode.INVALID_REQUEST, f"unknown provider type '{draft.provider_type}'"
                )
        except BridgeError as exc:
            result.outcomes.append(exc)
            continue
        result.outcomes.append(outcome)
    return result


def _check_weight(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value > MAX_WEIGHT:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST, f"{where}.weight must be an integer ≤ {MAX_WEIGHT}"
        )


def validate_list(list_name: str, items: list[dict[str, Any]], offset: int = 0) -> None:
    """Check a list (or the changed part of one, starting at index ``offset``) before it is
    sent: CLIProxyAPI must accept it and drop nothing.

    (It silently drops openai-compatibility and codex entries with an empty base-url, and
    answers 400 to a wrong type anywhere: both would lose data or fail half-way.)
    """
    if not isinstance(items, list):
        raise BridgeError(ErrorCode.INVALID_REQUEST, f"{list_name} must be a list")
    for i, item in enumerate(items, offset):
        where = f"{list_name}[{i}]"
        if not isinstance(item, dict):
            raise BridgeError(ErrorCode.INVALID_REQUEST, f"{where} is not an object")
        base = item.get("base-url")
        if base is not None and not isinstance(base, str):
            raise BridgeError(ErrorCode.INVALID_REQUEST, f"{where}.base-url is not a string")
        if list_name in (OPENAI, CODEX, XAI) and not str(base or "").strip():
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, f"{where} has an empty base-url and would be dropped"
            )
        if list_name == VERTEX and not str(item.get("api-key") or "").strip():
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, f"{where} has no api-key (vertex-api-key requires one)"
            )
        models = item.get("models")
        if models is not None and not (
            isinstance(models, list)
            and all(isinstance(m, dict) and isinstance(m.get("name", ""), str) for m in models)
        ):
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, f"{where}.models is not a list of {{name, alias}}"
            )
        if list_name == OPENAI:
            if not isinstance(item.get("name", ""), str):
                raise BridgeError(ErrorCode.INVALID_REQUEST, f"{where}.name is not a string")
            entries = item.get("api-key-entries")
            if entries is not None:
                if not isinstance(entries, list):
                    raise BridgeError(
                        ErrorCode.INVALID_REQUEST, f"{where}.api-key-entries is not a list"
                    )
                for j, entry in enumerate(entries):
                    if not isinstance(entry, dict) or not isinstance(entry.get("api-key", ""), str):
                        raise BridgeError(
                            ErrorCode.INVALID_REQUEST, f"{where}.api-key-entries[{j}] is malformed"
                        )
                    _check_weight(entry.get("weight"), f"{where}.api-key-entries[{j}]")
        else:
            if not isinstance(item.get("api-key", ""), str):
                raise BridgeError(ErrorCode.INVALID_REQUEST, f"{where}.api-key is not a string")
            _check_weight(item.get("weight"), where)
    try:
        compact_json(items)
    except (TypeError, ValueError):
        raise BridgeError(
            ErrorCode.INVALID_REQUEST, f"{list_name} is not JSON-serialisable"
        ) from None


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` for previews: every ``api-key`` masked, header values hidden (they may
    carry secrets), proxy-URL credentials hidden."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "api-key" and isinstance(v, str):
                out[k] = mask(v)
            elif k == "headers" and isinstance(v, dict):
                out[k] = dict.fromkeys(v, "…")
            elif k == "proxy-url" and isinstance(v, str):
                out[k] = safe_proxy_url(v)
            else:
                out[k] = mask_secrets(v)
        return out
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def key_present(items: list[dict[str, Any]], draft: Draft) -> bool:
    """Whether ``draft``'s key is in the list at its base URL (read-back check)."""
    wanted = comparable_url(draft.base_url)
    for item in items:
        if draft.provider_type == OPENAI:
            entries = item.get("api-key-entries")
            if isinstance(entries, list) and any(
                isinstance(e, dict) and e.get("api-key") == draft.api_key for e in entries
            ):
                return True
        elif (
            item.get("api-key") == draft.api_key
            and comparable_url(str(item.get("base-url", "") or "")) == wanted
        ):
            return True
    return False


def options_dropped(items: list[dict[str, Any]], draft: Draft) -> list[str]:
    """The options ``draft`` set that the list read back does not hold (the server dropped them)."""
    if not draft.all_options():
        return []
    wanted = comparable_url(draft.base_url)
    for item in items:
        if draft.provider_type == OPENAI:
            entries = item.get("api-key-entries")
            key_entry = (
                next(
                    (
                        e
                        for e in entries
                        if isinstance(e, dict) and e.get("api-key") == draft.api_key
                    ),
                    None,
                )
                if isinstance(entries, list)
                else None
            )
            if key_entry is not None:
                return dropped_options(item, draft.provider_options()) + dropped_options(
                    key_entry, draft.key_options()
                )
        elif (
            item.get("api-key") == draft.api_key
            and comparable_url(str(item.get("base-url", "") or "")) == wanted
        ):
            return dropped_options(item, draft.all_options())
    return []
