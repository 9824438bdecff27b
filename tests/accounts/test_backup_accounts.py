"""An All API Hub backup becomes relay accounts with their keys, after one confirmation (over frames)."""

from __future__ import annotations

import json

from tests.accounts.aah_backup import backup_full, credential_profile, site_account

TOKEN = "relay-access-token-0123456789"


def test_backup_accounts_become_relay_accounts_with_keys(relay_factory, host):
    sites = {family: relay_factory(family) for family in ("new-api", "one-api", "veloera")}
    for relay in sites.values():
        relay.add_tokens(3)
    accounts = [
        site_account(
            id="a1",
            site_name="New",
            site_url=sites["new-api"].url,
            site_type="new-api",
            auth_type="access_token",
            user_id="7",
            access_token=TOKEN,
        ),
        site_account(
            id="a2",
            site_name="One",
            site_url=sites["one-api"].url,
            site_type="one-api",
            auth_type="access_token",
            user_id="7",
            access_token=TOKEN,
        ),
        site_account(
            id="a3",
            site_name="Velo",
            site_url=sites["veloera"].url,
            site_type="Veloera",
            auth_type="access_token",
            user_id="7",
            access_token=TOKEN,
        ),
        site_account(
            id="a4",
            site_name="Cookie site",
            site_url="https://cookie.invalid",
            site_type="new-api",
            auth_type="cookie",
            cookie="session=abc",
        ),
    ]
    profile = credential_profile(
        id="p1",
        name="Direct",
        base_url="https://direct.invalid/v1",
        api_key="sk-direct-profile-key-0123",
        api_type="openai-compatible",
    )
    data = backup_full(accounts, [profile])

    preview = host.call("keys.import_backup", {"data": data, "dry_run": True})["result"]
    assert preview["accounts_found"] == 3  # the question: "fetch keys from 3 sites now?"
    assert preview["accounts_added"] == []
    assert [n["site_url"] for n in preview["needs_access_token"]] == ["https://cookie.invalid"]
    assert "access token" in preview["needs_access_token"][0]["hint"]
    assert host.call("accounts.list")["result"]["accounts"] == []

    done = host.call("keys.import_backup", {"data": data, "accounts": True})["result"]
    assert (
        len(done["accounts_added"]) == 3 and done["keys_added"] == 1
    )  # the profile's key came in directly
    for added in done["accounts_added"]:  # one refresh per site, so the page can show progress
        reply = host.call("accounts.refresh", {"account": added["id"]})
        assert reply["ok"], reply
        assert reply["result"]["results"][0]["result"]["added"] == 3
    listed = host.call("accounts.list")["result"]["accounts"]
    assert sorted(a["family"] for a in listed) == ["new-api", "one-api", "veloera"]
    assert all(a["counts"]["keys"] == 3 for a in listed)
    assert TOKEN not in json.dumps(listed)
    # importing the same backup again adds nothing
    again = host.call("keys.import_backup", {"data": data, "accounts": True})["result"]
    assert again["accounts_added"] == [] and len(again["accounts_existing"]) == 3
