"""Relay accounts over real native-messaging frames, against the stand-in relay sites and CLIProxyAPI."""

from __future__ import annotations

import json
import time

import pytest

from tests.standin.relay import StandinRelay

TOKEN = "relay-access-token-0123456789"
FAMILIES = ["new-api", "one-api", "veloera"]


def add(host, relay: StandinRelay, **extra):
    params = {
        "site_url": relay.url,
        "user_id": relay.user_id,
        "access_token": TOKEN,
        "name": "Relay",
        **extra,
    }
    return host.call("accounts.add", params)


def site_keys(host, account_id: str) -> list[dict]:
    sites = host.call("keys.list")["result"]["sites"]
    site = next(s for s in sites if s.get("account_id") == account_id)
    return site["keys"]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_token_listed_once_masked_with_status(family, relay_factory, host):
    relay = relay_factory(family, page_cap=10)
    relay.add_tokens(26)
    disabled = relay.add_token("off", status=2)
    reply = add(host, relay)
    assert reply["ok"], reply
    result = reply["result"]
    assert result["account"]["family"] == family  # detected
    assert result["refresh"]["total"] == 27 and result["refresh"]["added"] == 27
    # 27 tokens, 10 a page: New API stops by its total (3 pages), the bare arrays at an empty 4th
    assert result["refresh"]["pages"] == (3 if family == "new-api" else 4)
    keys = site_keys(host, result["account"]["id"])
    assert sorted(k["remote"]["remote_id"] for k in keys) == sorted(t["id"] for t in relay.tokens)
    assert len({k["id"] for k in keys}) == 27
    raw = json.dumps(host.call("keys.list")["result"]) + json.dumps(result)
    for token in relay.tokens:
        assert token["key"] not in raw  # masked in every reply
    assert TOKEN not in raw
    statuses = {k["label"]: k["remote"]["status"] for k in keys}
    assert statuses["off"] == "disabled" and statuses["key-01"] == "enabled"
    off = next(k for k in keys if k["remote"]["remote_id"] == disabled["id"])
    assert off["usable"] is False and off["problem"] == "disabled"
    if family == "new-api":  # masked on the site: one batch reveal for all 27, not 27 calls
        assert relay.reveal_calls == 1
        assert all(not k["masked"] for k in keys)


def test_new_api_pages_of_a_hundred_are_all_fetched(relay_factory, host):
    """New API caps a page at 100: 130 tokens take two pages, each listed once."""
    relay = relay_factory("new-api")
    relay.add_tokens(130)
    result = add(host, relay)["result"]
    assert result["refresh"]["total"] == 130 and result["refresh"]["pages"] == 2
    assert relay.reveal_calls == 2  # 100 ids per batch call


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_access_token_is_a_clear_error_and_adds_nothing(family, relay_factory, host):
    relay = relay_factory(family)
    relay.add_tokens(3)
    reply = host.call(
        "accounts.add",
        {
            "site_url": relay.url,
            "user_id": relay.user_id,
            "access_token": "wrong-token-abcdef",
            "family": family,
        },
    )
    assert not reply["ok"]
    assert reply["error"]["code"] == "relay_token_invalid", reply
    assert "wrong-token" not in json.dumps(reply)
    assert host.call("accounts.list")["result"]["accounts"] == []
    assert host.call("keys.list")["result"]["sites"] == []


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_user_id_is_a_clear_error(family, relay_factory, host):
    relay = relay_factory(family)
    reply = host.call("accounts.add", {"site_url": relay.url, "user_id": 99, "access_token": TOKEN})
    assert reply["error"]["code"] == "relay_user_mismatch", reply
    assert host.call("accounts.list")["result"]["accounts"] == []


def test_not_a_relay_site_and_wrong_family(relay_factory, upstream, host):
    reply = host.call(
        "accounts.add", {"site_url": upstream.url, "user_id": 1, "access_token": TOKEN}
    )
    assert reply["error"]["code"] == "relay_family_mismatch", reply
    relay = relay_factory("one-api")
    reply = add(
        host, relay, family="new-api"
    )  # One API sends a bare array, not New API's {items, total}
    assert reply["error"]["code"] == "relay_family_mismatch", reply
    relay = relay_factory("veloera")
    reply = add(host, relay, family="one-api")  # Veloera asks for its own user header
    assert reply["error"]["code"] == "relay_family_mismatch", reply
    assert reply["error"]["details"]["detected"] == "veloera"
    assert host.call("accounts.list")["result"]["accounts"] == []


def test_unreachable_site(host):
    reply = host.call(
        "accounts.add", {"site_url": "http://127.0.0.1:9", "user_id": 1, "access_token": TOKEN}
    )
    assert reply["error"]["code"] == "unreachable", reply


def test_refresh_marks_deleted_and_dead_keys_and_adds_new(relay_factory, host):
    relay = relay_factory("veloera")
    first = relay.add_tokens(4)
    account = add(host, relay)["result"]["account"]
    relay.delete_token(first[0]["id"])
    relay.set_status(first[1]["id"], 4)
    relay.add_token("fresh")
    reply = host.call("accounts.refresh", {"account": account["id"]})
    assert reply["ok"], reply
    outcome = reply["result"]["results"][0]["result"]
    assert (outcome["added"], outcome["gone"], outcome["total"]) == (1, 1, 4)
    keys = {k["remote"]["remote_id"]: k for k in site_keys(host, account["id"])}
    assert keys[first[0]["id"]]["gone"] is True and keys[first[0]["id"]]["problem"] == "deleted"
    assert keys[first[1]["id"]]["problem"] == "exhausted"
    assert len(keys) == 5  # the deleted one is kept, marked


def test_masked_key_imports_in_full_and_cleanup_removes_it_with_undo(
    relay_factory, cpa_configured, host
):
    """On the stand-in and on every real CLIProxyAPI server."""
    configured = cpa_configured
    relay = relay_factory("new-api", reveal_limit=100)
    relay.add_tokens(3)
    account = add(host, relay, fetch=True)["result"]["account"]
    keys = site_keys(host, account["id"])
    key = keys[0]
    reply = host.call("import", {"key_id": key["id"]})
    assert reply["ok"], reply
    full = relay.full_key(key["remote"]["remote_id"])
    stored = configured.config().get("openai-compatibility") or []
    assert [e["api-key"] for e in stored[0]["api-key-entries"]] == [full]
    assert full not in json.dumps(reply)
    # the site disables the key: refresh shows it, stale names the provider, cleanup removes it
    relay.set_status(key["remote"]["remote_id"], 2)
    host.call("accounts.refresh", {})
    stale = host.call("accounts.stale", {})["result"]
    assert stale["held"] == 1
    assert stale["keys"][0]["held_by"][0]["provider"] == stored[0]["name"]
    preview = host.call("accounts.cleanup", {"dry_run": True})["result"]
    assert preview["results"][0]["result"]["lists"]["openai-compatibility"]["outcome"] == "dry_run"
    assert (configured.config().get("openai-compatibility") or [])[0]["api-key-entries"]
    done = host.call("accounts.cleanup", {})["result"]
    entry = done["results"][0]["result"]
    assert entry["lists"]["openai-compatibility"]["outcome"] == "succeeded"
    assert (configured.config().get("openai-compatibility") or [])[0].get(
        "api-key-entries", []
    ) == []
    undo = host.call("history.undo", {"backup_id": entry["backup_ids"][0]})
    assert undo["ok"], undo
    assert [
        e["api-key"]
        for e in (configured.config().get("openai-compatibility") or [])[0]["api-key-entries"]
    ] == [full]


def test_reveal_rate_limit_keeps_keys_masked_then_import_says_429(relay_factory, configured, host):
    relay = relay_factory("new-api", reveal_limit=0)
    relay.add_tokens(2)
    result = add(host, relay)["result"]
    assert result["refresh"]["masked"] == 2 and result["refresh"]["warnings"]
    key = site_keys(host, result["account"]["id"])[0]
    assert key["masked"] is True
    reply = host.call("import", {"key_id": key["id"]})
    assert reply["error"]["code"] == "relay_rate_limited", reply
    assert (configured.config().get("openai-compatibility") or []) == []


def test_unusable_key_asks_first_and_batch_can_skip(relay_factory, cpa_configured, host):
    configured = cpa_configured
    relay = relay_factory("one-api")
    good = relay.add_token("good")
    bad = relay.add_token("expired", expired_time=int(time.time()) - 60)
    account = add(host, relay)["result"]["account"]
    keys = {k["remote"]["remote_id"]: k for k in site_keys(host, account["id"])}
    assert keys[bad["id"]]["problem"] == "expired"
    reply = host.call("import", {"key_id": keys[bad["id"]]["id"]})
    assert reply["error"]["code"] == "key_unusable"
    assert (configured.config().get("openai-compatibility") or []) == []
    items = [{"key_id": keys[good["id"]]["id"]}, {"key_id": keys[bad["id"]]["id"]}]
    reply = host.call("import.batch", {"items": items, "skip_unusable": True})
    assert reply["ok"], reply
    assert reply["result"]["skipped"] == [
        {"index": 1, "key_id": keys[bad["id"]]["id"], "problem": "expired"}
    ]
    assert [
        e["api-key"]
        for e in (configured.config().get("openai-compatibility") or [])[0]["api-key-entries"]
    ] == ["sk-" + good["key"]]


def test_key_check_valid_and_rejected(relay_factory, host):
    relay = relay_factory("veloera")
    tokens = relay.add_tokens(2)
    account = add(host, relay)["result"]["account"]
    keys = {k["remote"]["remote_id"]: k for k in site_keys(host, account["id"])}
    relay.set_status(tokens[1]["id"], 2)  # the site refuses it at relay time
    reply = host.call("keys.check", {"ids": [keys[t["id"]]["id"] for t in tokens]})
    assert [r["result"] for r in reply["result"]["results"]] == ["valid", "rejected"]


def test_list_and_remove_account(relay_factory, host):
    relay = relay_factory("new-api")
    relay.add_tokens(2)
    account = add(host, relay)["result"]["account"]
    listed = host.call("accounts.list")["result"]["accounts"]
    assert listed[0]["counts"] == {"keys": 2, "usable": 2, "gone": 0, "masked": 0, "unusable": 0}
    assert TOKEN[-4:] + " #" in listed[0]["token_hint"] and TOKEN not in json.dumps(listed)
    assert host.call("accounts.remove", {"account": "relay"})["result"]["keys_removed"] == 2
    assert host.call("accounts.list")["result"]["accounts"] == []
    assert host.call("keys.list")["result"]["sites"] == []
    del account


def test_access_token_file_is_private(relay_factory, host, isolated_home):
    relay = relay_factory("one-api")
    add(host, relay)
    files = list(isolated_home.rglob("accounts.json"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600


def test_slow_site_times_out_and_adds_nothing(relay_factory, host_factory):
    relay = relay_factory("one-api", delay_seconds=2)
    host = host_factory(env={"CPA_BRIDGE_TIMEOUT": "0.5"})
    reply = add(host, relay)
    assert reply["error"]["code"] == "timeout", reply
    assert host.call("accounts.list")["result"]["accounts"] == []


def test_page_cap_stops_with_a_warning(relay_factory, host):
    """One API gives 10 tokens a page and only an empty page ends the list: 600 tokens hit the 50-page cap."""
    relay = relay_factory("one-api")
    relay.add_tokens(600)
    result = add(host, relay)["result"]["refresh"]
    assert (result["pages"], result["total"], result["truncated"]) == (50, 500, True)
    assert "50 pages" in result["warnings"][0]


def test_adding_the_same_account_again_updates_its_token(relay_factory, host):
    relay = relay_factory("veloera")
    relay.add_tokens(2)
    first = add(host, relay)["result"]
    relay.access_token = "rotated-token-0123456789"
    assert (
        host.call("accounts.refresh", {"account": first["account"]["id"]})["error"]["code"]
        == "relay_token_invalid"
    )
    assert (
        host.call("accounts.list")["result"]["accounts"][0]["last_error"]["code"]
        == "relay_token_invalid"
    )
    again = host.call(
        "accounts.add",
        {
            "site_url": relay.url,
            "user_id": relay.user_id,
            "access_token": "rotated-token-0123456789",
        },
    )["result"]
    assert again["updated"] is True and again["account"]["id"] == first["account"]["id"]
    assert again["account"]["name"] == "Relay" and again["account"]["last_error"] is None
    listed = host.call("accounts.list")["result"]["accounts"]
    assert len(listed) == 1 and "6789 #" in listed[0]["token_hint"]
    assert len(site_keys(host, first["account"]["id"])) == 2
    # a wrong token for an existing account changes nothing
    bad = host.call(
        "accounts.add",
        {"site_url": relay.url, "user_id": relay.user_id, "access_token": "nope-000000"},
    )
    assert bad["error"]["code"] == "relay_token_invalid"
    assert (
        host.call("accounts.list")["result"]["accounts"][0]["token_hint"] == listed[0]["token_hint"]
    )


def test_add_without_fetch_then_refresh(relay_factory, host):
    relay = relay_factory("new-api")
    relay.add_tokens(2)
    result = add(host, relay, fetch=False)["result"]
    assert result["refresh"] is None and result["account"]["refreshed_at"] is None
    assert result["site"]["keys"] == [] and relay.reveal_calls == 0
    outcome = host.call("accounts.refresh", {"account": result["account"]["id"]})["result"][
        "results"
    ][0]
    assert outcome["ok"] and outcome["result"]["added"] == 2


def test_the_import_dialogs_model_fetch_counts_as_a_key_check(relay_factory, host):
    relay = relay_factory("one-api")
    tokens = relay.add_tokens(2)
    account = add(host, relay)["result"]["account"]
    keys = {k["remote"]["remote_id"]: k for k in site_keys(host, account["id"])}
    assert host.call("models.list", {"key_id": keys[tokens[0]["id"]]["id"]})["ok"]
    relay.set_status(tokens[1]["id"], 2)
    assert (
        host.call("models.list", {"key_id": keys[tokens[1]["id"]]["id"]})["error"]["code"]
        == "upstream_error"
    )
    after = {k["remote"]["remote_id"]: k for k in site_keys(host, account["id"])}
    assert after[tokens[0]["id"]]["check"]["result"] == "valid"
    assert after[tokens[1]["id"]]["check"]["result"] == "rejected"
    assert after[tokens[1]["id"]]["usable"] is False
