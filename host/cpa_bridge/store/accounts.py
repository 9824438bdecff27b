"""Relay accounts: a site URL, a user id, a system access token and a name, in ``accounts.json`` (0600).

The access token is a secret like the management key: it stays in the host's private
files, is shown masked, never logged and never sent in a reply. The account's keys live
in the key inventory (:mod:`keystore`), in the site whose ``account_id`` names the account.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cpa_bridge.core.redact import mask
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage
from cpa_bridge.store.keystore import new_id


class RelayAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=new_id)
    name: str
    site_url: str
    user_id: int
    access_token: str
    family: str
    site_id: str | None = None
    username: str = ""
    created_at: float = Field(default_factory=time.time)
    refreshed_at: float | None = None
    #: The last refresh's failure (``BridgeError.to_dict()``), cleared by a good refresh.
    last_error: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "site_url": self.site_url,
            "user_id": self.user_id,
            "family": self.family,
            "token_hint": mask(self.access_token),
            "site_id": self.site_id,
            "username": self.username,
            "created_at": self.created_at,
            "refreshed_at": self.refreshed_at,
            "last_error": self.last_error,
        }


class AccountStore(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = 1
    accounts: list[RelayAccount] = Field(default_factory=list)


def accounts_file() -> Path:
    return paths.data_dir() / "accounts.json"


def load() -> AccountStore:
    return storage.load_model(accounts_file(), AccountStore)


def save(value: AccountStore) -> None:
    storage.save_model(accounts_file(), value)


def find(store: AccountStore, wanted: str) -> RelayAccount:
    """An account by id, or by name (case-insensitive) when that is unique."""
    for account in store.accounts:
        if account.id == wanted:
            return account
    named = [a for a in store.accounts if a.name.casefold() == wanted.strip().casefold()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise BridgeError(
            ErrorCode.CONFLICT,
            f"{len(named)} accounts are named '{wanted[:64]}'; use the id",
            account=wanted[:64],
        )
    raise BridgeError(ErrorCode.NOT_FOUND, f"no relay account '{wanted[:64]}'", account=wanted[:64])
