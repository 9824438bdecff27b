"""Key-management page: sites and keys, reveal, search, All API Hub backup import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, add_site_with_key, messages
from tests.masks import hint

EN = messages("en")
API_KEY = "sk-e2e-site-key-0123456789abcdef"
HINT = hint(API_KEY)


def open_keys(ext: Ext, **kwargs: Any) -> Any:
    page = ext.open("keys.html", **kwargs)
    expect(page.locator("#list-status")).not_to_have_text(EN["loading"])
    return page


def test_add_site_and_key(ext: Ext) -> None:
    page = open_keys(ext)
    expect(page.locator("#list-status")).to_have_text(EN["no_sites"])

    page.click("#add-site")
    dialog = page.locator("#site-dialog")
    expect(dialog).to_be_visible()
    page.fill("#site-name", "Relay One")
    page.fill("#site-url", "https://relay-one.example.com")
    dialog.get_by_role("button", name=EN["save"]).click()
    expect(dialog).to_be_hidden()
    card = page.locator(".site-card", has_text="Relay One")
    expect(card).to_be_visible()
    expect(card.locator(".site-url")).to_have_text("https://relay-one.example.com")
    expect(card.locator(".key-empty")).to_be_visible()

    card.get_by_role("button", name="Add a key to Relay One").click()
    key_dialog = page.locator("#key-dialog")
    expect(key_dialog).to_be_visible()
    page.fill("#key-label", "main")
    page.fill("#key-secret", API_KEY)
    key_dialog.get_by_role("button", name=EN["save"]).click()
    expect(key_dialog).to_be_hidden()

    row = card.locator(".key-row")
    expect(row).to_have_count(1)
    expect(row.locator(".key-label")).to_have_text("main")
    expect(row.locator(".key-value")).to_have_text(HINT)
    cpa_button = row.locator("button.cpa-import")
    expect(cpa_button).to_have_attribute("aria-label", "Import to CLIProxyAPI")
    expect(cpa_button).to_have_attribute("title", "Import to CLIProxyAPI")
    assert cpa_button.get_attribute("data-key-id")
    assert cpa_button.locator("svg").count() == 1

    # The cards' icons are drawn inline, as the sprite draws them (no <use>: its shadow tree is
    # restyled even in an off-screen card whenever a dialog opens or closes).
    assert card.locator("use").count() == 0
    icon = cpa_button.locator("svg.icon")
    expect(icon).to_have_attribute("data-icon", "i-cpa")
    expect(icon).to_have_attribute("viewBox", "0 0 24 24")
    assert icon.evaluate("(svg) => svg.innerHTML") == page.evaluate(
        "() => document.getElementById('i-cpa').innerHTML"
    )

    # Reveal shows the key (from keys.reveal) and hides it again, its icon following.
    reveal = row.locator(".key-reveal")
    expect(reveal.locator("svg.icon")).to_have_attribute("data-icon", "i-eye")
    reveal.click()
    expect(row.locator(".key-value")).to_have_text(API_KEY)
    expect(reveal).to_have_attribute("aria-pressed", "true")
    expect(reveal.locator("svg.icon")).to_have_attribute("data-icon", "i-eye-off")
    reveal.click()
    expect(row.locator(".key-value")).to_have_text(HINT)
    expect(reveal.locator("svg.icon")).to_have_attribute("data-icon", "i-eye")
    # Nothing about the key survives a reload but its mask.
    page.reload()
    expect(page.locator(".key-row .key-value")).to_have_text(HINT)


def test_edit_and_delete(ext: Ext) -> None:
    page = open_keys(ext)
    add_site_with_key(ext, page, "Old name", "https://old.example.com", API_KEY, "k1")
    page.reload()
    card = page.locator(".site-card")
    expect(card).to_have_count(1)

    card.locator(".edit-site").click()
    expect(page.locator("#site-name")).to_have_value("Old name")
    page.fill("#site-name", "New name")
    page.locator("#site-dialog").get_by_role("button", name=EN["save"]).click()
    expect(card.locator(".site-name")).to_have_text("New name")

    card.locator(".key-edit").click()
    expect(page.locator("#key-secret")).to_have_attribute("placeholder", HINT)
    page.fill("#key-label", "renamed")
    page.locator("#key-dialog").get_by_role("button", name=EN["save"]).click()
    expect(card.locator(".key-label")).to_have_text("renamed")
    expect(card.locator(".key-value")).to_have_text(HINT)  # the key was kept

    card.locator(".key-delete").click()
    page.locator("#confirm-ok").click()
    expect(card.locator(".key-row")).to_have_count(0)
    card.locator(".delete-site").click()
    page.locator("#confirm-ok").click()
    expect(page.locator(".site-card")).to_have_count(0)
    expect(page.locator("#list-status")).to_have_text(EN["no_sites"])


def test_search(ext: Ext) -> None:
    page = open_keys(ext)
    add_site_with_key(ext, page, "Alpha relay", "https://alpha.example.com", API_KEY + "a")
    add_site_with_key(ext, page, "Beta relay", "https://beta.example.com", API_KEY + "b")
    page.reload()
    expect(page.locator(".site-card")).to_have_count(2)
    page.fill("#search", "beta")
    expect(page.locator(".site-card")).to_have_count(1)
    expect(page.locator(".site-card .site-name")).to_have_text("Beta relay")
    page.fill("#search", "")
    expect(page.locator(".site-card")).to_have_count(2)


def test_import_all_api_hub_backup(ext: Ext, tmp_path: Path) -> None:
    backup = {
        "version": "2.0",
        "timestamp": 1760000000000,
        "accounts": {
            "accounts": [
                {
                    "site_name": "Hub Relay",
                    "site_url": "https://hub-relay.example.com",
                    "tokens": [{"name": "default", "key": "sk-hub-relay-0123456789abcdef"}],
                }
            ]
        },
    }
    path = tmp_path / "all-api-hub-backup.json"
    path.write_text(json.dumps(backup), encoding="utf-8")
    page = open_keys(ext)
    page.set_input_files("#backup-file", str(path))
    toast = page.locator(".toast.toast-success[data-action=backup]")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Sites added: 1 · keys added: 1 · keys skipped: 0")
    card = page.locator(".site-card", has_text="Hub Relay")
    expect(card.locator(".key-value")).to_have_text(hint("sk-hub-relay-0123456789abcdef"))

    # The same backup again adds nothing.
    page.locator(".toast-close").first.click()
    page.set_input_files("#backup-file", str(path))
    expect(page.locator(".toast.toast-success[data-action=backup]")).to_contain_text(
        "keys skipped: 1"
    )
    expect(page.locator(".site-card")).to_have_count(1)


def test_copy_puts_the_key_on_the_clipboard(ext: Ext) -> None:
    ext.browser.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = open_keys(ext)
    add_site_with_key(ext, page, "Copy relay", "https://copy.example.com", API_KEY)
    page.reload()
    page.locator(".key-row .key-copy").click()
    expect(page.locator(".toast.toast-success")).to_contain_text(EN["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == API_KEY
    expect(page.locator(".key-row .key-value")).to_have_text(HINT)  # copying does not reveal


def test_keyboard_reaches_the_import_button_and_dialog(ext: Ext) -> None:
    page = open_keys(ext)
    _, key_id = add_site_with_key(ext, page, "Keyboard relay", "https://kb.example.com", API_KEY)
    page.reload()
    button = page.locator(f'button.cpa-import[data-key-id="{key_id}"]')
    expect(button).to_be_visible()
    for _ in range(40):  # Tab through the page until the import button has focus
        page.keyboard.press("Tab")
        if button.evaluate("node => node === document.activeElement"):
            break
    else:
        raise AssertionError("the CLIProxyAPI button is not reachable with Tab")
    page.keyboard.press("Enter")
    dialog = page.locator("#import-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#imp-type")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
