"""The extension stores no secret: after a full flow through the pages (settings saved, key added,
revealed, imported), neither the management key nor the API key is anywhere in the browser profile:
no extension storage, Local Storage, IndexedDB, cache or preferences file."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext
from tests.standin.plugin import STANDIN_SECRET, UPSTREAM_KEY


def test_profile_holds_no_key_after_a_full_flow(ext: Ext, cpa: Any, relay: Any) -> None:
    page = ext.open("options.html")
    expect(page.locator("#host-status")).to_have_attribute("data-state", "ok")
    page.fill("#mgmt-url", cpa.url)
    page.fill("#mgmt-key", STANDIN_SECRET)
    page.click("#save-settings")
    expect(page.locator(".toast.toast-success[data-action=saved]")).to_be_visible()

    keys = ext.open("keys.html")
    site = ext.call(keys, "sites.save", {"name": "Relay", "url": relay.url, "notes": ""})["result"][
        "site"
    ]
    key = ext.call(
        keys, "keys.save", {"site_id": site["id"], "label": "k", "api_key": UPSTREAM_KEY}
    )["result"]["key"]
    assert ext.call(keys, "keys.reveal", {"id": key["id"]})["result"]["api_key"] == UPSTREAM_KEY
    keys.reload()
    keys.click(f'button.cpa-import[data-key-id="{key["id"]}"]')
    keys.locator("dialog[open] button[type=submit], dialog[open] #import-submit").first.click()
    expect(keys.locator(".toast.toast-success")).to_be_visible()
    assert UPSTREAM_KEY in str(cpa.config()), "the import really happened"

    # the extension has no storage permission at all, and nothing in web storage
    assert keys.evaluate("typeof chrome.storage") == "undefined"
    assert keys.evaluate("localStorage.length + sessionStorage.length") == 0
    for page_ in (page, keys):
        page_.close()
    leaks = []
    for path in ext.browser.user_data_dir.rglob("*"):
        if path.is_file() and path.suffix not in (".png",):
            data = path.read_bytes()
            for secret in (STANDIN_SECRET, UPSTREAM_KEY):
                if secret.encode() in data or secret.encode("utf-16-le") in data:
                    leaks.append(f"{secret[:6]}… in {path.relative_to(ext.browser.user_data_dir)}")
    assert not leaks, leaks
