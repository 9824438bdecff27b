"""Provider-list model of the CLIProxyAPI stand-in: schemas, decoding, normalisation and list operations.

Everything here is pure (no I/O, no locks). It mirrors the behaviour described in the
project's CLIProxyAPI Management API reference notes, cited below as "ref section N".

Entries live in two shapes:

* *full*: every schema field present, zero values filled in, as a Go struct would hold it
  after ``encoding/json`` decoding. All normalisation works on this shape.
* *stored*: the full shape with empty values dropped (omitempty), which is what the
  in-memory config and the YAML file hold.

GET output is rendered from the stored shape with the JSON "always emitted" fields added.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

MAX_WEIGHT = 1_000_000
INVALID_BODY = "invalid body"
ITEM_NOT_FOUND = "item not found"

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An HTTP error answer ``{"error": message}`` (ref section 2.1, the error catalogue)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DecodeError(ValueError):
    """A JSON/YAML value does not fit the schema (Go's ``UnmarshalTypeError``)."""


def invalid_body() -> ApiError:
    """The generic ``400 {"error":"invalid body"}`` for any decode failure (ref section 3.3)."""
    return ApiError(400, INVALID_BODY)


# ---------------------------------------------------------------------------------------------
# Schema specs and Go-like decoding
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A string, int or bool field; ``pointer`` fields (``*int``, ``*bool``) keep ``None``."""

    py: type
    pointer: bool = False


@dataclass(frozen=True)
class ListOf:
    """A JSON array (Go slice); null decodes to an empty list."""

    item: Spec


@dataclass(frozen=True)
class StrMap:
    """A ``map[string]string`` such as ``headers``."""


@dataclass(frozen=True)
class RawObject:
    """An object kept verbatim (for example a model's ``thinking``); null is ``None``."""


@dataclass(frozen=True)
class Struct:
    """A Go struct: ``fields`` in output order.

    ``keep`` names the fields stored and written even when empty (no ``omitempty`` in YAML);
    ``json_keep`` adds the fields a GET always emits (ref sections 3.2 and 4).
    """

    fields: Mapping[str, Spec]
    keep: frozenset[str] = frozenset()
    json_keep: frozenset[str] = frozenset()
    pointer: bool = False


Spec = Scalar | ListOf | StrMap | RawObject | Struct

STR = Scalar(str)
INT = Scalar(int)
BOOL = Scalar(bool)
OPT_INT = Scalar(int, pointer=True)
OPT_BOOL = Scalar(bool, pointer=True)
STR_LIST = ListOf(STR)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def zero(spec: Spec) -> Any:
    """The Go zero value of ``spec`` (``None`` for pointers)."""
    if isinstance(spec, Scalar):
        return None if spec.pointer else spec.py()
    if isinstance(spec, ListOf):
        return []
    if isinstance(spec, StrMap):
        return {}
    if isinstance(spec, RawObject):
        return None
    if spec.pointer:
        return None
    return {name: zero(sub) for name, sub in spec.fields.items()}


def match_field(key: str, fields: Mapping[str, Any]) -> str | None:
    """Find the struct field for a JSON key: exact match first, then case-insensitive (encoding/json)."""
    if key in fields:
        return key
    folded = key.casefold()
    for name in fields:
        if name.casefold() == folded:
            return name
    return None


def decode(value: Any, spec: Spec, where: str = "$") -> Any:
    """Decode ``value`` into the full shape of ``spec`` or raise :class:`DecodeError`.

    Mirrors ``encoding/json``: null leaves the zero value, unknown keys are ignored, keys
    match case-insensitively, and any type mismatch fails the whole decode (ref section 3.3).
    """
    if value is None:
        return zero(spec)
    if isinstance(spec, Scalar):
        return _decode_scalar(value, spec, where)
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise DecodeError(f"{where}: expected an array")
        return [decode(item, spec.item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(spec, StrMap):
        if not isinstance(value, dict):
            raise DecodeError(f"{where}: expected an object")
        return {
            str(k): _decode_scalar(v, STR, f"{where}.{k}") if v is not None else ""
            for k, v in value.items()
        }
    if isinstance(spec, RawObject):
        if not isinstance(value, dict):
            raise DecodeError(f"{where}: expected an object")
        return copy.deepcopy(value)
    if not isinstance(value, dict):
        raise DecodeError(f"{where}: expected an object")
    out = {name: zero(sub) for name, sub in spec.fields.items()}
    for key, item in value.items():
        name = match_field(str(key), spec.fields)
        if name is not None:
            out[name] = decode(item, spec.fields[name], f"{where}.{name}")
    return out


def _decode_scalar(value: Any, spec: Scalar, where: str) -> Any:
    """Strict scalar typing: ints must be integral JSON numbers in int64 range, bools real booleans."""
    if spec.py is bool:
        if isinstance(value, bool):
            return value
    elif spec.py is int:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and INT64_MIN <= value <= INT64_MAX
        ):
            return value
    elif isinstance(value, str):
        return value
    raise DecodeError(f"{where}: expected {spec.py.__name__}")


def is_empty(value: Any, spec: Spec) -> bool:
    """What ``omitempty`` omits: nil pointers, zero scalars, empty lists and maps."""
    if value is None:
        return True
    if isinstance(spec, Scalar):
        return False if spec.pointer else value == spec.py()
    if isinstance(spec, (ListOf, StrMap)):
        return len(value) == 0
    return False


def compact(value: Any, spec: Spec, *, for_json: bool = False) -> Any:
    """Full shape -> stored shape (or GET shape when ``for_json``): drop empty, non-kept fields."""
    if isinstance(spec, ListOf):
        return [compact(item, spec.item, for_json=for_json) for item in value or []]
    if not isinstance(spec, Struct) or value is None:
        return copy.deepcopy(value)
    keep = spec.keep | spec.json_keep if for_json else spec.keep
    out: dict[str, Any] = {}
    for name, sub in spec.fields.items():
        item = value.get(name, zero(sub))
        if name in keep and item is None:
            item = [] if isinstance(sub, ListOf) else zero(sub)
        if name in keep or not is_empty(item, sub):
            out[name] = compact(item, sub, for_json=for_json)
    return out


def expand(stored: Mapping[str, Any], spec: Struct) -> dict[str, Any]:
    """Stored shape -> full shape (the stored shape is valid JSON for the schema)."""
    return cast(dict[str, Any], decode(stored, spec))


# ---------------------------------------------------------------------------------------------
# Schemas of the seven lists (ref sections 3.1 and 4)
# ---------------------------------------------------------------------------------------------

MODEL = Struct(
    {
        "name": STR,
        "alias": STR,
        "display-name": STR,
        "max-context-length": INT,
        "force-mapping": BOOL,
        "image": BOOL,
        "input-modalities": STR_LIST,
        "output-modalities": STR_LIST,
        "is-compat": BOOL,
        "thinking": RawObject(),
    },
    keep=frozenset({"name", "alias"}),
)
RULE = Struct({"status": INT, "match": STR_LIST, "match-regexr": STR_LIST, "action": STR})
KEY_ENTRY = Struct(
    {"api-key": STR, "weight": OPT_INT, "proxy-url": STR}, keep=frozenset({"api-key"})
)
CLOAK = Struct(
    {"mode": STR, "strict-mode": BOOL, "sensitive-words": STR_LIST, "cache-user-id": BOOL},
    pointer=True,
)

OPENAI_ENTRY = Struct(
    {
        "name": STR,
        "priority": INT,
        "disabled": BOOL,
        "prefix": STR,
        "base-url": STR,
        "api-key-entries": ListOf(KEY_ENTRY),
        "models": ListOf(MODEL),
        "headers": StrMap(),
        "support-prompt-cache-key": BOOL,
        "disable-cooling": OPT_BOOL,
        "request-retry": OPT_INT,
        "request-scoped-errors": ListOf(RULE),
    },
    keep=frozenset({"name", "base-url"}),
    json_keep=frozenset({"disabled"}),
)


def _key_struct(
    extra: Mapping[str, Spec], json_keep: frozenset[str] = frozenset(), *, rules: bool = True
) -> Struct:
    """Build a key-list entry schema: api-key, priority, weight, prefix, base-url then ``extra``."""
    fields: dict[str, Spec] = {
        "api-key": STR,
        "priority": INT,
        "weight": OPT_INT,
        "prefix": STR,
        "base-url": STR,
    }
    fields.update(extra)
    fields.update({"disable-cooling": OPT_BOOL, "request-retry": OPT_INT})
    if rules:
        fields["request-scoped-errors"] = ListOf(RULE)
    return Struct(fields, keep=frozenset({"api-key"}), json_keep=json_keep)


_COMMON_TAIL: dict[str, Spec] = {
    "proxy-url": STR,
    "models": ListOf(MODEL),
    "headers": StrMap(),
    "excluded-models": STR_LIST,
}
CLAUDE_ENTRY = _key_struct(
    {
        **_COMMON_TAIL,
        "rebuild-mid-system-message": BOOL,
        "cloak": CLOAK,
        "fingerprint-profile": STR,
        "experimental-cch-signing": BOOL,
    },
    json_keep=frozenset({"base-url", "proxy-url", "models"}),
)
GEMINI_ENTRY = _key_struct(_COMMON_TAIL)
CODEX_ENTRY = _key_struct(
    {"websockets": BOOL, "alpha-search": BOOL, **_COMMON_TAIL},
    json_keep=frozenset({"base-url", "proxy-url", "models"}),
)
VERTEX_ENTRY = _key_struct(_COMMON_TAIL, rules=False)

_COMMON_PATCH = (
    "api-key",
    "weight",
    "prefix",
    "base-url",
    "proxy-url",
    "headers",
    "excluded-models",
    "disable-cooling",
    "request-retry",
)


@dataclass(frozen=True)
class ListSpec:
    """One provider list: its name (also the route and YAML key), entry schema, family and PATCH keys.

    ``family`` selects the rules: ``openai`` (ref section 3), ``claude``, ``gemini`` (also
    interactions), ``codex``, ``xai`` and ``vertex`` (ref section 4).
    """

    name: str
    entry: Struct
    family: str
    patchable: tuple[str, ...]
    raw_patch_keys: frozenset[str] = field(
        default_factory=lambda: frozenset({"disable-cooling", "weight"})
    )


LISTS: dict[str, ListSpec] = {
    spec.name: spec
    for spec in (
        ListSpec(
            "openai-compatibility",
            OPENAI_ENTRY,
            "openai",
            (
                "name",
                "prefix",
                "disabled",
                "disable-cooling",
                "base-url",
                "api-key-entries",
                "models",
                "headers",
                "support-prompt-cache-key",
                "request-retry",
                "request-scoped-errors",
            ),
            frozenset({"disable-cooling"}),
        ),
        ListSpec(
            "claude-api-key",
            CLAUDE_ENTRY,
            "claude",
            (
                *_COMMON_PATCH,
                "fingerprint-profile",
                "models",
                "rebuild-mid-system-message",
                "request-scoped-errors",
            ),
        ),
        ListSpec(
            "gemini-api-key", GEMINI_ENTRY, "gemini", (*_COMMON_PATCH, "request-scoped-errors")
        ),
        ListSpec(
            "interactions-api-key",
            GEMINI_ENTRY,
            "gemini",
            (*_COMMON_PATCH, "request-scoped-errors"),
        ),
        ListSpec(
            "codex-api-key",
            CODEX_ENTRY,
            "codex",
            (*_COMMON_PATCH, "alpha-search", "models", "request-scoped-errors"),
        ),
        ListSpec(
            "xai-api-key",
            CODEX_ENTRY,
            "xai",
            (*_COMMON_PATCH, "priority", "websockets", "models", "request-scoped-errors"),
        ),
        ListSpec("vertex-api-key", VERTEX_ENTRY, "vertex", (*_COMMON_PATCH, "models")),
    )
}

# ---------------------------------------------------------------------------------------------
# Normalisation helpers (ref section 3.6) and per-family sanitisation (ref sections 3.3, 4)
# ---------------------------------------------------------------------------------------------


def normalize_prefix(prefix: str) -> str:
    """Trim, strip leading/trailing ``/``; a prefix with an inner ``/`` is cleared (ref section 3.6)."""
    value = prefix.strip().strip("/")
    return "" if "/" in value else value


def normalize_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Trim keys and values, drop pairs with an empty side (ref section 3.6)."""
    out: dict[str, str] = {}
    for key, value in (headers or {}).items():
        key, value = key.strip(), value.strip()
        if key and value:
            out[key] = value
    return out


def normalize_excluded(models: list[str]) -> list[str]:
    """Trim, lower-case, de-duplicate and drop empties (ref section 3.6)."""
    out: list[str] = []
    for item in models:
        value = item.strip().lower()
        if value and value not in out:
            out.append(value)
    return out


def check_weight(weight: int | None) -> str | None:
    """The weight range check (ref section 3.1); returns the error text or ``None``."""
    if weight is not None and weight > MAX_WEIGHT:
        return f"weight must not exceed {MAX_WEIGHT}"
    return None


def _trim(entry: dict[str, Any], *keys: str) -> None:
    for key in keys:
        entry[key] = entry[key].strip()


def _common(entry: dict[str, Any]) -> None:
    """Prefix, headers and excluded-models normalisation shared by the key lists (ref section 3.6)."""
    entry["prefix"] = normalize_prefix(entry["prefix"])
    entry["headers"] = normalize_headers(entry["headers"])
    if "excluded-models" in entry:
        entry["excluded-models"] = normalize_excluded(entry["excluded-models"])


def _models_keep_any(models: list[dict[str, Any]], *, trim: bool) -> list[dict[str, Any]]:
    """Drop models whose name and alias are both empty (claude, codex; ref section 4)."""
    out = []
    for model in models:
        if trim:
            _trim(model, "name", "alias")
        if model["name"].strip() or model["alias"].strip():
            out.append(model)
    return out


def normalize_openai(entry: dict[str, Any]) -> dict[str, Any]:
    """normalize + Sanitize of one openai-compatibility entry (ref section 3.3 steps 1 and 2).

    Trims name and base-url, normalises prefix and headers, trims each api-key; proxy-url and
    models are left as sent and nothing is de-duplicated.
    """
    _trim(entry, "name", "base-url")
    entry["prefix"] = normalize_prefix(entry["prefix"])
    entry["headers"] = normalize_headers(entry["headers"])
    for key_entry in entry["api-key-entries"]:
        _trim(key_entry, "api-key")
    return entry


def normalize_key_entry(family: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Per-entry normalisation of the non-openai lists (ref section 4, "PUT normalisation")."""
    _trim(entry, "api-key", "base-url", "proxy-url")
    _common(entry)
    if family in ("claude", "codex", "xai"):
        entry["models"] = _models_keep_any(entry["models"], trim=family != "claude")
    if family == "xai":
        entry["alpha-search"] = False
    if family == "vertex":
        entry["models"] = [m for m in entry["models"] if m["name"].strip() and m["alias"].strip()]
    return entry


def _gemini_identity(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    """The gemini/interactions de-duplication key: api-key, base-url, proxy-url, prefix, headers."""
    headers = tuple(sorted(entry["headers"].items()))
    return entry["api-key"], entry["base-url"], entry["proxy-url"], entry["prefix"], headers


def sanitize(spec: ListSpec, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalise every full entry and apply the list's drop and de-duplication rules (ref sections 3.3, 4).

    Also used at load time, where vertex entries without an api-key are dropped instead of rejected.
    """
    if spec.family == "openai":
        return [e for e in map(normalize_openai, entries) if e["base-url"]]
    entries = [normalize_key_entry(spec.family, e) for e in entries]
    if spec.family in ("codex", "xai"):
        return [e for e in entries if e["base-url"]]
    if spec.family == "gemini":
        return _dedup([e for e in entries if e["api-key"] or e["base-url"]], _gemini_identity)
    if spec.family == "vertex":
        return _dedup([e for e in entries if e["api-key"]], lambda e: (e["api-key"], e["base-url"]))
    return entries


def _dedup(
    entries: list[dict[str, Any]], identity: Callable[[dict[str, Any]], Any]
) -> list[dict[str, Any]]:
    """Keep the first entry of each identity, in order."""
    seen: set[Any] = set()
    out = []
    for entry in entries:
        key = identity(entry)
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def to_stored(spec: ListSpec, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Full entries -> stored entries."""
    return [compact(e, spec.entry) for e in entries]


def load_list(spec: ListSpec, value: Any) -> list[dict[str, Any]]:
    """Decode and sanitise a list read from the YAML file (LoadConfig's sanitisation, ref section 5).

    Raises :class:`DecodeError` naming the list when the file content does not fit the schema.
    """
    entries = decode(value, ListOf(spec.entry), spec.name)
    stored = to_stored(spec, sanitize(spec, entries))
    if _models_nullable(spec) and isinstance(value, list) and len(value) == len(stored):
        for raw, entry in zip(
            value, stored, strict=False
        ):  # ``models:`` written in the file, even empty, loads as []
            if isinstance(raw, dict) and "models" in raw:
                entry.setdefault("models", [])
    return stored


def _models_nullable(spec: ListSpec) -> bool:
    """claude, codex and xai always emit ``models``: ``null`` for an entry loaded without a ``models:``
    line, ``[]`` once its list has been replaced by a PUT (the real v7 server does so; a PATCH keeps null)."""
    return "models" in spec.entry.json_keep


def mark_written(spec: ListSpec, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries of a list just replaced by a PUT: their ``models`` read back as ``[]``, not null."""
    if _models_nullable(spec):
        for entry in entries:
            entry.setdefault("models", [])
    return entries


# ---------------------------------------------------------------------------------------------
# JSON body parsing
# ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json_strict(raw: bytes) -> Any:
    """``json.Unmarshal``: the whole body must be one JSON value (no NaN, no trailing data)."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_body() from exc


def parse_json_bind(raw: bytes) -> Any:
    """gin's ``ShouldBindJSON``: the first JSON value of the body; trailing data is ignored (ref section 3.4)."""
    try:
        text = raw.decode("utf-8").lstrip()
        value, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_body() from exc


def decode_put_items(raw: bytes, spec: ListSpec) -> list[dict[str, Any]]:
    """A bare array (``null`` clears) or ``{"items":[...]}`` with a non-empty array (ref section 3.3)."""
    document = parse_json_strict(raw)
    try:
        return cast(list[dict[str, Any]], decode(document, ListOf(spec.entry)))
    except DecodeError:
        pass
    try:
        wrapper = decode(document, Struct({"items": ListOf(spec.entry)}))
    except DecodeError as exc:
        raise invalid_body() from exc
    if not wrapper["items"]:
        raise invalid_body()
    return cast(list[dict[str, Any]], wrapper["items"])


# ---------------------------------------------------------------------------------------------
# GET rendering and auth-index (ref sections 3.2, 4 and 8a.5)
# ---------------------------------------------------------------------------------------------


def auth_index(seed: str) -> str:
    """First 16 hex digits of sha256 over a seed, like the real runtime index (ref section 8a.5)."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]


def render_entry(
    spec: ListSpec, stored: Mapping[str, Any], *, with_auth_index: bool = True
) -> dict[str, Any]:
    """One GET item: JSON omitempty rules plus ``auth-index`` (per key entry for openai-compatibility)."""
    out: dict[str, Any] = compact(expand(stored, spec.entry), spec.entry, for_json=True)
    if _models_nullable(spec) and "models" not in stored:
        out["models"] = None
    if not with_auth_index:
        return out
    if spec.family == "openai":
        if out.get("disabled"):
            return out
        base = out["base-url"]
        for key_entry in out.get("api-key-entries", []):
            key_entry["auth-index"] = auth_index(
                f"openai-compatibility:{base}+{key_entry['api-key']}"
            )
        if not out.get("api-key-entries"):
            out["auth-index"] = auth_index(f"openai-compatibility:{out['name']}:{base}")
        return out
    out["auth-index"] = auth_index(f"{spec.name}:{out.get('base-url', '')}+{out['api-key']}")
    return out


def render_list(spec: ListSpec, stored: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The array under ``{"<list>": [...]}``; an empty list renders as ``[]`` (ref section 3.2)."""
    return [render_entry(spec, entry) for entry in stored]


def render_config_list(spec: ListSpec, stored: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A list inside ``GET /config``: no auth-index; openai ``models`` always present (ref sections 1.4, 8a.2)."""
    out = [render_entry(spec, entry, with_auth_index=False) for entry in stored]
    if spec.family == "openai":
        for item in out:
            item.setdefault("models", [])
    return out


# ---------------------------------------------------------------------------------------------
# PUT (ref sections 3.3 and 4)
# ---------------------------------------------------------------------------------------------


def put_list(spec: ListSpec, raw: bytes) -> list[dict[str, Any]]:
    """Validate a PUT body and return the new stored list; raises :class:`ApiError` before any change."""
    items = decode_put_items(raw, spec)
    if spec.family == "openai":
        _validate_openai_put(items)
    else:
        _validate_key_put(spec, items)
    return to_stored(spec, sanitize(spec, items))


def _validate_openai_put(items: list[dict[str, Any]]) -> None:
    """Weights of the kept entries, indexed by the submitted position (ref section 3.3 step 3)."""
    for i, entry in enumerate(items):
        normalize_openai(entry)
        if not entry["base-url"]:
            continue
        for j, key_entry in enumerate(entry["api-key-entries"]):
            problem = check_weight(key_entry["weight"])
            if problem:
                raise ApiError(
                    400, f"openai-compatibility[{i}].api-key-entries[{j}].weight: {problem}"
                )


def _validate_key_put(spec: ListSpec, items: list[dict[str, Any]]) -> None:
    """``<list>[i].weight: ...`` and vertex's ``api-key is required`` (ref section 4)."""
    for i, entry in enumerate(items):
        if spec.family == "vertex" and not entry["api-key"].strip():
            raise ApiError(400, f"vertex-api-key[{i}].api-key is required")
        problem = check_weight(entry["weight"])
        if problem:
            raise ApiError(400, f"{spec.name}[{i}].weight: {problem}")


# ---------------------------------------------------------------------------------------------
# PATCH (ref sections 3.4, 4 and 8a.3-4)
# ---------------------------------------------------------------------------------------------


@dataclass
class PatchRequest:
    """A bound PATCH body: locator, decoded ``value`` fields and the raw fields checked later."""

    index: int | None
    locator: str | None
    values: dict[str, Any]
    raw: dict[str, Any]


def bind_patch(spec: ListSpec, raw_body: bytes) -> PatchRequest:
    """``ShouldBindJSON`` of ``{"index", "name"|"match", "value"}``; type errors and no value -> invalid body."""
    document = parse_json_bind(raw_body)
    locator_key = "name" if spec.family == "openai" else "match"
    envelope_spec = Struct({"index": OPT_INT, locator_key: Scalar(str, pointer=True)})
    if not isinstance(document, dict):
        raise invalid_body()
    try:
        envelope = decode(
            {k: v for k, v in document.items() if match_field(k, {"value": 0}) is None},
            envelope_spec,
        )
    except DecodeError as exc:
        raise invalid_body() from exc
    value_key = next((k for k in document if match_field(k, {"value": 0}) == "value"), None)
    value = document.get(value_key) if value_key is not None else None
    if not isinstance(value, dict):
        raise invalid_body()
    values, raw = _bind_patch_value(spec, value)
    return PatchRequest(envelope["index"], envelope[locator_key], values, raw)


def _bind_patch_value(
    spec: ListSpec, value: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``value`` into typed patchable fields (null = no change) and raw ones; others are ignored."""
    allowed = {name: spec.entry.fields[name] for name in spec.patchable}
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for key, item in value.items():
        name = match_field(key, allowed)
        if name is None:
            continue
        if name in spec.raw_patch_keys:
            raw[name] = item
        elif item is not None:
            try:
                values[name] = decode(item, allowed[name], name)
            except DecodeError as exc:
                raise invalid_body() from exc
    return values, raw


def _raw_patch_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``disable-cooling`` (bool or null) and non-openai ``weight`` (int or null = reset) (ref sections 3.4, 8a.3)."""
    out: dict[str, Any] = {}
    if "disable-cooling" in raw:
        value = raw["disable-cooling"]
        if value is not None and not isinstance(value, bool):
            raise ApiError(400, "disable-cooling must be a boolean or null")
        out["disable-cooling"] = value
    if "weight" in raw:
        value = raw["weight"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ApiError(400, "weight must be an integer")
        problem = check_weight(value)
        if problem:
            raise ApiError(400, problem)
        out["weight"] = value
    return out


def _find_target(
    spec: ListSpec, entries: list[dict[str, Any]], req: PatchRequest, query_base: str | None
) -> int:
    """index first, then name/match; gemini-like lists need a non-empty match (ref sections 3.4, 4, 8a.4)."""
    if req.index is not None and 0 <= req.index < len(entries):
        return req.index
    if req.locator is None:
        raise ApiError(404, ITEM_NOT_FOUND)
    wanted = req.locator.strip()
    field_name = "name" if spec.family == "openai" else "api-key"
    if spec.family in ("gemini", "vertex") and not wanted:
        raise ApiError(404, ITEM_NOT_FOUND)
    hits = [i for i, e in enumerate(entries) if e[field_name] == wanted]
    if spec.family == "gemini":
        if query_base is not None:
            hits = [i for i in hits if entries[i]["base-url"] == query_base.strip()]
        if len(hits) > 1:
            raise ApiError(400, "multiple items match; index is required")
    if not hits:
        raise ApiError(404, ITEM_NOT_FOUND)
    return hits[0]


def patch_list(
    spec: ListSpec, stored: list[dict[str, Any]], raw_body: bytes, query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Apply one PATCH and return the new stored list; raises :class:`ApiError` with nothing changed."""
    req = bind_patch(spec, raw_body)
    entries = [expand(e, spec.entry) for e in stored]
    target = _find_target(spec, entries, req, query.get("base-url"))
    entry = {**entries[target], **req.values, **_raw_patch_fields(req.raw)}
    if spec.family == "openai":
        if not entry["base-url"].strip():
            return to_stored(spec, entries[:target] + entries[target + 1 :])
        for j, key_entry in enumerate(entry["api-key-entries"]):
            problem = check_weight(key_entry["weight"])
            if problem:
                raise ApiError(400, f"api-key-entries[{j}].weight: {problem}")
    entries[target] = entry
    return to_stored(spec, sanitize(spec, entries))


# ---------------------------------------------------------------------------------------------
# DELETE (ref sections 3.5 and 4)
# ---------------------------------------------------------------------------------------------

_LENIENT_INT = re.compile(r"\s*([+-]?\d+)")


def parse_index(text: str | None) -> int | None:
    """``fmt.Sscanf("%d")``: leading digits are enough (``"2abc"`` -> 2)."""
    if text is None:
        return None
    found = _LENIENT_INT.match(text)
    return int(found.group(1)) if found else None


def delete_from_list(
    spec: ListSpec, stored: list[dict[str, Any]], query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Return the stored list after a DELETE; raises :class:`ApiError` for the 400/404 cases."""
    if spec.family == "openai":
        return _delete_openai(stored, query)
    api_key = (query.get("api-key") or "").strip()
    if api_key:
        return _delete_by_key(spec, stored, api_key, query.get("base-url"))
    index = parse_index(query.get("index"))
    if index is not None and 0 <= index < len(stored):
        return stored[:index] + stored[index + 1 :]
    raise ApiError(400, "missing api-key or index")


def _delete_openai(stored: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """``?name=`` removes all exact (untrimmed, case-sensitive) matches, even none; else ``?index=`` (ref 3.5)."""
    name = query.get("name")
    if name:
        return [e for e in stored if e.get("name", "") != name]
    index = parse_index(query.get("index"))
    if index is not None and 0 <= index < len(stored):
        return stored[:index] + stored[index + 1 :]
    raise ApiError(400, "missing name or index")


def _delete_by_key(
    spec: ListSpec, stored: list[dict[str, Any]], api_key: str, base_url: str | None
) -> list[dict[str, Any]]:
    """api-key (+ base-url) deletion; gemini-like lists answer 404 when nothing matched (ref section 4)."""
    hits = [i for i, e in enumerate(stored) if e.get("api-key", "") == api_key]
    if base_url is not None:
        hits = [i for i in hits if stored[i].get("base-url", "") == base_url.strip()]
    elif len(hits) > 1:
        raise ApiError(400, "multiple items match api-key; base-url is required")
    if not hits and spec.family == "gemini":
        raise ApiError(404, ITEM_NOT_FOUND)
    return [e for i, e in enumerate(stored) if i not in hits]


# ---------------------------------------------------------------------------------------------
# /api-keys (ref section 1.4)
# ---------------------------------------------------------------------------------------------


def put_api_keys(raw: bytes) -> list[str]:
    """A bare ``["k"]`` or non-empty ``{"items":[...]}``; values are kept verbatim."""
    document = parse_json_strict(raw)
    try:
        return cast(list[str], decode(document, STR_LIST))
    except DecodeError:
        pass
    try:
        items: list[str] = decode(document, Struct({"items": STR_LIST}))["items"]
    except DecodeError as exc:
        raise invalid_body() from exc
    if not items:
        raise invalid_body()
    return items


def patch_api_keys(keys: list[str], raw: bytes) -> list[str]:
    """``{"index":N,"value":"k"}`` or ``{"old":"a","new":"b"}`` (appends when ``old`` is absent)."""
    document = parse_json_bind(raw)
    schema = Struct(
        {
            "index": OPT_INT,
            "value": Scalar(str, pointer=True),
            "old": Scalar(str, pointer=True),
            "new": Scalar(str, pointer=True),
        }
    )
    try:
        body = decode(document, schema)
    except DecodeError as exc:
        raise invalid_body() from exc
    keys = list(keys)
    if body["index"] is not None and body["value"] is not None and 0 <= body["index"] < len(keys):
        keys[body["index"]] = body["value"]
        return keys
    if body["old"] is not None and body["new"] is not None:
        if body["old"] in keys:
            keys[keys.index(body["old"])] = body["new"]
        else:
            keys.append(body["new"])
        return keys
    raise ApiError(400, "missing fields")


def delete_api_keys(keys: list[str], query: Mapping[str, str]) -> list[str]:
    """``?index=N`` or ``?value=v`` (removes all whose trimmed value equals v)."""
    index = parse_index(query.get("index"))
    if index is not None and 0 <= index < len(keys):
        return keys[:index] + keys[index + 1 :]
    value = query.get("value")
    if value:
        return [k for k in keys if k.strip() != value]
    raise ApiError(400, "missing index or value")
