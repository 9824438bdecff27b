"""Relay accounts in the real browser: add an account, see its keys with their status, import a
masked key (the full key lands in CLIProxyAPI), refresh, and the question before an unusable key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import Ext, configure
from tests.standin.relay import StandinRelay

TOKEN = "relay-access-token-0123456789"


@pytest.fixture
def site() -> Iterator[StandinRelay]:
    relay = StandinRelay("new-api", access_token=TOKEN, page_cap=10).start()
    relay.add_tokens(25)
    yield relay
    relay.stop()


def add_account(page: Any, site: StandinRelay, token: str = TOKEN) -> None:
    page.click("#add-account")
    dialog = page.locator("#account-dialog")
    expect(dialog).to_be_visible()
    page.fill("#account-url", site.url)
    page.fill("#account-user", str(site.user_id))
    page.fill("#account-token", token)
    page.fill("#account-name", "My relay")
    page.click("#account-form button[type=submit]")


def test_add_account_see_keys_import_masked_key(ext: Ext, cpa: Any, site: StandinRelay) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    add_account(page, site)
    expect(page.locator("#account-dialog")).to_be_hidden()
    card = page.locator(".site-card-account")
    expect(card).to_have_count(1)
    expect(card.locator(".account-family")).to_have_text("New API")
    expect(card.locator(".key-row")).to_have_count(25)
    expect(card.locator('.key-status[data-status="enabled"]')).to_have_count(25)
    for token in site.tokens:  # masked on the page
        assert token["key"] not in page.content()
    assert TOKEN not in page.content()

    # import the newest token: the site lists it masked, CLIProxyAPI gets the full key
    newest = max(site.tokens, key=lambda t: t["id"])
    row = card.locator(".key-row").first
    expect(row.locator(".key-label")).to_have_text(newest["name"])
    row.locator("button.cpa-import").click()
    expect(page.locator("#import-dialog")).to_be_visible()
    page.click("#imp-apply")
    expect(page.locator(".toast.toast-success[data-action=created]")).to_be_visible()
    [provider] = cpa.config().get("openai-compatibility") or []
    assert [e["api-key"] for e in provider["api-key-entries"]] == ["sk-" + newest["key"]]

    # the site disables a token: Refresh shows it, and importing it asks first
    site.set_status(newest["id"], 2)
    card.locator(".account-refresh").click()
    expect(page.locator("#progress-summary")).to_contain_text("1 of 1")
    page.locator("#progress-dialog button[value=close]").click()
    expect(card.locator('.key-status[data-status="disabled"]')).to_have_count(1)
    card.locator(".key-row").first.locator("button.cpa-import").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-dialog button[value=cancel]").click()
    expect(page.locator("#import-dialog")).to_be_hidden()


def test_wrong_token_shows_error_and_adds_nothing(ext: Ext, cpa: Any, site: StandinRelay) -> None:
    page = ext.open("keys.html")
    add_account(page, site, token="not-the-token-000")
    error = page.locator("#account-form .form-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The site refused the access token")
    page.locator("#account-dialog .dialog-cancel").click()
    reply = ext.call(page, "accounts.list")
    assert reply["result"]["accounts"] == []


def test_all_api_hub_backup_asks_once_then_fetches_each_site(
    ext: Ext, cpa: Any, tmp_path: Any
) -> None:
    import json

    from tests.accounts.aah_backup import backup_full, site_account

    sites = [
        StandinRelay(family, access_token=TOKEN).start()
        for family in ("new-api", "one-api", "veloera")
    ]
    try:
        for relay in sites:
            relay.add_tokens(2)
        accounts = [
            site_account(
                id=f"a{i}",
                site_name=f"Site {i}",
                site_url=relay.url,
                site_type={"new-api": "new-api", "one-api": "one-api", "veloera": "Veloera"}[
                    relay.family
                ],
                auth_type="access_token",
                user_id=str(relay.user_id),
                access_token=TOKEN,
            )
            for i, relay in enumerate(sites)
        ]
        accounts.append(
            site_account(
                id="c",
                site_name="Cookie",
                site_url="https://cookie.invalid",
                site_type="new-api",
                auth_type="cookie",
                cookie="s=1",
            )
        )
        path = tmp_path / "all-api-hub-backup.json"
        path.write_text(json.dumps(backup_full(accounts)), encoding="utf-8")
        page = ext.open("keys.html")
        page.set_input_files("#backup-file", str(path))
        confirm = page.locator("#confirm-dialog")
        expect(confirm).to_be_visible()
        expect(confirm).to_contain_text("Fetch keys from 3 site(s) now?")
        page.locator("#confirm-ok").click()
        expect(page.locator("#progress-summary")).to_have_text("3 of 3 sites fetched")
        expect(page.locator('#progress-list .progress-status[data-status="ok"]')).to_have_count(3)
        page.locator("#progress-dialog button[value=close]").click()
        expect(page.locator(".toast.toast-success")).to_contain_text(
            "Cookie"
        )  # needs an access token
        expect(page.locator(".site-card-account")).to_have_count(3)
        expect(page.locator(".site-card-account .key-row")).to_have_count(6)
    finally:
        for relay in sites:
            relay.stop()


def test_clean_up_dead_keys_with_undo(ext: Ext, cpa: Any, site: StandinRelay) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    assert ext.call(
        page, "accounts.add", {"site_url": site.url, "user_id": site.user_id, "access_token": TOKEN}
    )["ok"]
    keys = ext.call(page, "keys.list")["result"]["sites"][0]["keys"]
    assert ext.call(page, "import.batch", {"items": [{"key_id": k["id"]} for k in keys[:2]]})["ok"]
    site.delete_token(keys[0]["remote"]["remote_id"])
    page.reload()
    card = page.locator(".site-card-account")
    card.locator(".account-refresh").click()
    expect(page.locator("#progress-summary")).to_contain_text("1 of 1")
    page.locator("#progress-dialog button[value=close]").click()
    expect(card.locator('.key-status[data-status="deleted"]')).to_have_count(1)
    card.locator(".account-cleanup").click()
    dialog = page.locator("#cleanup-dialog")
    expect(dialog.locator('.cleanup-item[data-held="true"]')).to_have_count(1)
    assert (
        len(cpa.config()["openai-compatibility"][0]["api-key-entries"]) == 2
    )  # the dialog previews only
    page.click("#cleanup-apply")
    toast = page.locator(".toast[data-action=cleanup]")
    expect(toast).to_contain_text("Removed 1 dead key(s)")
    assert [e["api-key"] for e in cpa.config()["openai-compatibility"][0]["api-key-entries"]] == [
        site.full_key(keys[1]["remote"]["remote_id"])
    ]
    toast.locator(".toast-undo").click()
    expect(page.locator(".toast[data-action=undone]")).to_be_visible()
    assert len(cpa.config()["openai-compatibility"][0]["api-key-entries"]) == 2


def test_import_usable_keys_of_an_account_in_one_batch(
    ext: Ext, cpa: Any, site: StandinRelay
) -> None:
    site.add_token("spent", remain_quota=0)
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    assert ext.call(
        page, "accounts.add", {"site_url": site.url, "user_id": site.user_id, "access_token": TOKEN}
    )["ok"]
    page.reload()
    card = page.locator(".site-card-account")
    expect(card.locator(".delete-site")).to_be_hidden()
    button = card.locator(".account-import-usable")
    expect(button).to_contain_text("(25)")
    button.click()
    expect(page.locator("#batch-items .batch-item")).to_have_count(25)
    page.click("#batch-apply")
    expect(
        page.locator(
            '#batch-items .batch-item[data-status="created"], '
            '#batch-items .batch-item[data-status="updated"]'
        )
    ).to_have_count(25)
    [provider] = cpa.config()["openai-compatibility"]
    assert len(provider["api-key-entries"]) == 25
    assert (
        site.reveal_calls == 1
    )  # all 26 masked keys were revealed in one call, when the account was added


def test_test_button_checks_a_key_typed_in_by_hand(ext: Ext, cpa: Any, relay: Any) -> None:
    from tests.e2e.harness import add_site_with_key
    from tests.standin.plugin import UPSTREAM_KEY

    page = ext.open("keys.html")
    site_id, _ = add_site_with_key(ext, page, "Typed", relay.url, UPSTREAM_KEY, "typed")
    assert ext.call(
        page,
        "keys.save",
        {"site_id": site_id, "label": "wrong", "api_key": "sk-not-the-right-key-0000"},
    )["ok"]
    page.reload()
    rows = page.locator(".key-row")
    expect(rows).to_have_count(2)
    rows.nth(0).locator(".key-test").click()
    expect(rows.nth(0).locator('.key-check[data-check="valid"]')).to_be_visible()
    page.locator(".key-row").nth(1).locator(".key-test").click()
    expect(
        page.locator(".key-row").nth(1).locator('.key-check[data-check="rejected"]')
    ).to_be_visible()


def test_batch_tests_keys_first_and_skips_the_rejected(
    ext: Ext, cpa: Any, site: StandinRelay
) -> None:
    page = ext.open("keys.html")
    configure(ext, page, cpa)
    assert ext.call(
        page, "accounts.add", {"site_url": site.url, "user_id": site.user_id, "access_token": TOKEN}
    )["ok"]
    keys = ext.call(page, "keys.list")["result"]["sites"][0]["keys"][:2]
    site.set_status(
        keys[1]["remote"]["remote_id"], 2
    )  # the site refuses it; the page does not know yet
    page.reload()
    for key in keys:
        page.locator(f'.key-row[data-key-id="{key["id"]}"] .key-select').check()
    page.click("#batch-import")
    expect(page.locator("#batch-items .batch-item")).to_have_count(2)
    page.locator("#batch-test").check()
    page.click("#batch-apply")
    expect(page.locator('#batch-items .batch-item[data-status="skipped"]')).to_have_count(1)
    expect(page.locator('#batch-items .batch-item[data-status="created"]')).to_have_count(1)
    [provider] = cpa.config()["openai-compatibility"]
    assert [e["api-key"] for e in provider["api-key-entries"]] == [
        site.full_key(keys[0]["remote"]["remote_id"])
    ]
