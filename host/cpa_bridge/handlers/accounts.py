"""``accounts.*`` (relay accounts: add, list, refresh, remove, stale keys, clean-up) and ``keys.check``.

Site calls go through :mod:`cpa_bridge.sites.service`; every removal from CLIProxyAPI goes
through the safe write path (:func:`cpa_bridge.engine.apply_edit`: lock, re-read, backup,
write, read back) and can be undone with ``history.undo``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cpa_bridge.cliproxyapi import fanout
from cpa_bridge.core import manage
from cpa_bridge.core.edits import Builder, ListChange
from cpa_bridge.core.lists import PROVIDER_LISTS
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.handlers.drafts import clean_key, clean_text
from cpa_bridge.store import accounts, keystore
from cpa_bridge.wire.dispatch import handles
from cpa_bridge.wire.params import Params

FamilyParam = Literal["auto", "new-api", "one-api", "veloera"]
TargetsParam = list[str] | Literal["all"] | None
KeyIds = list[str]


class AddParams(Params):
    site_url: str = Field(max_length=2048)
    user_id: int = Field(ge=1, le=2**53)
    access_token: str = Field(min_length=1, max_length=4096)
    name: str = Field(default="", max_length=300)
    family: FamilyParam = "auto"
    fetch: bool = True


class AccountParams(Params):
    account: str = Field(min_length=1, max_length=300)


class RemoveParams(AccountParams):
    keep_keys: bool = False


class RefreshParams(Params):
    account: str | None = Field(default=None, max_length=300)


class StaleParams(Params):
    account: str | None = Field(default=None, max_length=300)
    targets: TargetsParam = "all"


class CleanupParams(StaleParams):
    key_ids: KeyIds | None = Field(default=None, max_length=5000)
    dry_run: bool = False


class CheckParams(Params):
    ids: KeyIds = Field(min_length=1, max_length=200)


def _counts(inventory: keystore.Inventory, account: accounts.RelayAccount) -> dict[str, int]:
    site = next((s for s in inventory.sites if s.account_id == account.id), None)
    keys = [k for k in site.keys if k.remote] if site else []
    return {
        "keys": sum(1 for k in keys if not k.gone),
        "usable": sum(1 for k in keys if k.usable),
        "gone": sum(1 for k in keys if k.gone),
        "masked": sum(1 for k in keys if k.masked and not k.gone),
        "unusable": sum(1 for k in keys if not k.usable),
    }


@handles(AddParams)
def add(params: AddParams) -> dict[str, Any]:
    from cpa_bridge.sites import service  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    token = clean_key(params.access_token, "params.access_token")
    name = clean_text(params.name, "params.name")
    return service.add(
        url=params.site_url,
        user_id=params.user_id,
        access_token=token,
        name=name,
        family=params.family,
        fetch=params.fetch,
    )


@handles(None)
def list_(params: None) -> dict[str, Any]:
    inventory = keystore.load()
    return {
        "accounts": [
            {**a.public(), "counts": _counts(inventory, a)} for a in accounts.load().accounts
        ]
    }


@handles(RefreshParams)
def refresh(params: RefreshParams) -> dict[str, Any]:
    """One account (errors raise) or all (each outcome listed; one failing never stops the rest)."""
    from cpa_bridge.sites import service  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    book = accounts.load()
    chosen = [accounts.find(book, params.account)] if params.account else list(book.accounts)
    results: list[dict[str, Any]] = []
    for account in chosen:
        try:
            results.append(
                {
                    "account_id": account.id,
                    "name": account.name,
                    "ok": True,
                    "result": service.refresh(account),
                }
            )
        except BridgeError as exc:
            results.append(
                {
                    "account_id": account.id,
                    "name": account.name,
                    "ok": False,
                    "error": exc.to_dict(),
                }
            )
    accounts.save(book)
    if params.account and not results[0]["ok"]:
        error = results[0]["error"]
        raise BridgeError(ErrorCode(error["code"]), error["message"], **error["details"])
    failed = sum(1 for r in results if not r["ok"])
    return {
        "results": results,
        "summary": {"total": len(results), "succeeded": len(results) - failed, "failed": failed},
    }


@handles(RemoveParams)
def remove(params: RemoveParams) -> dict[str, Any]:
    book = accounts.load()
    account = accounts.find(book, params.account)
    inventory = keystore.load()
    removed_keys = 0
    for site in list(inventory.sites):
        if site.account_id != account.id:
            continue
        site.account_id = None
        if not params.keep_keys:
            kept = [k for k in site.keys if k.remote is None]
            removed_keys += len(site.keys) - len(kept)
            site.keys = kept
            if not kept:
                inventory.sites.remove(site)
    book.accounts.remove(account)
    keystore.save(inventory)
    accounts.save(book)
    return {"removed": account.id, "keys_removed": removed_keys}


# -- dead keys in CLIProxyAPI ------------------------------------------------------------
def _dead_keys(
    account: str | None, key_ids: list[str] | None = None
) -> list[tuple[keystore.Site, keystore.StoredKey]]:
    inventory = keystore.load()
    wanted_account = accounts.find(accounts.load(), account).id if account else None
    found = []
    for site in inventory.sites:
        if not site.account_id or (wanted_account and site.account_id != wanted_account):
            continue
        for key in site.keys:
            if key.problem() and not key.masked and (key_ids is None or key.id in key_ids):
                found.append((site, key))
    return found


def _holders_on(name: str | None, api_keys: set[str]) -> dict[str, Any]:
    from cpa_bridge.cliproxyapi.session import open_client  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    with open_client(name) as client:
        held = []
        for list_name in PROVIDER_LISTS:
            try:
                items = client.get_list(list_name)
            except BridgeError as exc:  # a list this server version lacks (xai on v6) holds nothing
                if exc.details.get("reason") != "no_such_list":
                    raise
                continue
            held.extend(manage.holders(list_name, items, api_keys))
        return {"target": client.target.name, "holders": held}


@handles(StaleParams)
def stale(params: StaleParams) -> dict[str, Any]:
    """Keys the site reports deleted, disabled, expired or exhausted (or rejected), and which
    CLIProxyAPI providers still hold them."""
    dead = _dead_keys(params.account)
    out = [
        {
            "key_id": k.id,
            "label": k.label,
            "key_hint": k.public()["key_hint"],
            "problem": k.problem(),
            "site_id": s.id,
            "site_name": s.name,
            "account_id": s.account_id,
            "held_by": [],
        }
        for s, k in dead
    ]
    if not dead:
        return {"keys": [], "held": 0, "failed_targets": [], "errors": []}
    by_key_id = {manage.key_id(k.api_key): entry for (_, k), entry in zip(dead, out, strict=False)}
    read = fanout.run(
        fanout.target_names(params.targets, None),
        lambda name: _holders_on(name, {k.api_key.strip() for _, k in dead}),
    )
    for r in read["results"]:
        if not r["ok"]:
            continue
        for holder in r["result"]["holders"]:
            for kid in holder["key_ids"]:
                if kid in by_key_id:
                    by_key_id[kid]["held_by"].append(
                        {
                            "target": r["result"]["target"],
                            "list": holder["list"],
                            "entry_id": holder["entry_id"],
                            "provider": holder["provider"],
                        }
                    )
    errors = [{"target": r["target"], "error": r["error"]} for r in read["results"] if not r["ok"]]
    return {
        "keys": out,
        "held": sum(1 for e in out if e["held_by"]),
        "failed_targets": read["failed_targets"],
        "errors": errors,
    }


def _remover(list_name: str, api_keys: set[str]) -> Builder:
    """The builder that removes ``api_keys`` from ``list_name`` as read under the lock."""
    return lambda before: manage.remove_keys(list_name, before, api_keys)


def _cleanup_target(name: str | None, api_keys: set[str], dry_run: bool) -> dict[str, Any]:
    """One target: per list one change on the one write path (lock, re-read, backup, PUT, read back)."""
    from cpa_bridge.cliproxyapi import engine  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    changes = [ListChange(list_name, _remover(list_name, api_keys)) for list_name in PROVIDER_LISTS]
    report = engine.write(name, changes, dry_run=dry_run, operation="accounts.cleanup")
    lists: dict[str, Any] = {}
    for list_name in PROVIDER_LISTS:
        entry = report.lists.get(list_name)
        if isinstance(entry, BridgeError) and entry.details.get("reason") == "no_such_list":
            continue  # this server version has no such list (xai on v6): nothing to clean there
        status = report.one(
            list_name
        )  # a list that failed raises: the fan-out reports this target failed
        if status.edit is not None:
            lists[list_name] = {
                **status.public(),
                "request": status.request,
                "changes": status.edit.summary,
                "outcome": status.outcome or ("dry_run" if dry_run else "succeeded"),
            }
    return {
        "target": report.target,
        "lists": lists,
        "dry_run": dry_run,
        "backup_ids": [v["backup_id"] for v in lists.values() if v.get("backup_id")],
    }


@handles(CleanupParams)
def cleanup(params: CleanupParams) -> dict[str, Any]:
    """Remove the dead keys from every CLIProxyAPI target that holds them (preview with dry_run)."""
    dead = _dead_keys(params.account, params.key_ids)
    if not dead:
        raise BridgeError(
            ErrorCode.NOT_FOUND, "no deleted, disabled, expired or exhausted keys to clean up"
        )
    api_keys = {k.api_key.strip() for _, k in dead}
    result = fanout.run(
        fanout.target_names(params.targets, None),
        lambda name: _cleanup_target(name, api_keys, params.dry_run),
    )
    return {**result, "keys": len(dead), "dry_run": params.dry_run}


# -- key checks ------------------------------------------------------------------------
@handles(CheckParams)
def check_keys(params: CheckParams) -> dict[str, Any]:
    """Test keys against their sites (``GET <base>/v1/models``): valid, rejected or unknown."""
    from cpa_bridge.sites import service  # noqa: PLC0415 (start-up: httpx loads only for network messages)

    inventory = keystore.load()
    pairs = [keystore.find_key(inventory, kid) for kid in dict.fromkeys(params.ids)]
    results: list[dict[str, Any]] = []
    try:
        service.ensure_full(inventory, [k.id for _, k in pairs])
    except BridgeError as exc:
        keystore.save(inventory)
        raise exc
    for site, key in pairs:
        key.check = service.check(site, key)
        results.append({"key_id": key.id, **key.check, "key": key.public()})
    keystore.save(inventory)
    summary = {
        "total": len(results),
        **{
            r: sum(1 for x in results if x["result"] == r) for r in ("valid", "rejected", "unknown")
        },
    }
    return {"results": results, "summary": summary}
