"""``connection.test`` and ``models.list``."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from cpa_bridge.cliproxyapi.session import open_client, timeouts
from cpa_bridge.core.lists import COUNTED_LISTS, OPENAI
from cpa_bridge.core.manage import keys_of, locate
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.sites.models import fetch_models
from cpa_bridge.sites.service import check_result, ensure_full
from cpa_bridge.store import keystore
from cpa_bridge.store import settings as store
from cpa_bridge.wire.dispatch import Reply, handles
from cpa_bridge.wire.params import Params


class TestParams(Params):
    target: str | None = Field(default=None, max_length=40)


class ModelsParams(Params):
    base_url: str | None = Field(default=None, max_length=2048)
    api_key: str | None = Field(default=None, max_length=4096)
    key_id: str | None = Field(default=None, max_length=64)
    site_url: str | None = Field(default=None, max_length=2048)
    #: An openai-compatibility provider in CLIProxyAPI: its base URL and first key are used.
    entry_id: str | None = Field(default=None, min_length=1, max_length=64)
    target: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _need_key(self) -> ModelsParams:
        if not self.api_key and not self.key_id and not self.entry_id:
            raise ValueError("give api_key, key_id or entry_id")
        return self


def _provider_source(params: ModelsParams) -> tuple[str, str]:
    """Base URL and first key of the openai-compatibility provider ``entry_id`` (never returned)."""
    list_name = OPENAI
    with open_client(params.target) as client:
        items = client.get_list(list_name)
        item = items[locate(list_name, items, params.entry_id or "")]
    keys = [key for key in keys_of(item) if key]
    base_url = item.get("base-url")
    if not keys or not isinstance(base_url, str) or not base_url:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            "this provider has no key or no base URL to ask for models",
            field="params.entry_id",
        )
    return base_url, keys[0]


_RELEASE = re.compile(r"^v?(\d+)\.\d+(?:\.\d+)?\b")


def release_line(version: str | None) -> str | None:
    """``v7`` for ``v7.2.140`` or ``7.2.140``; ``None`` for ``dev`` or no version (source builds)."""
    match = _RELEASE.match((version or "").strip())
    return f"v{match.group(1)}" if match else None


@handles(TestParams)
def test(params: TestParams) -> Reply:
    with open_client(params.target) as client:
        config = client.get_config()
        lists = {}
        for name in COUNTED_LISTS:
            value = config.get(name)
            lists[name] = len(value) if isinstance(value, list) else 0
        line = release_line(client.server_version)
        return {
            "server_version": client.server_version,
            "server_line": line or ("v8" if client.has_v8_api() else None),
            "line_from": "version" if line else "probe",
            "lists": lists,
            "management_url": client.target.management_url,
            "target": client.target.name,
        }


@handles(ModelsParams)
def models_list(params: ModelsParams) -> Reply:
    api_key = params.api_key
    base_url = params.base_url or params.site_url
    inventory = key = None
    if params.entry_id:
        base_url, api_key = _provider_source(params)
    elif params.key_id:
        inventory = keystore.load()
        site, key = keystore.find_key(inventory, params.key_id)
        if key.masked and not api_key:
            ensure_full(inventory, [key.id])
            keystore.save(inventory)
        api_key = api_key or key.api_key
        base_url = base_url or site.url
    if not base_url:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST, "missing field 'params.base_url'", field="params.base_url"
        )
    settings = store.load()
    try:
        result = fetch_models(
            base_url,
            api_key or "",
            timeout=timeouts()[1],
            allow_link_local=settings.allow_link_local,
        )
    except BridgeError as exc:
        if (
            key is not None and key.remote is not None and not params.api_key
        ):  # the key check counts this fetch
            _record(params.key_id, exc)
        raise
    if key is not None and key.remote is not None and not params.api_key:
        _record(params.key_id, None)
    return result


def _record(key_id: str | None, exc: BridgeError | None) -> None:
    """Remember a relay key's check result from the import dialog's model-list fetch (it counts as a check)."""
    inventory = keystore.load()
    _, key = keystore.find_key(inventory, key_id or "")
    key.check = check_result(exc)
    keystore.save(inventory)
