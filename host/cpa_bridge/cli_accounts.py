"""``cpa-bridge accounts …`` (relay accounts) and the relay parts of ``keys``: the same handlers as the extension.

The access token is read from stdin or prompted for without echo, never from argv.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from cpa_bridge.cli import _read_secret
from cpa_bridge.errors import BridgeError
from cpa_bridge.wire.dispatch import call


def _call(message_type: str, params: dict[str, Any]) -> dict[str, Any]:
    return call(message_type, {k: v for k, v in params.items() if v is not None})


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "never"


def _show_account(r: dict[str, Any]) -> None:
    a = r["account"]
    print(
        f"added {a['id']}  {a['name']}  ({a['family']}, user {a['user_id']}, token {a['token_hint']})"
    )
    if r.get("refresh"):
        _show_refresh_summary(r["refresh"])


def _show_refresh_summary(s: dict[str, Any]) -> None:
    print(
        f"    {s['total']} tokens ({s['usable']} usable): {s['added']} new, {s['updated']} changed, "
        f"{s['gone']} deleted on the site"
        + (f", {s['masked']} still masked" if s["masked"] else "")
    )
    for warning in s.get("warnings", []):
        print(f"    warning: {warning}")
    if s.get("turned_unusable"):
        print(
            f"    {len(s['turned_unusable'])} key(s) became unusable: `cpa-bridge accounts stale` shows where "
            "CLIProxyAPI still holds them, `cpa-bridge accounts cleanup` removes them (with undo)"
        )


def _show_accounts(r: dict[str, Any]) -> None:
    if not r["accounts"]:
        print(
            "no relay accounts yet: cpa-bridge accounts add --site-url URL --user-id ID  (token on stdin)"
        )
    for a in r["accounts"]:
        c = a["counts"]
        state = f"  error: {a['last_error']['code']}" if a.get("last_error") else ""
        print(
            f"{a['id']}  {a['name']}  {a['site_url']}  {a['family']}  user {a['user_id']}  "
            f"{c['keys']} keys ({c['usable']} usable, {c['gone']} deleted)  refreshed {_when(a['refreshed_at'])}"
            f"{state}"
        )


def _show_refresh(r: dict[str, Any]) -> None:
    for entry in r["results"]:
        if entry["ok"]:
            print(f"{entry['name']}: ok")
            _show_refresh_summary(entry["result"])
        else:
            print(f"{entry['name']}: error [{entry['error']['code']}] {entry['error']['message']}")


def _show_stale(r: dict[str, Any]) -> None:
    if not r["keys"]:
        print("every relay key is usable")
    for k in r["keys"]:
        where = (
            ", ".join(f"{h['target']}/{h['list']}/{h['provider']}" for h in k["held_by"])
            or "not in CLIProxyAPI"
        )
        print(
            f"{k['key_id']}  {k['key_hint']}  {k['label']}  {k['problem']}  ({k['site_name']}): {where}"
        )
    for e in r.get("errors", []):
        print(f"warning: target {e['target']} could not be read: {e['error']['message']}")


def _show_cleanup(r: dict[str, Any]) -> None:
    for t in r["results"]:
        if not t["ok"]:
            print(f"{t['target']}: error [{t['error']['code']}] {t['error']['message']}")
            continue
        res = t["result"]
        if not res["lists"]:
            print(f"{res['target']}: holds none of the {r['keys']} key(s)")
        for name, entry in res["lists"].items():
            removed = sum(c.get("removed", 1) for c in entry["changes"])
            verb = "would remove" if r["dry_run"] else "removed"
            print(
                f"{res['target']}: {verb} {removed} key(s) from {name}"
                + (
                    f"  (undo: cpa-bridge undo {entry['backup_id']} --target {res['target']})"
                    if entry.get("backup_id")
                    else ""
                )
            )


def _show_checks(r: dict[str, Any]) -> None:
    for c in r["results"]:
        print(
            f"{c['key_id']}  {c['key']['key_hint']}  {c['result']}"
            + (f" ({c['detail']})" if c.get("detail") else "")
        )


def _read_token() -> str:
    return _read_secret("System access token: ")


def _add(a: argparse.Namespace) -> dict[str, Any]:
    return _call(
        "accounts.add",
        {
            "site_url": a.site_url,
            "user_id": a.user_id,
            "name": a.name or "",
            "family": a.family,
            "access_token": _read_token(),
            "fetch": not a.no_fetch,
        },
    )


def import_backup(text: str, *, dry_run: bool, accounts: bool | None) -> dict[str, Any]:
    """``keys import-backup``: ask once whether to fetch the accounts' keys, then refresh each (progress on stderr)."""
    preview = _call("keys.import_backup", {"data": text, "dry_run": True})
    found = preview.get("accounts_found", 0)
    if dry_run:
        return preview
    if accounts is None and found and sys.stdin is not None and sys.stdin.isatty():
        answer = input(
            f"Fetch keys from {found} site(s) now (their access tokens are in the backup)? [y/N] "
        )
        accounts = answer.strip().lower() in ("y", "yes")
    result = _call("keys.import_backup", {"data": text, "accounts": bool(accounts)})
    if not accounts and found:
        result["warnings"] = [
            *result["warnings"],
            f"{found} account(s) have an access token: run again with "
            "--accounts to fetch their keys",
        ]
    outcomes = []
    for i, added in enumerate(result.get("accounts_added", []), 1):
        print(
            f"[{i}/{len(result['accounts_added'])}] {added['name']} …", file=sys.stderr, flush=True
        )
        outcomes.append({**added, **_refresh_one(added["id"])})
    result["fetched"] = outcomes
    for need in result.get("needs_access_token", []):
        result["warnings"].append(
            f"{need['name']} ({need['site_url']}) needs an access token: {need['hint']}"
        )
    return result


def _refresh_one(account_id: str) -> dict[str, Any]:
    try:
        outcome = _call("accounts.refresh", {"account": account_id})["results"][0]
        return {"ok": True, "keys": outcome["result"]["total"]}
    except BridgeError as exc:
        return {"ok": False, "error": exc.to_dict()}


def register(
    command: Callable[[str, str], argparse.ArgumentParser], keys_sub: Any
) -> list[argparse.ArgumentParser]:
    """Add ``accounts …`` and ``keys check``; returns the parsers that take ``--json``."""
    accounts = command(
        "accounts", "relay accounts: fetch your keys from New API / One API / Veloera sites"
    )
    asub = accounts.add_subparsers(dest="action", required=True)
    add = asub.add_parser(
        "add", help="add a relay account (the system access token is read from stdin)"
    )
    add.add_argument("--site-url", required=True)
    add.add_argument("--user-id", required=True, type=int)
    add.add_argument("--name")
    add.add_argument("--family", choices=["auto", "new-api", "one-api", "veloera"], default="auto")
    add.add_argument(
        "--no-fetch", action="store_true", help="only check the account, fetch the keys later"
    )
    add.set_defaults(run=_add, show=_show_account)
    alist = asub.add_parser("list", help="the relay accounts (tokens masked)")
    alist.set_defaults(run=lambda a: _call("accounts.list", {}), show=_show_accounts)
    refresh = asub.add_parser("refresh", help="fetch the keys again (one account, or all)")
    refresh.add_argument("account", nargs="?")
    refresh.set_defaults(
        run=lambda a: _call("accounts.refresh", {"account": a.account}), show=_show_refresh
    )
    remove = asub.add_parser(
        "remove", help="forget an account and its fetched keys (CLIProxyAPI is not touched)"
    )
    remove.add_argument("account")
    remove.add_argument("--keep-keys", action="store_true")
    remove.set_defaults(
        run=lambda a: _call("accounts.remove", {"account": a.account, "keep_keys": a.keep_keys}),
        show=lambda r: print(f"removed {r['removed']} and {r['keys_removed']} key(s)"),
    )
    stale = asub.add_parser(
        "stale", help="keys the site reports dead, and which CLIProxyAPI providers hold them"
    )
    stale.add_argument("account", nargs="?")
    stale.set_defaults(
        run=lambda a: _call("accounts.stale", {"account": a.account}), show=_show_stale
    )
    cleanup = asub.add_parser(
        "cleanup", help="remove the dead keys from every CLIProxyAPI target (undoable)"
    )
    cleanup.add_argument("account", nargs="?")
    cleanup.add_argument("--dry-run", action="store_true")
    cleanup.add_argument("--targets", help="comma-separated target names (default: all)")
    cleanup.set_defaults(
        run=lambda a: _call(
            "accounts.cleanup",
            {
                "account": a.account,
                "dry_run": a.dry_run,
                "targets": [t.strip() for t in a.targets.split(",")] if a.targets else "all",
            },
        ),
        show=_show_cleanup,
    )
    check = keys_sub.add_parser(
        "check", help="test stored keys against their sites (valid / rejected / unknown)"
    )
    check.add_argument("key_ids", nargs="+")
    check.set_defaults(run=lambda a: _call("keys.check", {"ids": a.key_ids}), show=_show_checks)
    return [add, alist, refresh, remove, stale, cleanup, check]
