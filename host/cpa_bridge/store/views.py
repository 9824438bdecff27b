"""What ``settings.get``, ``keys.list`` and ``history.list`` return, from plain dicts.

The handlers call these with their models dumped; the CLI's offline commands (``settings
show``, ``targets list``, ``keys list``, ``history``) call them straight on the JSON files, so
they start without pydantic or httpx. A file whose shape only the models can judge raises
:class:`Fallback`, and the CLI takes the handler path, which reports it properly.
"""

from __future__ import annotations

from typing import Any

from cpa_bridge.cliproxyapi import backups
from cpa_bridge.core.redact import mask
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage

DEFAULT_TARGET = "default"


class Fallback(Exception):
    """The file needs the full models (an unexpected type or shape)."""


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """``data[name]`` if it has exactly the type the model declares (no coercion), else ``default``."""
    if name not in data:
        return default
    value = data[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise Fallback(name)
    return value


def _object(path: Any) -> dict[str, Any]:
    data = storage.read_json(path, default={})
    if not isinstance(data, dict):
        raise Fallback(str(path))
    return data


# -- settings -------------------------------------------------------------------------------
def not_configured(target: str) -> BridgeError:
    return BridgeError(
        ErrorCode.NOT_CONFIGURED,
        "CLIProxyAPI is not configured: set the management URL and key in the options page "
        "or with 'cpa-bridge settings set'",
        target=target,
    )


def public_target(target: dict[str, Any], default: bool) -> dict[str, Any]:
    key = _field(target, "management_key", str, "")
    return {
        "name": _field(target, "name", str, DEFAULT_TARGET),
        "management_url": _field(target, "management_url", str, ""),
        "has_key": bool(key),
        "key_hint": mask(key),
        "allow_insecure_http": _field(target, "allow_insecure_http", bool, False),
        "key_rejected": _field(target, "key_rejected", bool, False),
        "default": default,
    }


def _targets(settings: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = _field(settings, "targets", list, [])
    if not all(isinstance(t, dict) for t in targets):
        raise Fallback("targets")
    return targets


def find_target(settings: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    wanted = (name or _field(settings, "default_target", str, DEFAULT_TARGET)).strip().lower()
    return next(
        (t for t in _targets(settings) if str(t.get("name", DEFAULT_TARGET)).lower() == wanted),
        None,
    )


def describe_settings(
    settings: dict[str, Any], warnings: list[str] | None = None
) -> dict[str, Any]:
    """The ``settings.get`` result (``settings.set`` adds ``warnings``)."""
    default_name = _field(settings, "default_target", str, DEFAULT_TARGET)
    default = find_target(settings, None) or {"name": default_name}
    result = public_target(default, default=True)
    result.pop("name")
    result.pop("default")
    result.update(
        target=default.get("name", DEFAULT_TARGET),
        default_target=default_name,
        targets=[
            public_target(
                t, default=str(t.get("name", DEFAULT_TARGET)).lower() == default_name.lower()
            )
            for t in _targets(settings)
        ],
        allow_link_local=_field(settings, "allow_link_local", bool, False),
    )
    if warnings is not None:
        result["warnings"] = warnings
    return result


def settings_get() -> dict[str, Any]:
    return describe_settings(_object(paths.settings_file()))


# -- key inventory --------------------------------------------------------------------------
def public_key(key: dict[str, Any]) -> dict[str, Any]:
    if key.get("remote") is not None or key.get("check") is not None:
        # a relay account's key: its site facts (usable, problem) come from the model
        from cpa_bridge.store.keystore import StoredKey  # noqa: PLC0415 (start-up: pydantic loads only past the offline views)

        return StoredKey.model_validate(key).public()
    return {
        "id": _field(key, "id", str, None),
        "label": _field(key, "label", str, ""),
        "key_hint": mask(_field(key, "api_key", str, None)),
        "provider_type": _field(key, "provider_type", (str, type(None)), None),
        "created_at": _field(key, "created_at", (int, float), None),
    }


def public_site(site: dict[str, Any]) -> dict[str, Any]:
    keys = _field(site, "keys", list, [])
    if not all(isinstance(k, dict) for k in keys):
        raise Fallback("keys")
    return {
        "id": _field(site, "id", str, None),
        "name": _field(site, "name", str, None),
        "url": _field(site, "url", str, None),
        "notes": _field(site, "notes", str, ""),
        "keys": [public_key(k) for k in keys],
        **({"account_id": site["account_id"]} if site.get("account_id") else {}),
    }


def site_matches(site: dict[str, Any], query: str) -> bool:
    q = query.casefold()
    return (
        q in str(site.get("name", "")).casefold()
        or q in str(site.get("url", "")).casefold()
        or any(q in str(k.get("label", "")).casefold() for k in site.get("keys", []))
    )


def list_keys(inventory: dict[str, Any], query: str | None) -> dict[str, Any]:
    """The ``keys.list`` result."""
    sites = _field(inventory, "sites", list, [])
    if not all(isinstance(s, dict) for s in sites):
        raise Fallback("sites")
    wanted = (query or "").strip()
    public = [public_site(s) for s in sites]
    if any(p["id"] is None or p["name"] is None or p["url"] is None for p in public):
        raise Fallback("site fields")  # the model would give ids or refuse the file
    if any(
        k["id"] is None or k["created_at"] is None or k["key_hint"] == ""
        for p in public
        for k in p["keys"]
    ):
        raise Fallback("key fields")
    return {
        "sites": [
            p for p, s in zip(public, sites, strict=False) if not wanted or site_matches(s, wanted)
        ]
    }


def keys_list(query: str | None = None) -> dict[str, Any]:
    return list_keys(_object(paths.keys_file()), query)


# -- history --------------------------------------------------------------------------------
def history(
    settings: dict[str, Any], target: str | None, limit: int, offset: int = 0
) -> dict[str, Any]:
    """The ``history.list`` result: a page of the target's backups, newest first (no list content)."""
    found = find_target(settings, target)
    if found is None and target:
        raise BridgeError(
            ErrorCode.NOT_FOUND, f"no CLIProxyAPI target named '{target}'", target=target
        )
    url = _field(found or {}, "management_url", str, "")
    if found is None or not url or not _field(found, "management_key", str, ""):
        raise not_configured(target or _field(settings, "default_target", str, DEFAULT_TARGET))

    records, total = backups.page(url, limit, offset)
    return {
        "target": found.get("name", DEFAULT_TARGET),
        "entries": [backups.public(r) for r in records],
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
        "total": total,
    }


def history_list(target: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    if (
        not isinstance(limit, int)
        or not 1 <= limit <= 200
        or not isinstance(offset, int)
        or not 0 <= offset <= 10_000
    ):
        raise Fallback("limit")
    return history(_object(paths.settings_file()), target, limit, offset)
