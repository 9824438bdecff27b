"""``cpa-bridge accounts …`` through the real CLI process, against stand-in relay sites and CLIProxyAPI."""

from __future__ import annotations

import json

from tests.accounts.aah_backup import backup_full, site_account
from tests.conftest import MGMT_KEY

TOKEN = "relay-access-token-0123456789"


def test_add_list_refresh_remove_and_import_by_key_id(relay_factory, standin, cli, tmp_path):
    relay = relay_factory("new-api", page_cap=10)
    relay.add_tokens(25)
    assert cli("settings", "set", "--url", standin.url, "--key", stdin=MGMT_KEY + "\n").code == 0
    added = cli(
        "accounts",
        "add",
        "--site-url",
        relay.url,
        "--user-id",
        "7",
        "--name",
        "Main",
        "--json",
        stdin=TOKEN + "\n",
    )
    assert added.code == 0, added.err
    account = added.json()["result"]["account"]
    assert added.json()["result"]["refresh"]["total"] == 25
    assert TOKEN not in added.out

    listed = cli("accounts", "list", "--json").json()["result"]["accounts"]
    assert [a["name"] for a in listed] == ["Main"] and listed[0]["counts"]["keys"] == 25
    human = cli("accounts", "list")
    assert "Main" in human.out and "25 keys" in human.out

    keys = cli("keys", "list", "--json").json()["result"]["sites"][0]["keys"]
    assert len(keys) == 25 and all(k["remote"]["status"] == "enabled" for k in keys)
    for token in relay.tokens:
        assert token["key"] not in json.dumps(keys)
    key = keys[0]
    imported = cli("import", "--key-id", key["id"], "--json")
    assert imported.code == 0, imported.out + imported.err
    entries = standin.config()["openai-compatibility"][0]["api-key-entries"]
    assert [e["api-key"] for e in entries] == [relay.full_key(key["remote"]["remote_id"])]

    relay.add_token("late")
    refreshed = cli("accounts", "refresh", "Main", "--json")
    assert refreshed.code == 0
    assert refreshed.json()["result"]["results"][0]["result"]["added"] == 1
    assert cli("accounts", "refresh").code == 0

    removed = cli("accounts", "remove", account["id"], "--json")
    assert removed.json()["result"]["keys_removed"] == 26
    assert cli("accounts", "list", "--json").json()["result"]["accounts"] == []


def test_wrong_token_exit_code_and_message(relay_factory, cli):
    relay = relay_factory("one-api")
    result = cli("accounts", "add", "--site-url", relay.url, "--user-id", "7", stdin="nope-token\n")
    assert result.code == 5
    assert "relay_token_invalid" in result.err and "nope-token" not in result.err
    assert cli("accounts", "list", "--json").json()["result"]["accounts"] == []


def test_backup_import_with_accounts_fetches_each_site(relay_factory, cli, tmp_path):
    relay = relay_factory("veloera")
    relay.add_tokens(4)
    backup = backup_full(
        [
            site_account(
                id="a1",
                site_name="Velo",
                site_url=relay.url,
                site_type="Veloera",
                auth_type="access_token",
                user_id="7",
                access_token=TOKEN,
            )
        ]
    )
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(backup), encoding="utf-8")
    without = cli(
        "keys", "import-backup", str(path), "--json"
    )  # not a terminal: no question, no accounts
    assert without.code == 0 and without.json()["result"]["accounts_added"] == []
    result = cli("keys", "import-backup", str(path), "--accounts", "--json")
    assert result.code == 0, result.err
    fetched = result.json()["result"]["fetched"]
    assert fetched == [{**fetched[0], "ok": True, "keys": 4}]
    assert "[1/1] Velo" in result.err


def test_stale_cleanup_and_check_in_the_terminal(relay_factory, standin, cli):
    relay = relay_factory("one-api")
    tokens = relay.add_tokens(2)
    assert cli("settings", "set", "--url", standin.url, "--key", stdin=MGMT_KEY + "\n").code == 0
    assert (
        cli("accounts", "add", "--site-url", relay.url, "--user-id", "7", stdin=TOKEN + "\n").code
        == 0
    )
    keys = cli("keys", "list", "--json").json()["result"]["sites"][0]["keys"]
    assert cli("import", "--key-id", keys[0]["id"]).code == 0
    relay.delete_token(keys[0]["remote"]["remote_id"])
    refreshed = cli("accounts", "refresh")
    assert "1 deleted on the site" in refreshed.out and "accounts cleanup" in refreshed.out
    assert "[deleted]" in cli("keys", "list").out
    stale = cli("accounts", "stale")
    assert "deleted" in stale.out and "default/openai-compatibility/" in stale.out
    preview = cli("accounts", "cleanup", "--dry-run")
    assert "would remove 1 key(s) from openai-compatibility" in preview.out
    done = cli("accounts", "cleanup")
    assert done.code == 0 and "undo: cpa-bridge undo" in done.out
    assert standin.config()["openai-compatibility"][0].get("api-key-entries", []) == []
    checked = cli("keys", "check", keys[1]["id"])
    assert checked.code == 0 and "valid" in checked.out
    del tokens
