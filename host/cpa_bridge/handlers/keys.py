"""The key inventory: ``keys.list``, ``sites.save``/``delete``, ``keys.save``/``delete``/``reveal``,
``keys.import_backup`` (All API Hub backups)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.core.urls import comparable_url, parse_http_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.handlers import backup_formats
from cpa_bridge.handlers.drafts import clean_key, clean_text
from cpa_bridge.sites.families import TOKEN_HINT
from cpa_bridge.store import accounts, keystore, views
from cpa_bridge.wire.dispatch import Reply, handles
from cpa_bridge.wire.params import Params


class ListParams(Params):
    query: str | None = Field(default=None, max_length=200)


class SiteParams(Params):
    id: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=300)
    url: str = Field(max_length=2048)
    notes: str = Field(default="", max_length=2000)


class IdParams(Params):
    id: str = Field(min_length=1, max_length=64)


class KeyParams(Params):
    site_id: str = Field(min_length=1, max_length=64)
    id: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=300)
    api_key: str | None = Field(default=None, max_length=4096)
    provider_type: str | None = Field(default=None, max_length=40)


class BackupParams(Params):
    data: dict[str, Any] | list[Any] | str
    dry_run: bool = False
    #: make the backup's access-token accounts relay accounts (then ``accounts.refresh`` each)
    accounts: bool = False


def _site_url(url: str) -> str:
    parts = parse_http_url(url, "site URL")
    del parts
    return url.strip().rstrip("/")


@handles(ListParams)
def list_(params: ListParams) -> Reply:
    return views.list_keys(keystore.load().model_dump(), params.query)


@handles(SiteParams)
def save_site(params: SiteParams) -> Reply:
    inventory = keystore.load()
    name = clean_text(params.name, "params.name", max_len=200)
    if not name:
        raise BridgeError(ErrorCode.INVALID_REQUEST, "the site needs a name", field="params.name")
    url = _site_url(params.url)
    notes = params.notes.strip()[:2000]
    if params.id:
        site = keystore.find_site(inventory, params.id)
        site.name, site.url, site.notes = name, url, notes
    else:
        site = keystore.Site(name=name, url=url, notes=notes)
        inventory.sites.append(site)
    keystore.save(inventory)
    return {"site": site.public()}


@handles(IdParams)
def delete_site(params: IdParams) -> Reply:
    inventory = keystore.load()
    site = keystore.find_site(inventory, params.id)
    inventory.sites.remove(site)
    keystore.save(inventory)
    return {"deleted": site.id}


@handles(KeyParams)
def save_key(params: KeyParams) -> Reply:
    inventory = keystore.load()
    site = keystore.find_site(inventory, params.site_id)
    label = clean_text(params.label, "params.label")
    api_key = clean_key(params.api_key, "params.api_key") if params.api_key else None
    if params.id:
        owner, key = keystore.find_key(inventory, params.id)
        if owner is not site:
            owner.keys.remove(key)
            site.keys.append(key)
        key.label = label
        if api_key:
            key.api_key = api_key
        if params.provider_type is not None:
            key.provider_type = params.provider_type or None
    else:
        if not api_key:
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, "missing field 'params.api_key'", field="params.api_key"
            )
        if any(k.api_key == api_key for k in site.keys):
            raise BridgeError(
                ErrorCode.CONFLICT, "this site already has that key", field="params.api_key"
            )
        key = keystore.StoredKey(
            label=label, api_key=api_key, provider_type=params.provider_type or None
        )
        site.keys.append(key)
    keystore.save(inventory)
    return {"key": key.public(), "site_id": site.id}


@handles(IdParams)
def delete_key(params: IdParams) -> Reply:
    inventory = keystore.load()
    site, key = keystore.find_key(inventory, params.id)
    site.keys.remove(key)
    keystore.save(inventory)
    return {"deleted": key.id}


@handles(IdParams)
def reveal(params: IdParams) -> Reply:
    inventory = keystore.load()
    _, key = keystore.find_key(inventory, params.id)
    if key.masked:  # a relay key listed masked: ask its site now (one rate-limited call)
        from cpa_bridge.sites.service import ensure_full  # noqa: PLC0415 (start-up: httpx loads only for network messages)

        ensure_full(inventory, [key.id])
        keystore.save(inventory)
    return {"api_key": key.api_key}


@handles(BackupParams)
def import_backup(params: BackupParams) -> Reply:
    data: Any = params.data
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, "the backup file is not valid JSON", field="params.data"
            ) from None
    found, warnings = backup_formats.parse_all_api_hub(data)
    inventory = keystore.load()
    sites_added = keys_added = keys_skipped = 0
    relay, book = _relay_accounts(found, inventory, create=params.accounts and not params.dry_run)
    for entry in found:
        try:
            url = _site_url(entry.url)
            name = clean_text(entry.name, "name") or url
        except BridgeError as exc:
            warnings.append(
                Notice(
                    W.BACKUP_SITE_SKIPPED, f"skipped a site: {exc.message}", error=exc.code.value
                )
            )
            continue
        site = next(
            (s for s in inventory.sites if comparable_url(s.url) == comparable_url(url)), None
        )
        if site is None:
            site = keystore.Site(name=name, url=url)
            inventory.sites.append(site)
            sites_added += 1
        for label, key, provider_type in entry.keys:
            try:
                key = clean_key(key)
            except BridgeError:
                keys_skipped += 1
                continue
            if any(k.api_key == key for k in site.keys):
                keys_skipped += 1
                continue
            site.keys.append(
                keystore.StoredKey(
                    label=clean_text(label, "label")[:200], api_key=key, provider_type=provider_type
                )
            )
            keys_added += 1
    if not found:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            "no sites or keys found: is this an All API Hub backup (Settings → Import/Export → Export)?",
            field="params.data",
        )
    if not params.dry_run:
        keystore.save(inventory)
        if book is not None:
            accounts.save(book)
    return {
        "sites_added": sites_added,
        "keys_added": keys_added,
        "keys_skipped": keys_skipped,
        "warnings": warnings[:50],
        "dry_run": params.dry_run,
        **relay,
    }


def _relay_accounts(
    found: list[backup_formats.FoundSite], inventory: keystore.Inventory, *, create: bool
) -> tuple[dict[str, Any], Any]:
    """The backup's site accounts: with an access token (counted; created when ``create``),
    or cookie-only (listed: they need an access token from the site)."""
    book = accounts.load()
    with_token = [f for f in found if f.account is not None]
    needs_token = [
        {"name": f.name or f.url, "site_url": f.url, "auth_type": f.auth_type, "hint": TOKEN_HINT}
        for f in found
        if f.auth_type in ("cookie", "none")
        or (f.auth_type == "access_token" and f.account is None)
    ]
    added, existing = [], []
    for entry in with_token:
        assert entry.account is not None
        try:
            url = _site_url(entry.url)
        except BridgeError:
            continue
        same = next(
            (
                a
                for a in book.accounts
                if comparable_url(a.site_url) == comparable_url(url)
                and a.user_id == entry.account["user_id"]
            ),
            None,
        )
        if same is not None:
            existing.append({"id": same.id, "name": same.name, "site_url": same.site_url})
            continue
        if not create:
            continue
        account = accounts.RelayAccount(
            name=clean_text(entry.name, "name")[:200] or url,
            site_url=url,
            user_id=entry.account["user_id"],
            family=entry.account["family"],
            access_token=clean_key(entry.account["access_token"], "access_token"),
        )
        from cpa_bridge.sites.service import site_for  # noqa: PLC0415 (start-up: httpx loads only for network messages)

        site_for(inventory, account)
        book.accounts.append(account)
        added.append({"id": account.id, "name": account.name, "site_url": account.site_url})
    out: dict[str, Any] = {
        "accounts_found": len(with_token),
        "accounts_added": added,
        "accounts_existing": existing,
        "needs_access_token": needs_token[:200],
    }
    return out, book if added else None
