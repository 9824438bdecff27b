"""Options page: save settings, test the connection, errors shown as localised toasts."""

from __future__ import annotations

import os
import signal
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Ext, configure, messages
from tests.standin.plugin import STANDIN_SECRET

EN = messages("en")


def open_options(ext: Ext) -> Any:
    page = ext.open("options.html")
    expect(page.locator("#host-status")).to_have_attribute("data-state", "ok")
    return page


def test_host_status_is_shown(ext: Ext) -> None:
    page = open_options(ext)
    expect(page.locator("#host-status")).to_have_text(EN["host_installed"])
    expect(page.locator("#host-version")).to_have_text("0.1.0")
    expect(page.locator("#host-protocol")).to_have_text("1")
    expect(page.locator("#host-banner")).to_be_hidden()


def test_save_settings_and_test_connection(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    # A pasted list URL: the host cuts it back to the management root, with a warning.
    page.fill("#mgmt-url", cpa.management_url + "/openai-compatibility")
    page.fill("#mgmt-key", STANDIN_SECRET)
    page.click("#save-settings")

    expect(page.locator(".toast.toast-success[data-action=saved]")).to_be_visible()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    key_field = page.locator("#mgmt-key")
    expect(key_field).to_have_value("")  # never kept in the page
    expect(key_field).to_have_attribute("placeholder", STANDIN_SECRET[:5] + "…" + STANDIN_SECRET[-4:])
    expect(page.locator("#settings-warnings")).to_contain_text("openai-compatibility")

    page.click("#test-connection")
    expect(page.locator("#connection-result")).to_be_visible()
    expect(page.locator("#server-version")).to_have_text(cpa.version)
    expect(page.locator('#list-counts tr[data-list="openai-compatibility"] td')).to_have_text("0")
    expect(page.locator('#list-counts tr[data-list="claude-api-key"] td')).to_have_text("0")
    expect(page.locator(".toast.toast-success[data-action=connected]")).to_contain_text(cpa.version)

    # Reloading shows what the host keeps: the URL and the masked key, never the key.
    page.reload()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    expect(page.locator("#mgmt-key")).to_have_value("")
    assert STANDIN_SECRET not in page.content()


def test_wrong_management_key_shows_unauthorized_toast(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    page.fill("#mgmt-url", cpa.management_url)
    page.fill("#mgmt-key", "wrong-key-123456789")
    page.click("#save-settings")
    expect(page.locator(".toast.toast-success[data-action=saved]")).to_be_visible()

    page.click("#test-connection")
    toast = page.locator('.toast.toast-error[data-code="unauthorized"]')
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(EN["error_unauthorized"])
    expect(page.locator("#mgmt-key-rejected")).to_be_visible()

    # The host will not send a rejected key again (no walk into the server's ban).
    page.locator(".toast-close").first.click()
    page.click("#test-connection")
    expect(page.locator('.toast.toast-error[data-code="auth_blocked"]')).to_be_visible()


def test_not_configured_toast_links_to_options(ext: Ext) -> None:
    page = open_options(ext)
    page.click("#test-connection")
    toast = page.locator('.toast.toast-error[data-code="not_configured"]')
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name=EN["open_options"])).to_be_visible()


def test_insecure_url_is_refused_with_a_field_error(ext: Ext) -> None:
    page = open_options(ext)
    page.fill("#mgmt-url", "http://cpa.example.com:8317")
    page.click("#save-settings")
    expect(page.locator('.toast.toast-error[data-code="insecure_url"]')).to_be_visible()
    expect(page.locator("#mgmt-url-error")).to_be_visible()
    expect(page.locator("#mgmt-url")).to_have_attribute("aria-invalid", "true")


def test_host_exit_fails_pending_request_then_reconnects(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    configure(ext, page, cpa)
    [pid] = ext.host_pids()
    cpa.faults.delay_seconds = 5
    page.click("#test-connection")
    page.wait_for_timeout(500)  # the request is with the host now
    os.kill(pid, signal.SIGTERM)
    toast = page.locator('.toast.toast-error[data-code="host_exited"]')
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(EN["error_host_exited"])

    cpa.faults.delay_seconds = 0
    page.click("#test-connection")  # a new port, a new host process
    expect(page.locator(".toast.toast-success[data-action=connected]")).to_be_visible()
    assert ext.host_pids() != [pid]


def test_request_timeout_then_the_port_still_works(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    configure(ext, page, cpa)
    cpa.faults.delay_seconds = 2
    reply = ext.call(page, "connection.test", timeout_ms=300)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "request_timeout"
    cpa.faults.delay_seconds = 0
    reply = ext.call(page, "ping")  # answered after the late reply, which is dropped
    assert reply["ok"] is True
    assert reply["result"]["protocol"] == 1
