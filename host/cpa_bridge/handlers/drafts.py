"""From ``import`` params to validated :class:`~cpa_bridge.core.merge.Draft` objects.

Everything a user typed is checked here, before any request: URLs (scheme, host,
credentials, link-local), names and keys (no control characters, sane lengths),
model rows and the proxy URL. Errors are ``invalid_request`` / ``invalid_url`` naming
the field, never echoing a key.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from cpa_bridge.core.lists import OPENAI, ListName
from cpa_bridge.core.merge import Draft, Model
from cpa_bridge.core.urls import explicit_base_url, provider_base_url, validate_proxy_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import keystore

ProviderType = ListName


class ModelParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=300)
    alias: str | None = Field(default=None, max_length=300)


class ImportItem(BaseModel):
    """One key to import (the ``import`` params without the run options)."""

    model_config = ConfigDict(extra="forbid")

    site_name: str | None = Field(default=None, max_length=300)
    site_url: str | None = Field(default=None, max_length=2048)
    api_key: str | None = Field(default=None, max_length=4096)
    key_id: str | None = Field(default=None, max_length=64)
    provider_type: ProviderType = OPENAI
    provider_name: str | None = Field(default=None, max_length=300)
    base_url: str | None = Field(default=None, max_length=2048)
    models: list[ModelParam] = Field(default_factory=list, max_length=5000)
    proxy_url: str | None = Field(default=None, max_length=2048)
    on_name_conflict: Literal["fail", "rename", "use_existing"] = "fail"
    prefix: str | None = Field(default=None, max_length=200)
    priority: int | None = None
    weight: int | None = None
    headers: dict[str, str] | None = Field(default=None, max_length=50)


def _invalid(field: str, message: str) -> BridgeError:
    return BridgeError(ErrorCode.INVALID_REQUEST, message, field=field)


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in text)


def clean_text(value: str, field: str, *, max_len: int = 200) -> str:
    text = value.strip()
    if _has_control(text):
        raise _invalid(field, f"'{field}' contains control characters (line breaks, tabs …)")
    if len(text) > max_len:
        raise _invalid(field, f"'{field}' is longer than {max_len} characters")
    return text


def clean_key(value: str, field: str = "api_key") -> str:
    """A key as sent in an HTTP header: printable ASCII, no spaces (refused otherwise, never echoed)."""
    key = value.strip()
    if not key:
        raise _invalid(field, f"'{field}' is empty")
    if not all("!" <= c <= "~" for c in key):
        raise _invalid(
            field, f"'{field}' must be printable ASCII without spaces or control characters"
        )
    return key


def _host_of(url: str) -> str:
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def resolve(
    item: ImportItem,
    *,
    inventory: keystore.Inventory | None = None,
    allow_link_local: bool = False,
    prefix: str = "params",
) -> Draft:
    """Validate one item and derive its provider name and base URL."""
    site_name, site_url, api_key = item.site_name, item.site_url, item.api_key
    if item.key_id:
        site, stored = keystore.find_key(inventory or keystore.load(), item.key_id)
        site_name = site_name if site_name is not None else site.name
        site_url = site_url or site.url
        api_key = api_key or stored.api_key
    if not api_key:
        raise _invalid(
            f"{prefix}.api_key",
            f"no API key: give '{prefix}.api_key', or '{prefix}.key_id' (the id of a stored key)",
        )
    key = clean_key(api_key, f"{prefix}.api_key")
    if item.base_url:
        base_url = explicit_base_url(item.base_url, allow_link_local=allow_link_local)
    elif site_url:
        base_url = provider_base_url(
            item.provider_type, site_url, allow_link_local=allow_link_local
        )
    else:
        raise _invalid(
            f"{prefix}.site_url", f"missing field '{prefix}.site_url' (or '{prefix}.base_url')"
        )
    name = clean_text(item.provider_name or "", f"{prefix}.provider_name") or clean_text(
        site_name or "", f"{prefix}.site_name"
    )
    if not name:
        name = _host_of(site_url or base_url)
    models = []
    for i, row in enumerate(item.models):
        model_name = clean_text(row.name, f"{prefix}.models.{i}.name", max_len=300)
        if not model_name:
            raise _invalid(f"{prefix}.models.{i}.name", f"'{prefix}.models.{i}.name' is empty")
        alias = clean_text(row.alias or "", f"{prefix}.models.{i}.alias", max_len=300) or model_name
        models.append(Model(model_name, alias))
    proxy = validate_proxy_url(item.proxy_url) if item.proxy_url else None
    options = _options(item, prefix)
    return Draft(
        provider_type=item.provider_type,
        provider_name=name,
        base_url=base_url,
        api_key=key,
        models=tuple(dict.fromkeys(models)),
        proxy_url=proxy or None,
        on_name_conflict=item.on_name_conflict,
        **options,
    )


MAX_WEIGHT = 1_000_000
MAX_PRIORITY = 1_000_000
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


def _options(item: ImportItem, prefix: str) -> dict[str, Any]:
    """The provider options the user set, checked: ``prefix``, ``priority``, ``weight``, ``headers``."""
    out: dict[str, Any] = {}
    if item.prefix is not None:
        # CLIProxyAPI trims a prefix and its slashes; a space or an inner "/" would never route
        value = clean_text(item.prefix, f"{prefix}.prefix", max_len=100).strip("/")
        if not value or " " in value or "/" in value:
            raise _invalid(
                f"{prefix}.prefix", f"'{prefix}.prefix' must be one word without spaces or '/'"
            )
        out["prefix"] = value
    if item.priority is not None:
        if isinstance(item.priority, bool) or not -MAX_PRIORITY <= item.priority <= MAX_PRIORITY:
            raise _invalid(
                f"{prefix}.priority",
                f"'{prefix}.priority' must be a whole number from "
                f"-{MAX_PRIORITY} to {MAX_PRIORITY}",
            )
        out["priority"] = item.priority
    if item.weight is not None:
        if isinstance(item.weight, bool) or not 1 <= item.weight <= MAX_WEIGHT:
            raise _invalid(
                f"{prefix}.weight",
                f"'{prefix}.weight' must be a whole number from 1 to {MAX_WEIGHT}",
            )
        out["weight"] = item.weight
    headers = []
    for name, value in (item.headers or {}).items():
        clean_name = name.strip()
        if not _HEADER_NAME.match(clean_name):
            raise _invalid(
                f"{prefix}.headers",
                f"'{prefix}.headers' has a header name that is not a valid HTTP token",
            )
        if _has_control(value) or len(value) > 4096:
            raise _invalid(
                f"{prefix}.headers",
                f"the value of header '{clean_name}' contains control characters or is too long",
            )
        headers.append((clean_name, value.strip()))
    if headers:
        out["headers"] = tuple(headers)
    return out
