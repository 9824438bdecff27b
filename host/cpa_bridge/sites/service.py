"""Relay accounts at work: add (detect, verify, fetch), refresh, reveal on demand, key checks.

The steps that touch a site live here, so the ``accounts.*`` and ``keys.*`` handlers and the
import path share them. Nothing is saved unless the site answered well.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cpa_bridge.cliproxyapi.session import timeouts
from cpa_bridge.core.lists import OPENAI
from cpa_bridge.core.urls import check_address, comparable_url, parse_http_url, provider_base_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.sites import families, tokens
from cpa_bridge.sites.models import fetch_models
from cpa_bridge.sites.relay import Listing, RelayClient
from cpa_bridge.store import accounts, keystore
from cpa_bridge.store import settings as store


def _timeout() -> float:
    return timeouts()[1]


def site_url(url: str) -> str:
    parts = parse_http_url(url, "site URL")
    check_address(parts, store.load().allow_link_local, url)
    return url.strip().rstrip("/")


def _relay(url: str, user_id: int, access_token: str) -> RelayClient:
    return RelayClient(
        url,
        user_id,
        access_token,
        timeout=_timeout(),
        allow_link_local=store.load().allow_link_local,
    )


def client(account: accounts.RelayAccount) -> RelayClient:
    return _relay(site_url(account.site_url), account.user_id, account.access_token)


def _reveal(
    relay: RelayClient, fam: families.Family, ids: list[int], warnings: list[str]
) -> dict[int, str]:
    """Batch-reveal masked keys; a rate limit or a missing route leaves them masked with a warning."""
    if not ids or not fam.can_reveal:
        return {}
    try:
        return relay.reveal(fam, ids)
    except BridgeError as exc:
        if exc.code in (ErrorCode.RELAY_RATE_LIMITED, ErrorCode.RELAY_FAMILY_MISMATCH):
            warnings.append(
                f"{len(ids)} key(s) stay masked for now ({exc.message}); each is revealed when "
                "it is imported, checked or copied"
            )
            return {}
        raise


@dataclass
class Fetched:
    """What one account's site said: the listing and the keys revealed (no inventory change yet)."""

    listing: Listing
    revealed: dict[int, str]
    warnings: list[str]
    requests_sent: int


def fetch_tokens(
    account: accounts.RelayAccount, site: keystore.Site, relay: RelayClient
) -> Fetched:
    """List every token (all pages), reveal the masked keys not known in full yet (one call per 100).

    ``site`` is only read (which keys are known); nothing is changed or saved here.
    """
    fam = families.family(account.family)
    listing = relay.list_tokens(fam)
    still_masked = tokens.masked_ids(site)
    known = {k.remote.get("remote_id") for k in site.keys if k.remote}
    masked = [
        t["id"]
        for t in listing.tokens
        if isinstance(t.get("key"), str)
        and families.is_masked(t["key"])
        and (t["id"] in still_masked or t["id"] not in known)
    ]
    warnings = list(listing.warnings)
    revealed = _reveal(relay, fam, masked, warnings)
    return Fetched(listing, revealed, warnings, relay.requests_sent)


def fold(
    account: accounts.RelayAccount, inventory: keystore.Inventory, fetched: Fetched
) -> tuple[keystore.Site, dict[str, Any]]:
    """Apply a fetch to the account's site in ``inventory`` (pure; the caller saves)."""
    site = site_for(inventory, account)
    listing = fetched.listing
    summary = tokens.apply(
        site, listing.tokens, fetched.revealed, time.time(), complete=not listing.truncated
    )
    return site, {
        **summary,
        "pages": listing.pages,
        "truncated": listing.truncated,
        "warnings": fetched.warnings,
        "requests_sent": fetched.requests_sent,
    }


def site_for(inventory: keystore.Inventory, account: accounts.RelayAccount) -> keystore.Site:
    """The account's site; a hand-made site at the same URL without an account is adopted."""
    for site in inventory.sites:
        if site.id == account.site_id or site.account_id == account.id:
            return site
    for site in inventory.sites:
        if not site.account_id and comparable_url(site.url) == comparable_url(account.site_url):
            site.account_id = account.id
            account.site_id = site.id
            return site
    site = keystore.Site(name=account.name, url=account.site_url, account_id=account.id)
    inventory.sites.append(site)
    account.site_id = site.id
    return site


def add(
    *, url: str, user_id: int, access_token: str, name: str, family: str, fetch: bool
) -> dict[str, Any]:
    """Detect the family, check token and user id, fetch the keys; save only if all of it worked.

    The same site and user id again updates that account (a new token, name or family).
    """
    url = site_url(url)
    book = accounts.load()
    existing = next(
        (
            a
            for a in book.accounts
            if comparable_url(a.site_url) == comparable_url(url) and a.user_id == user_id
        ),
        None,
    )
    with _relay(url, user_id, access_token) as relay:
        chosen = relay.detect() if family == "auto" else families.family(family).name
        me = relay.whoami(families.family(chosen))
        account = existing or accounts.RelayAccount(
            name="", site_url=url, user_id=user_id, access_token="", family=chosen
        )
        account.name = (
            name
            or (existing.name if existing else "")
            or me["username"]
            or (parse_http_url(url).hostname or url)
        )
        account.access_token, account.family, account.username = (
            access_token,
            chosen,
            me["username"],
        )
        account.last_error = None
        fetched = (
            fetch_tokens(account, site_for(keystore.load(), account), relay) if fetch else None
        )
    inventory = keystore.load()  # read again after the slow part, right before the save
    if fetched is not None:
        site, summary = fold(account, inventory, fetched)
        account.refreshed_at = time.time()
    else:
        site, summary = site_for(inventory, account), None
    if existing is None:
        book.accounts.append(account)
    keystore.save(inventory)
    accounts.save(book)
    return {
        "account": account.public(),
        "site": site.public(),
        "refresh": summary,
        "updated": existing is not None,
    }


def refresh(account: accounts.RelayAccount) -> dict[str, Any]:
    """One account: fetch from its site, then fold into the key inventory and save it.

    The inventory is read again after the network part, so a slow site never holds an old
    copy that would overwrite edits made meanwhile. The caller saves ``account`` (its
    ``last_error`` keeps a failure).
    """
    try:
        with client(account) as relay:
            if account.family == "auto":  # from a backup: detect, and check token and user id once
                family = relay.detect()
                account.username = relay.whoami(families.family(family))["username"]
                account.family = family
            fetched = fetch_tokens(account, site_for(keystore.load(), account), relay)
    except BridgeError as exc:
        account.last_error = exc.to_dict()
        raise
    inventory = keystore.load()
    site, summary = fold(account, inventory, fetched)
    keystore.save(inventory)
    account.refreshed_at, account.last_error = time.time(), None
    return {"account": account.public(), "site_id": site.id, **summary}


def ensure_full(inventory: keystore.Inventory, key_ids: list[str]) -> int:
    """Reveal the masked keys among ``key_ids`` (one batch call per account); returns how many.

    The caller saves the inventory. A key that cannot be revealed raises (rate limit, refusal).
    """
    wanted = set(key_ids)
    book: accounts.AccountStore | None = None
    revealed = 0
    for site in inventory.sites:
        masked = tokens.masked_ids(site, wanted)
        if not masked:
            continue
        book = book or accounts.load()
        if not site.account_id:
            raise BridgeError(
                ErrorCode.KEY_UNUSABLE, "this key is masked and its site has no relay account"
            )
        account = accounts.find(book, site.account_id)
        fam = families.family(account.family)
        with client(account) as relay:
            keys = relay.reveal(fam, sorted(masked))
        for rid, key in masked.items():
            if rid not in keys:
                raise BridgeError(
                    ErrorCode.KEY_UNUSABLE,
                    f"the site did not reveal the key '{key.label[:60]}' "
                    "(deleted on the site?); refresh the account",
                    key_id=key.id,
                )
            key.api_key, key.masked = keys[rid], False
            revealed += 1
    return revealed


def check(site: keystore.Site, key: keystore.StoredKey) -> dict[str, Any]:
    """``GET <base>/v1/models`` with the key: valid, rejected (401/403) or unknown."""
    settings = store.load()
    try:
        base = provider_base_url(OPENAI, site.url, allow_link_local=settings.allow_link_local)
        fetch_models(
            base, key.api_key, timeout=_timeout(), allow_link_local=settings.allow_link_local
        )
    except BridgeError as exc:
        return check_result(exc)
    return check_result(None)


def check_result(exc: BridgeError | None) -> dict[str, Any]:
    """A model-list fetch with a key, as a key check: valid, rejected (401/403) or unknown."""
    if exc is None:
        return {"result": "valid", "at": time.time()}
    rejected = exc.code == ErrorCode.UPSTREAM_ERROR and exc.details.get("status") in (401, 403)
    return {
        "result": "rejected" if rejected else "unknown",
        "detail": exc.code.value,
        "at": time.time(),
    }


def prepare_import(
    key_ids: list[str | None], *, allow_unusable: bool, skip_unusable: bool
) -> dict[int, dict[str, Any]]:
    """Before an import of stored keys: refuse (or skip) unusable ones, reveal masked ones.

    ``key_ids`` is per item (None: a typed key). Returns the skipped items by index.
    """
    wanted = [(i, kid) for i, kid in enumerate(key_ids) if kid]
    if not wanted:
        return {}
    inventory = keystore.load()
    skipped: dict[int, dict[str, Any]] = {}
    bad = []
    for index, kid in wanted:
        _, key = keystore.find_key(inventory, kid)
        problem = key.problem()
        if problem and not allow_unusable:
            if skip_unusable:
                skipped[index] = {"index": index, "key_id": kid, "problem": problem}
            else:
                bad.append(
                    {"index": index, "key_id": kid, "label": key.label[:80], "problem": problem}
                )
    if bad:
        first = bad[0]
        raise BridgeError(
            ErrorCode.KEY_UNUSABLE,
            f"{len(bad)} key(s) are not usable (first: '{first['label']}' is {first['problem']}); "
            "nothing was sent. Import anyway with allow_unusable, or skip them.",
            key_id=first["key_id"],
            problem=first["problem"],
            items=bad[:50],
        )
    if ensure_full(inventory, [kid for i, kid in wanted if i not in skipped]):
        keystore.save(inventory)
    return skipped
