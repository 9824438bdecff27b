"""The key inventory: sites (name, base URL) and their API keys, in ``keys.json`` (0600).

It lives in the host so the CLI and the extension see the same keys and the extension
stores no secret. Pure helpers over a :class:`Inventory`; :func:`load`/:func:`save` do I/O.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cpa_bridge.core.redact import mask
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage


def new_id() -> str:
    return secrets.token_hex(6)


class StoredKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    label: str = ""
    api_key: str
    provider_type: str | None = None
    created_at: float = Field(default_factory=time.time)
    #: Keys fetched from a relay account: what the site says (``sites.families.facts``).
    remote: dict[str, Any] | None = None
    #: The site lists this key masked and it was not revealed yet: ``api_key`` is the site's masked form.
    masked: bool = False
    #: The token is no longer on the site (kept, marked, until the user removes it).
    gone: bool = False
    #: The last key check against the site: ``{"result": "valid"|"rejected"|"unknown", "at", "detail"}``.
    check: dict[str, Any] | None = None

    @property
    def usable(self) -> bool:
        if self.gone or (self.check or {}).get("result") == "rejected":
            return False
        return self.remote is None or self.remote.get("status") == "enabled"

    def problem(self) -> str | None:
        """Why the key is not usable ("deleted", "disabled", "expired", "exhausted", "rejected")."""
        if self.gone:
            return "deleted"
        if self.remote is not None and self.remote.get("status") != "enabled":
            return str(self.remote.get("status"))
        if (self.check or {}).get("result") == "rejected":
            return "rejected"
        return None

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "key_hint": mask(self.api_key),
            "provider_type": self.provider_type,
            "created_at": self.created_at,
        }
        if self.remote is not None or self.check is not None:
            out.update(
                remote=self.remote,
                masked=self.masked,
                gone=self.gone,
                check=self.check,
                usable=self.usable,
                problem=self.problem(),
            )
        return out


class Site(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    name: str
    url: str
    notes: str = ""
    keys: list[StoredKey] = Field(default_factory=list)
    created_at: float = Field(default_factory=time.time)
    #: The relay account whose tokens fill this site (``accounts.json``), if any.
    account_id: str | None = None

    def public(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "notes": self.notes,
            "keys": [k.public() for k in self.keys],
        }
        if self.account_id:
            out["account_id"] = self.account_id
        return out


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
    raise BridgeError(
        ErrorCode.NOT_FOUND, f"no site with id '{site_id[:64]}'", site_id=site_id[:64]
    )


def find_key(inventory: Inventory, key_id: str) -> tuple[Site, StoredKey]:
    for site in inventory.sites:
        for key in site.keys:
            if key.id == key_id:
                return site, key
    raise BridgeError(ErrorCode.NOT_FOUND, f"no key with id '{key_id[:64]}'", key_id=key_id[:64])
