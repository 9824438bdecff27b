"""Every flow runs with sentinel keys; no key may appear in a reply, a log, CLI output or a file
the product wrote, except the three files whose job is to hold them (settings, key inventory, backups)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.standin.plugin import UPSTREAM_MODELS

MGMT = "MGMT-SENTINEL-7f3a9c1e5b"
WRONG = "WRONG-SENTINEL-2d8e4a6c0f"
API = "sk-API-SENTINEL-91b7c5d3e1"
API2 = "sk-API-SENTINEL-40f2e8a6c4"
SENTINELS = (MGMT, WRONG, API, API2)
#: Files that exist to hold secrets (0600): the settings, the key inventory, the backups.
SECRET_HOLDERS = ("settings.json", "keys.json")


def assert_clean(text: str, where: str) -> None:
    for sentinel in SENTINELS:
        assert sentinel not in text, f"{sentinel[:12]}… leaked into {where}"


def test_no_secret_in_replies_logs_output_or_files(
    host_factory, standin_factory, upstream_factory, cli, isolated_home
):
    server = standin_factory(secret=MGMT)
    up = upstream_factory(models=list(UPSTREAM_MODELS), api_key=API)
    host = host_factory()
    calls = [
        ("settings.set", {"management_url": server.url, "management_key": MGMT}),
        ("settings.get", {}),
        ("connection.test", {}),
        ("models.list", {"base_url": up.url, "api_key": API}),
        ("models.list", {"base_url": up.url, "api_key": API2}),
        ("import", {"site_name": "S", "site_url": up.url, "api_key": API, "dry_run": True}),
        ("import", {"site_name": "S", "site_url": up.url, "api_key": API}),
        (
            "import",
            {"site_name": "S", "site_url": up.url, "api_key": API2, "models": [{"name": "x"}]},
        ),
        (
            "import",
            {"site_name": "s", "site_url": "https://other.example.invalid", "api_key": API2},
        ),
        ("import.batch", {"items": [{"site_name": "S", "site_url": up.url, "api_key": API}]}),
        ("providers.list", {}),
        ("history.list", {}),
        ("history.undo", {}),
        ("sites.save", {"name": "S", "url": up.url}),
        ("keys.list", {}),
        ("import", {"site_name": "S", "site_url": "javascript:alert(1)", "api_key": API}),
        ("import", {"site_name": "S\r\nX-Evil: 1", "site_url": up.url, "api_key": API}),
        ("settings.set", {"management_key": WRONG}),
        ("connection.test", {}),
        ("connection.test", {}),
        ("import", {"site_name": "S", "site_url": up.url, "api_key": API}),
    ]
    for mtype, params in calls:
        reply = host.call(mtype, params)
        assert_clean(json.dumps(reply), f"the reply to {mtype}")
    site_id = host.call("keys.list")["result"]["sites"][0]["id"]
    saved = host.call("keys.save", {"site_id": site_id, "api_key": API, "label": "k"})
    assert_clean(json.dumps(saved), "keys.save")
    assert_clean(json.dumps(host.call("keys.list")), "keys.list")
    # the one message whose purpose is to hand a stored key to the page
    assert (
        host.call("keys.reveal", {"id": saved["result"]["key"]["id"]})["result"]["api_key"] == API
    )
    assert_clean(host.stderr_text(), "the host's stderr")

    for args, stdin in [
        (("settings", "set", "--url", server.url, "--key"), MGMT + "\n"),
        (("settings", "show"), ""),
        (("--json", "settings", "show"), ""),
        (("test",), ""),
        (("import", "--site-name", "C", "--site-url", up.url, "--dry-run"), API + "\n"),
        (("import", "--site-name", "C", "--site-url", up.url), API2 + "\n"),
        (("--json", "providers"), ""),
        (("history",), ""),
        (("keys", "list"), ""),
        (("settings", "set", "--key"), WRONG + "\n"),
        (("test",), ""),
    ]:
        result = cli(*args, stdin=stdin)
        assert_clean(result.out + result.err, f"cpa-bridge {' '.join(args)}")

    for path in isolated_home.rglob("*"):
        if not path.is_file():
            continue
        if path.name in SECRET_HOLDERS or "backups" in path.parts:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} must be 0600"
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, f"{path.parent} must be 0700"
            continue
        assert_clean(path.read_text("utf-8", "replace"), str(path.relative_to(isolated_home)))
    log = Path(os.environ["XDG_DATA_HOME"]) / "cpa-bridge" / "logs" / "host.log"
    assert log.exists() and "type=import" in log.read_text(), (
        "the log is written (and was checked above)"
    )
