"""The access token and the relay keys never leave the host's secret files: not in a reply (but
``keys.reveal``), not in the log, stderr, CLI output or any other file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.conftest import MGMT_KEY

ACCESS = "ACCESS-SENTINEL-5c1e9a7b3d"
SECRET_HOLDERS = ("settings.json", "keys.json", "accounts.json")


def test_no_access_token_or_relay_key_leaks(relay_factory, standin, host, cli, isolated_home):
    relay = relay_factory("new-api", access_token=ACCESS)
    relay.add_tokens(3)
    sentinels = [ACCESS] + [t["key"] for t in relay.tokens]

    def clean(text: str, where: str) -> None:
        for sentinel in sentinels:
            assert sentinel not in text, f"{sentinel[:8]}… leaked into {where}"

    assert host.call("settings.set", {"management_url": standin.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    added = host.call(
        "accounts.add", {"site_url": relay.url, "user_id": relay.user_id, "access_token": ACCESS}
    )
    assert added["ok"], added
    key_id = host.call("keys.list")["result"]["sites"][0]["keys"][0]["id"]
    relay.set_status(relay.tokens[0]["id"], 3)
    for mtype, params in [
        ("accounts.list", {}),
        ("accounts.refresh", {}),
        ("keys.list", {}),
        ("keys.check", {"ids": [key_id]}),
        ("models.list", {"key_id": key_id}),
        ("import", {"key_id": key_id, "allow_unusable": True}),
        ("import", {"key_id": key_id, "dry_run": True}),
        ("accounts.stale", {}),
        ("accounts.cleanup", {"dry_run": True}),
        ("accounts.cleanup", {}),
        ("accounts.add", {"site_url": relay.url, "user_id": 8, "access_token": ACCESS}),
    ]:
        clean(json.dumps(host.call(mtype, params)), f"the reply to {mtype}")
    clean(json.dumps(added), "accounts.add")
    clean(host.stderr_text(), "the host's stderr")
    for args in (
        ("accounts", "list"),
        ("accounts", "refresh"),
        ("--json", "accounts", "list"),
        ("keys", "list"),
        ("accounts", "stale"),
    ):
        result = cli(*args)
        clean(result.out + result.err, "cpa-bridge " + " ".join(args))
    for path in isolated_home.rglob("*"):
        if not path.is_file():
            continue
        if path.name in SECRET_HOLDERS or "backups" in path.parts:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} must be 0600"
            continue
        clean(path.read_text("utf-8", "replace"), str(path.relative_to(isolated_home)))
    log = Path(os.environ["XDG_DATA_HOME"]) / "cpa-bridge" / "logs" / "host.log"
    assert "type=accounts.add" in log.read_text()
