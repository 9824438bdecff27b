"""The key inventory: sites (name, base URL) and their API keys, in ``keys.json`` (0600).

It lives in the host so the CLI and the extension see the same keys and the extension
stores no secret. Pure helpers over a :class:`Inventory`; :func:`load`/:func:`save` do I/O.
"""

from __future__ import annotations

import secrets
import time

from pydantic import BaseModel, ConfigDict, Field

from cpa_bridge.store import paths, storage
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import views


def new_id() -> str:
    return secrets.token_hex(6)


class StoredKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    label: str = ""
    api_key: str
    provider_type: str | None = None
    created_at: float = Field(default_factory=time.time)

    def public(self) -> dict:
        return views.public_key(self.model_dump())


class Site(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    name: str
    url: str
    notes: str = ""
    keys: list[StoredKey] = Field(default_factory=list)
    created_at: float = Field(default_factory=time.time)

    def public(self) -> dict:
        return views.public_site(self.model_dump())


class Inventory(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = 1
    sites: list[Site] = Field(default_factory=list)


def load() -> Inventory:
    return storage.load_model(paths.keys_file(), Inventory)


def save(value: Inventory) -> None:
    storage.save_model(paths.keys_file(), value)


def find_site(inventory: Inventory, site_id: str) -> Site:
    for site in inventory.sites:
        if site.id == site_id:
            return site
    raise BridgeError(ErrorCode.NOT_FOUND, f"no site with id '{site_id[:64]}'", site_id=site_id[:64])


def find_key(inventory: Inventory, key_id: str) -> tuple[Site, StoredKey]:
    for site in inventory.sites:
        for key in site.keys:
            if key.id == key_id:
                return site, key
    raise BridgeError(ErrorCode.NOT_FOUND, f"no key with id '{key_id[:64]}'", key_id=key_id[:64])
