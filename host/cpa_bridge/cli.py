"""``cpa-bridge``: the command-line face of the host (same handlers, same checks).

Keys are never taken from argv (they would show in ``ps`` and shell history): they are
read from stdin, or prompted for without echo. ``--json`` prints the reply's result
(or error) as JSON; exit codes follow PROTOCOL.md section 4.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from cpa_bridge import __version__
from cpa_bridge.core.lists import PROVIDER_LISTS
from cpa_bridge.errors import BridgeError, ErrorCode


def _call(message_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one message through the host's handlers (imported on first use: offline commands never are)."""
    from cpa_bridge.wire.dispatch import call  # noqa: PLC0415 (start-up: offline commands skip the handlers)

    return call(message_type, params)


def _view(name: str) -> Callable[..., dict[str, Any]]:
    def run(**params: Any) -> dict[str, Any]:
        from cpa_bridge.store import views  # noqa: PLC0415 (start-up: offline commands skip the handlers)

        result: dict[str, Any] = getattr(views, name)(**params)
        return result

    return run


def _offline(
    message_type: str,
    view: Callable[..., dict[str, Any]],
    build: Callable[[argparse.Namespace], dict[str, Any]],
) -> Callable[[argparse.Namespace], dict[str, Any]]:
    """A read of the host's own files: straight from JSON (:mod:`cpa_bridge.store.views`), else the handler."""

    def run(a: argparse.Namespace) -> dict[str, Any]:
        from cpa_bridge.store import views  # noqa: PLC0415 (start-up: offline commands skip the handlers)

        params = {k: v for k, v in build(a).items() if v is not None}
        try:
            return view(**params)
        except views.Fallback:
            return _call(message_type, params)

    return run


def _read_secret(prompt: str) -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt).strip()


def _models(values: list[str]) -> list[dict[str, str]]:
    rows = []
    for value in values:
        name, _, alias = value.partition("=")
        rows.append({"name": name.strip(), "alias": alias.strip() or name.strip()})
    return rows


# -- human output -----------------------------------------------------------------------
def _show_settings(r: dict[str, Any]) -> None:
    for t in r["targets"] or [
        {
            "name": r["target"],
            "management_url": "",
            "key_hint": "",
            "default": True,
            "allow_insecure_http": False,
            "has_key": False,
            "key_rejected": False,
        }
    ]:
        mark = "*" if t["default"] else " "
        key = t["key_hint"] if t["has_key"] else "(no key)"
        extra = " [key rejected: save it again]" if t["key_rejected"] else ""
        insecure = " [insecure http allowed]" if t["allow_insecure_http"] else ""
        print(
            f"{mark} {t['name']}: {t['management_url'] or '(no URL)'}  key {key}{insecure}{extra}"
        )
    for w in r.get("warnings", []):
        print(f"warning: {w}")


def _show_test(r: dict[str, Any]) -> None:
    print(
        f"connected to CLIProxyAPI {r['server_version'] or '(version unknown)'} at {r['management_url']}"
    )
    for name, count in r["lists"].items():
        print(f"  {name}: {count}")


def _show_import(r: dict[str, Any]) -> None:
    if "results" in r:
        s = r["summary"]
        print(f"imported to {s['succeeded']} of {s['total']} targets")
        for entry in r["results"]:
            if entry["ok"]:
                res = entry["result"]
                if "items" in res:
                    print(
                        f"  {entry['target']}: {_batch_summary(res['summary'], dry_run=res['dry_run'])}"
                    )
                else:
                    print(
                        f"  {entry['target']}: {res['action']} {res['provider_name']} ({res['outcome']})"
                    )
            else:
                print(
                    f"  {entry['target']}: error [{entry['error']['code']}] {entry['error']['message']}"
                )
        return
    if "items" in r:
        verb = "would be " if r["dry_run"] else ""
        for item in r["items"]:
            if item["ok"]:
                res = item["result"]
                print(
                    f"#{item['index']}: {verb}{res['action']} {res['provider_name']} -> {res['base_url']}"
                )
                for w in res.get("warnings", []):
                    print(f"  warning: {w}")
            else:
                print(
                    f"#{item['index']}: error [{item['error']['code']}] {item['error']['message']}"
                )
        print(
            _batch_summary(r["summary"], dry_run=r["dry_run"])
            + f"; {r['requests_sent']} requests sent"
        )
        return
    verb = "would be " if r["dry_run"] else ""
    print(f"{r['provider_name']}: {verb}{r['action']} ({r['outcome']}) -> {r['base_url']}")
    for change in r["changes"]:
        if change["op"] == "set_option":
            value = change["value"]
            detail = f"{change['field']} = {', '.join(value) if isinstance(value, list) else value}"
        else:
            detail = (
                change.get("key_hint")
                or ", ".join(m["name"] for m in change.get("models", []))
                or change.get("base_url", "")
            )
        print(f"  {change['op']}: {detail}")
    _show_warnings_and_backup(r)


def _batch_summary(s: dict[str, Any], *, dry_run: bool) -> str:
    """``2 created, 1 updated, 0 unchanged, 0 failed`` (``would be created`` … in a dry run)."""
    verb = "would be " if dry_run else ""
    counts = ", ".join(f"{s.get(k, 0)} {verb}{k}" for k in ("created", "updated", "unchanged"))
    return f"{counts}, {s.get('failed', 0)} failed" + (
        "; dry run: nothing written" if dry_run else ""
    )


def _show_warnings_and_backup(r: dict[str, Any]) -> None:
    for w in r.get("warnings", []):
        print(f"  warning: {w}")
    if r.get("backup_id"):
        print(
            f"  backup: {r['backup_id']} (undo with: cpa-bridge undo {r['backup_id']} --target {r['target']})"
        )


def _show_history(r: dict[str, Any]) -> None:
    if not r["entries"]:
        print("no older writes" if r.get("offset") else "no writes yet")
        return
    rows = [
        (
            e["backup_id"] or "?",
            _when(e.get("created_at")),
            e["operation"] or "?",
            e["list"] or "?",
            (e["outcome"] or "?")
            + (f" (undone by {e['undone_by']})" if e.get("undone_by") else ""),
            e.get("summary") or "",
        )
        for e in r["entries"]
    ]
    _table(("BACKUP", "WHEN", "OPERATION", "LIST", "OUTCOME", "SUMMARY"), rows)
    if r.get("next_offset") is not None:
        print(
            f"writes {r['offset'] + 1}-{r['offset'] + len(rows)} of {r['total']}; older ones: "
            f"cpa-bridge history --offset {r['next_offset']}"
        )


def _when(created_at: Any) -> str:
    if not isinstance(created_at, (int, float)):
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created_at))


def _table(header: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """Columns as wide as their widest cell, two spaces apart; the last column unpadded."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                [
                    *(str(cell).ljust(w) for cell, w in zip(row[:-1], widths, strict=False)),
                    str(row[-1]),
                ]
            ).rstrip()
        )


def _show_undo(r: dict[str, Any]) -> None:
    print(
        f"restored {r['list']} as before {r['restored']}: {r['outcome']}"
        + (f" (backup {r['backup_id']})" if r.get("backup_id") else "")
    )


def _show_providers(r: dict[str, Any]) -> None:
    if "results" in r:
        for entry in r["results"]:
            if entry["ok"]:
                print(f"== {entry['target']}")
                _show_providers(entry["result"])
            else:
                print(
                    f"== {entry['target']}: error [{entry['error']['code']}] {entry['error']['message']}"
                )
        return
    for name, items in r["lists"].items():
        print(f"{name} ({len(items)})")
        for p in items:
            label = p["name"] or p["base_url"] or "(default upstream)"
            off = " [disabled]" if p["disabled"] else ""
            keys = (
                ", ".join(
                    f"{hint} ({kid})"
                    for hint, kid in zip(p["keys"], p.get("key_ids", []), strict=False)
                )
                or "-"
            )
            print(
                f"  [{p.get('entry_id', '')}] {label}{off}  {p['base_url'] or ''}  keys: {keys}  "
                f"models: {p['model_count']}"
            )


def _show_provider(r: dict[str, Any]) -> None:
    p = r["provider"]
    print(
        f"[{p['entry_id']}] {p['label']}{' [disabled]' if p['disabled'] else ''}  ({r['list']} on {r['target']})"
    )
    print(f"  base URL: {p['base_url'] or '(default upstream)'}")
    if p["prefix"]:
        print(f"  prefix: {p['prefix']}")
    if p["priority"] is not None:
        print(f"  priority: {p['priority']}")
    for key in p["keys"]:
        extra = "".join(
            f"  {k}: {key[k]}" for k in ("weight", "proxy_url") if key.get(k) is not None
        )
        print(f"  key {key['key_hint']} ({key['key_id']}){extra}")
    for m in p["models"]:
        alias = m.get("alias") or m.get("name")
        print(f"  model {m.get('name')}" + (f" = {alias}" if alias != m.get("name") else ""))
    if p["headers"]:
        print(f"  headers: {', '.join(p['headers'])} (values hidden)")
    if p["excluded_models"]:
        print(f"  excluded models: {', '.join(p['excluded_models'])}")
    for k, v in p["other"].items():
        print(f"  {k}: {json.dumps(v, ensure_ascii=False)}")


def _show_provider_write(r: dict[str, Any]) -> None:
    verb = "would change" if r["dry_run"] else r["action"]
    print(f"{r['list']} [{r['entry_id']}] on {r['target']}: {verb} ({r['outcome']})")
    for change in r["changes"]:
        detail = {k: v for k, v in change.items() if k != "op"}
        print(f"  {change['op']}: {json.dumps(detail, ensure_ascii=False)}")
    if r["dry_run"] and r.get("request"):
        print(f"  request: {json.dumps(r['request'], ensure_ascii=False)}")
    _show_warnings_and_backup(r)


def _show_drift(r: dict[str, Any]) -> None:
    s = r["summary"]
    print(
        f"compared {', '.join(r['targets']) or '(none)'}: {s['providers']} providers, {s['in_sync']} in sync, "
        f"{s['drifted']} differ ({s['missing_providers']} missing providers, {s['missing_keys']} missing keys)"
    )
    for entry in r["errors"]:
        print(f"  {entry['target']}: error [{entry['error']['code']}] {entry['error']['message']}")
    for name, rows in r["lists"].items():
        for row in rows:
            where = f"missing on {', '.join(row['missing_on'])}" if row["missing_on"] else "on all"
            print(f"{name}: {row['label']}  {row['base_url'] or ''}  ({where})")
            for key in row["keys"]:
                if key["missing_on"]:
                    print(
                        f"    key {key['key_hint']} ({key['key_id']}) on {', '.join(key['present_on'])}, "
                        f"missing on {', '.join(key['missing_on'])}"
                    )
    for w in r["warnings"]:
        print(f"warning: {w}")


def _show_sync(r: dict[str, Any]) -> None:
    s = r["summary"]
    verb = "would sync" if r["dry_run"] else "synced"
    print(f"{verb} from {r['from_target']} to {s['succeeded']} of {s['total']} targets")
    for entry in r["results"]:
        if not entry["ok"]:
            print(
                f"  {entry['target']}: error [{entry['error']['code']}] {entry['error']['message']}"
            )
            continue
        res = entry["result"]
        print(f"  {entry['target']}: {res['summary']}")
        for name, lst in res["lists"].items():
            if lst.get("backup_id") or lst.get("outcome") == "dry_run" or lst.get("errors"):
                print(
                    f"    {name}: {lst['action']} ({lst['outcome']})"
                    + (f" backup {lst['backup_id']}" if lst.get("backup_id") else "")
                )
            for err in lst.get("errors", []):
                print(
                    f"      {err['provider']} {err['key_hint']}: [{err['code']}] {err['message']}"
                )
    if r["failed_targets"]:
        print(f"retry with: --to {','.join(r['failed_targets'])}")


def _show_targets(r: dict[str, Any]) -> None:
    if r["targets"]:
        _show_settings(r)
    else:
        print("no targets yet: cpa-bridge targets add NAME --url URL --key")


def _show_models(r: dict[str, Any]) -> None:
    for model in r["models"]:
        print(model)


def _show_keys(r: dict[str, Any]) -> None:
    for site in r["sites"]:
        print(f"{site['id']}  {site['name']}  {site['url']}")
        for key in site["keys"]:
            state = (
                f"  [{key.get('problem') or key['remote']['status']}]" if key.get("remote") else ""
            )
            print(f"    {key['id']}  {key['key_hint']}  {key['label']}{state}")


def _show_plain(r: dict[str, Any]) -> None:
    print(json.dumps(r, ensure_ascii=False, indent=2))


# -- commands ---------------------------------------------------------------------------
def _settings_set(a: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if a.url is not None:
        params["management_url"] = a.url
    if a.key:
        params["management_key"] = _read_secret("Management key: ")
    if a.allow_insecure_http is not None:
        params["allow_insecure_http"] = a.allow_insecure_http
    if a.target:
        params["target"] = a.target
    if a.default:
        params["make_default"] = True
    return _call("settings.set", params)


def _import(a: argparse.Namespace) -> dict[str, Any]:
    _refuse_key_on_argv(a)
    run = {"dry_run": a.dry_run}
    if a.allow_unusable:
        run["allow_unusable"] = True
    if a.targets:
        run["targets"] = "all" if a.targets == "all" else [t.strip() for t in a.targets.split(",")]
    elif a.target:
        run["target"] = a.target
    if a.batch:
        try:
            with open(a.batch, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, f"cannot read {a.batch}: {exc.strerror}"
            ) from None
        except ValueError:
            raise BridgeError(ErrorCode.INVALID_REQUEST, f"{a.batch} is not valid JSON") from None
        items = data.get("items") if isinstance(data, dict) else data
        extra = {"skip_unusable": True} if a.skip_unusable else {}
        return _call("import.batch", {"items": items, **run, **extra})
    item: dict[str, Any] = {
        k: v
        for k, v in {
            "site_name": a.site_name,
            "site_url": a.site_url,
            "provider_type": a.provider_type,
            "provider_name": a.provider_name,
            "base_url": a.base_url,
            "proxy_url": a.proxy_url,
            "key_id": a.key_id,
            "on_name_conflict": a.on_name_conflict,
            "prefix": a.prefix,
            "priority": a.priority,
            "weight": a.weight,
        }.items()
        if v is not None
    }
    if a.model:
        item["models"] = _models(a.model)
    if a.header:
        item["headers"] = _headers(a.header)
    if not a.key_id:
        item["api_key"] = _api_key_from_stdin()
    return _call("import", {**item, **run})


def _api_key_from_stdin() -> str:
    key = _read_secret("API key: ")
    if not key:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            'no API key: pipe it in (echo "$KEY" | cpa-bridge ...) or '
            "give --key-id with a stored key's id (see 'cpa-bridge keys list')",
            field="params.api_key",
        )
    return key


def _refuse_key_on_argv(a: argparse.Namespace) -> None:
    if getattr(a, "key_on_argv", None) is not None:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            "keys are never taken from the command line (they would show "
            "in ps and your shell history): pipe the key in, or give --key-id with a stored key's id "
            "(see 'cpa-bridge keys list')",
            field="--key",
        )


def _headers(rows: list[str]) -> dict[str, str]:
    """``--header 'Name: value'`` rows as a mapping (the value is never echoed in an error)."""
    out: dict[str, str] = {}
    for row in rows:
        name, sep, value = row.partition(":")
        if not sep or not name.strip():
            raise BridgeError(
                ErrorCode.INVALID_REQUEST, "--header takes 'Name: value'", field="params.headers"
            )
        out[name.strip()] = value.strip()
    return out


def _models_cmd(a: argparse.Namespace) -> dict[str, Any]:
    _refuse_key_on_argv(a)
    params: dict[str, Any] = {"base_url": a.base_url}
    if a.key_id:
        params["key_id"] = a.key_id
    else:
        params["api_key"] = _api_key_from_stdin()
    return _call("models.list", params)


def _simple(
    message_type: str, build: Callable[[argparse.Namespace], dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    return lambda a: _call(message_type, {k: v for k, v in build(a).items() if v is not None})


def _keys_add(a: argparse.Namespace) -> dict[str, Any]:
    return _call(
        "keys.save",
        {"site_id": a.site_id, "label": a.label or "", "api_key": _api_key_from_stdin()},
    )


def _keys_import(a: argparse.Namespace) -> dict[str, Any]:
    from cpa_bridge.cli_accounts import import_backup  # noqa: PLC0415 (start-up: offline commands skip the handlers)

    try:
        with open(a.file, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST, f"cannot read {a.file}: {exc.strerror}"
        ) from None
    return import_backup(text, dry_run=a.dry_run, accounts=a.accounts)


LISTS = list(PROVIDER_LISTS)


def _targets_arg(value: str | None) -> Any:
    if value is None:
        return None
    return "all" if value.strip() == "all" else [t.strip() for t in value.split(",") if t.strip()]


def _targets_add(a: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"target": a.name, "management_url": a.url}
    if a.key:
        params["management_key"] = _read_secret("Management key: ")
    if a.allow_insecure_http is not None:
        params["allow_insecure_http"] = a.allow_insecure_http
    if a.default:
        params["make_default"] = True
    return _call("settings.set", params)


def _targets_default(a: argparse.Namespace) -> dict[str, Any]:
    current = _call("settings.get", {})
    if not any(t["name"].lower() == a.name.strip().lower() for t in current["targets"]):
        raise BridgeError(
            ErrorCode.NOT_FOUND, f"no CLIProxyAPI target named '{a.name[:40]}'", target=a.name[:40]
        )
    return _call("settings.set", {"target": a.name, "make_default": True})


def _constant(params: dict[str, Any]) -> Callable[[argparse.Namespace], dict[str, Any]]:
    return lambda a: params


def _providers_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``providers`` (list), and show / remove-key / disable / enable / delete / models / drift / sync."""
    prov = command("providers", "list and manage the providers in CLIProxyAPI (keys masked)")
    prov.add_argument("--list", choices=LISTS)
    prov.add_argument("--target")
    prov.add_argument("--targets", help="comma-separated target names, or 'all'")

    def list_params(a: argparse.Namespace) -> dict[str, Any]:
        return {"list": a.list, "target": a.target, "targets": _targets_arg(a.targets)}

    prov.set_defaults(run=_simple("providers.list", list_params), show=_show_providers)
    psub = prov.add_subparsers(dest="action", metavar="ACTION")

    def action(
        name: str, help_text: str, *, write: bool = True, entry: bool = True
    ) -> argparse.ArgumentParser:
        p = psub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print the result as JSON",
        )
        if entry:
            p.add_argument("entry_id", help="the provider's id (see 'cpa-bridge providers')")
            p.add_argument("--list", choices=LISTS, default=LISTS[0])
            p.add_argument("--target")
        if write:
            p.add_argument(
                "--dry-run", action="store_true", help="show what would change; write nothing"
            )
        return p

    def edit(
        message: str, extra: Callable[[argparse.Namespace], dict[str, Any]]
    ) -> Callable[..., dict[str, Any]]:
        return _simple(
            message,
            lambda a: {
                "list": a.list,
                "target": a.target,
                "entry_id": a.entry_id,
                "dry_run": a.dry_run,
                **extra(a),
            },
        )

    plist = action(
        "list", "list the providers (the same as 'providers' alone)", write=False, entry=False
    )
    plist.add_argument("--list", choices=LISTS)
    plist.add_argument("--target")
    plist.add_argument("--targets", help="comma-separated target names, or 'all'")
    plist.set_defaults(run=_simple("providers.list", list_params), show=_show_providers)

    show = action("show", "show one provider (keys masked, header names only)", write=False)
    show.set_defaults(
        run=_simple(
            "providers.show", lambda a: {"list": a.list, "target": a.target, "entry_id": a.entry_id}
        ),
        show=_show_provider,
    )
    rkey = action("remove-key", "remove one key (key lists: the entry holding it)")
    rkey.add_argument("key_id", help="the key's id (see 'cpa-bridge providers')")
    rkey.set_defaults(
        run=edit("providers.remove_key", lambda a: {"key_id": a.key_id}), show=_show_provider_write
    )
    for name, disabled in (("disable", True), ("enable", False)):
        p = action(name, f"{name} a provider (key lists: '*' in excluded-models)")
        p.set_defaults(
            run=edit("providers.set_disabled", _constant({"disabled": disabled})),
            show=_show_provider_write,
        )
    pdel = action("delete", "delete a provider with all its keys")
    pdel.set_defaults(run=edit("providers.delete", lambda a: {}), show=_show_provider_write)
    pmod = action("models", "replace a provider's model mappings")
    pmod.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME[=ALIAS]",
        help="model mapping (repeatable)",
    )
    pmod.set_defaults(
        run=edit("providers.set_models", lambda a: {"models": _models(a.model)}),
        show=_show_provider_write,
    )

    drift = action(
        "drift",
        "show where targets differ (keys present on one, missing on another)",
        write=False,
        entry=False,
    )
    drift.add_argument(
        "--targets", default="all", help="comma-separated target names, or 'all' (default)"
    )
    drift.add_argument("--list", choices=LISTS)
    drift.add_argument(
        "--all", dest="include_in_sync", action="store_true", help="also list providers in sync"
    )
    drift.set_defaults(
        run=_simple(
            "providers.drift",
            lambda a: {
                "targets": _targets_arg(a.targets),
                "list": a.list,
                "include_in_sync": a.include_in_sync,
            },
        ),
        show=_show_drift,
    )
    sync = action(
        "sync", "copy missing keys/providers from one target to others (never deletes)", entry=False
    )
    sync.add_argument("--from", dest="from_target", required=True)
    sync.add_argument(
        "--to", dest="to_targets", required=True, help="comma-separated target names, or 'all'"
    )
    sync.add_argument("--list", choices=LISTS)
    sync.add_argument("--on-name-conflict", choices=["fail", "rename"])
    sync.add_argument(
        "--entry",
        dest="entry_ids",
        action="append",
        metavar="ENTRY_ID",
        help="only this provider of the source (repeatable)",
    )
    sync.set_defaults(
        run=_simple(
            "providers.sync",
            lambda a: {
                "from_target": a.from_target,
                "to_targets": _targets_arg(a.to_targets),
                "list": a.list,
                "entry_ids": a.entry_ids,
                "dry_run": a.dry_run,
                "on_name_conflict": a.on_name_conflict,
            },
        ),
        show=_show_sync,
    )


def _targets_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``targets list | add | remove | default``: the CLIProxyAPI instances (keys stay in the 0600 settings)."""
    targets = command("targets", "list, add or remove CLIProxyAPI targets")
    tsub = targets.add_subparsers(dest="action", required=True)
    tlist = tsub.add_parser("list", help="list the targets (keys masked)")
    tlist.set_defaults(
        run=_offline("settings.get", _view("settings_get"), lambda a: {}), show=_show_targets
    )
    tadd = tsub.add_parser(
        "add", help="add or update a target (the key is read from stdin or a prompt)"
    )
    tadd.add_argument("name")
    tadd.add_argument("--url", required=True, help="management URL or CLIProxyAPI root")
    tadd.add_argument(
        "--key", action="store_true", help="read the management key from stdin / prompt"
    )
    tadd.add_argument(
        "--allow-insecure-http", dest="allow_insecure_http", action="store_true", default=None
    )
    tadd.add_argument("--default", action="store_true", help="make this target the default")
    tadd.set_defaults(run=_targets_add, show=_show_targets)
    trm = tsub.add_parser("remove", help="remove a target (its key is deleted from the settings)")
    trm.add_argument("name")
    trm.set_defaults(
        run=_simple("settings.delete_target", lambda a: {"target": a.name}), show=_show_targets
    )
    tdef = tsub.add_parser("default", help="make a target the default")
    tdef.add_argument("name")
    tdef.set_defaults(run=_targets_default, show=_show_targets)
    for p in (tlist, tadd, trm, tdef):
        p.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print the result as JSON",
        )


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviated options (``--key`` must never silently mean ``--key-id``) that
    never prints a value back: a stray argument may be a key typed on argv."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            tokens = message.split(":", 1)[1].split()
            shown = [t.split("=", 1)[0] if t.startswith("-") else "…" for t in tokens]
            message = (
                "unrecognized arguments: "
                + " ".join(shown)
                + " (keys are never taken from the command line: they are read from stdin or a prompt)"
            )
        message = re.sub(r"invalid choice: '.*?'", "invalid choice", message, flags=re.S)
        message = re.sub(r"invalid (\w+) value: '.*?'", r"invalid \1 value", message, flags=re.S)
        super().error(message)


class _Skipped:
    """Stands in for the parser of a command that is not being run: every call is a no-op."""

    def __getattr__(self, name: str) -> Callable[..., _Skipped]:
        return lambda *args, **kwargs: self


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; with ``only``, just that command (building all of them costs start-up time)."""
    parser = _Parser(prog="cpa-bridge", description="Import API keys into CLIProxyAPI, safely.")
    parser.add_argument("--version", action="version", version=f"cpa-bridge {__version__}")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return _Skipped()  # type: ignore[return-value]
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print the result as JSON",
        )
        return p

    settings = command("settings", "show or change the CLIProxyAPI settings")
    ssub = settings.add_subparsers(dest="action", required=True)
    show = ssub.add_parser("show", help="show the targets (keys masked)")
    show.set_defaults(
        run=_offline("settings.get", _view("settings_get"), lambda a: {}), show=_show_settings
    )
    sset = ssub.add_parser(
        "set", help="set the management URL / key (the key is read from stdin or a prompt)"
    )
    sset.add_argument(
        "--url", help="management URL or CLIProxyAPI root, e.g. http://127.0.0.1:8317"
    )
    sset.add_argument(
        "--key", action="store_true", help="read the management key from stdin / prompt"
    )
    sset.add_argument(
        "--allow-insecure-http", dest="allow_insecure_http", action="store_true", default=None
    )
    sset.add_argument("--no-allow-insecure-http", dest="allow_insecure_http", action="store_false")
    sset.add_argument("--target", help="target name (default: the default target)")
    sset.add_argument("--default", action="store_true", help="make this target the default")
    sset.set_defaults(run=_settings_set, show=_show_settings)
    for p in (show, sset):
        p.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print the result as JSON",
        )

    test = command("test", "test the connection to CLIProxyAPI")
    test.add_argument("--target")
    test.set_defaults(
        run=_simple("connection.test", lambda a: {"target": a.target}), show=_show_test
    )

    models = command("models", "list a site's models (API key from stdin)")
    models.add_argument("--base-url", required=True)
    models.add_argument(
        "--key-id", help="the id of a stored key (see 'cpa-bridge keys list') instead of stdin"
    )
    models.add_argument("--key", dest="key_on_argv", help=argparse.SUPPRESS)
    models.set_defaults(run=_models_cmd, show=_show_models)

    imp = command("import", "import a key (from stdin) or a batch file into CLIProxyAPI")
    imp.add_argument(
        "--batch", metavar="FILE.json", help='a JSON list of import items (or {"items": [...]})'
    )
    imp.add_argument("--site-name")
    imp.add_argument("--site-url")
    imp.add_argument(
        "--key-id", help="the id of a stored key (see 'cpa-bridge keys list') instead of stdin"
    )
    imp.add_argument("--key", dest="key_on_argv", help=argparse.SUPPRESS)
    imp.add_argument(
        "--allow-unusable",
        action="store_true",
        help="import a stored key even if its site reports it deleted, disabled, expired or exhausted",
    )
    imp.add_argument("--skip-unusable", action="store_true", help="--batch: leave such keys out")
    imp.add_argument("--provider-type", choices=PROVIDER_LISTS)
    imp.add_argument("--provider-name")
    imp.add_argument("--base-url", help="explicit base URL, kept as given")
    imp.add_argument(
        "--model", action="append", metavar="NAME[=ALIAS]", help="model mapping (repeatable)"
    )
    imp.add_argument("--proxy-url")
    imp.add_argument("--prefix", help="model prefix for the provider (CLIProxyAPI's 'prefix')")
    imp.add_argument("--priority", type=int, help="the provider's priority (higher is tried first)")
    imp.add_argument("--weight", type=int, help="the key's weight, 1 to 1000000")
    imp.add_argument(
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="a header CLIProxyAPI sends upstream (repeatable; added to the provider's own)",
    )
    imp.add_argument("--on-name-conflict", choices=["fail", "rename", "use_existing"])
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--target")
    imp.add_argument("--targets", help="comma-separated target names, or 'all'")
    imp.set_defaults(run=_import, show=_show_import)

    hist = command("history", "list the writes that can be undone")
    hist.add_argument("--target")
    hist.add_argument("--limit", type=int, default=50)
    hist.add_argument("--offset", type=int, default=0, help="skip this many newer writes")
    hist.set_defaults(
        run=_offline(
            "history.list",
            _view("history_list"),
            lambda a: {"target": a.target, "limit": a.limit, "offset": a.offset},
        ),
        show=_show_history,
    )

    undo = command("undo", "restore a list as it was before a write (default: the latest)")
    undo.add_argument("backup_id", nargs="?")
    undo.add_argument("--force", action="store_true", help="restore even if the list changed since")
    undo.add_argument("--dry-run", action="store_true")
    undo.add_argument("--target")
    undo.set_defaults(
        run=_simple(
            "history.undo",
            lambda a: {
                "backup_id": a.backup_id,
                "force": a.force,
                "dry_run": a.dry_run,
                "target": a.target,
            },
        ),
        show=_show_undo,
    )

    _providers_commands(command)
    _targets_commands(command)

    keys = command("keys", "the key inventory shared with the extension")
    ksub = keys.add_subparsers(dest="action", required=True)
    klist = ksub.add_parser("list")
    klist.add_argument("--query")
    klist.set_defaults(
        run=_offline("keys.list", _view("keys_list"), lambda a: {"query": a.query}), show=_show_keys
    )
    sadd = ksub.add_parser("add-site")
    sadd.add_argument("--name", required=True)
    sadd.add_argument("--url", required=True)
    sadd.set_defaults(
        run=_simple("sites.save", lambda a: {"name": a.name, "url": a.url}), show=_show_plain
    )
    kadd = ksub.add_parser("add", help="add a key (read from stdin) to a site")
    kadd.add_argument("--site-id", required=True)
    kadd.add_argument("--label")
    kadd.set_defaults(run=_keys_add, show=_show_plain)
    kimp = ksub.add_parser("import-backup", help="import an All API Hub backup JSON")
    kimp.add_argument("file")
    kimp.add_argument("--dry-run", action="store_true")
    kimp.add_argument(
        "--accounts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="make the backup's access-token accounts relay accounts and fetch their keys "
        "(asked when omitted on a terminal)",
    )
    kimp.set_defaults(run=_keys_import, show=_show_plain)
    from cpa_bridge.cli_accounts import register  # noqa: PLC0415 (start-up: offline commands skip the handlers)

    for p in (klist, sadd, kadd, kimp, *register(command, ksub)):
        p.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print the result as JSON",
        )
    return parser


def _batch_failed(result: dict[str, Any]) -> bool:
    if "results" in result:
        return bool(result.get("summary", {}).get("failed")) or any(
            r.get("ok")
            and isinstance(r.get("result"), dict)
            and r["result"].get("summary", {}).get("failed")
            for r in result["results"]
        )
    return bool(result.get("summary", {}).get("failed")) if "items" in result else False


#: Commands that only read the host's files: their parser alone is built, so they start fast.
OFFLINE_COMMANDS = frozenset({"settings", "targets", "keys", "history"})


def _command_of(argv: list[str]) -> str | None:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in OFFLINE_COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(only=_command_of(argv)).parse_args(argv)
    as_json = bool(getattr(args, "json", False))
    try:
        result = args.run(args)
    except BridgeError as exc:
        if as_json:
            print(json.dumps({"ok": False, "error": exc.to_dict()}, ensure_ascii=False, indent=2))
        else:
            print(f"error [{exc.code.value}]: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for the user; the log has the type
        print(f"error [internal_error]: unexpected {type(exc).__name__}", file=sys.stderr)
        return 10
    try:
        if as_json:
            print(json.dumps({"ok": True, "result": result}, ensure_ascii=False, indent=2))
        else:
            args.show(result)
        return 1 if _batch_failed(result) else 0
    except Exception as exc:  # a reply this version cannot show: still no traceback
        print(
            f"error [internal_error]: could not show the result ({type(exc).__name__})",
            file=sys.stderr,
        )
        return 10


if __name__ == "__main__":
    sys.exit(main())
