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
