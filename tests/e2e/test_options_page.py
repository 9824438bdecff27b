"""Options page: save settings, test the connection, errors shown as localised toasts."""

from __future__ import annotations

import os
import signal
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, configure, messages
from tests.masks import hint
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
    expect(key_field).to_have_attribute("placeholder", hint(STANDIN_SECRET))
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


def test_test_connection_with_an_empty_form_asks_for_the_url_and_key(ext: Ext) -> None:
    # On the settings page itself: field errors, not a "not set up yet… Open settings" toast.
    page = open_options(ext)
    page.click("#test-connection")
    expect(page.locator("#mgmt-url-error")).to_have_text(EN["management_url_required"])
    expect(page.locator("#mgmt-key-error")).to_have_text(EN["management_key_required"])
    expect(page.locator("#mgmt-url")).to_be_focused()
    expect(page.locator('.toast[data-code="not_configured"]')).to_have_count(0)
    expect(page.get_by_role("button", name=EN["open_options"])).to_have_count(0)


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
    page.reload()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
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


# ---------------------------------------------------------------------------------------------
# several CLIProxyAPI servers (targets)
# ---------------------------------------------------------------------------------------------


def config_reads(server: Any) -> int:
    return sum(
        1 for method, path in server.requests if method == "GET" and path.endswith("/config")
    )


def test_one_server_is_just_the_form(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    configure(ext, page, cpa)
    page.reload()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    expect(page.locator("#targets")).to_be_hidden()
    expect(page.locator("#target-form-title")).to_be_hidden()
    expect(page.locator("#target-name-field")).to_be_hidden()
    expect(page.locator("#add-target")).to_have_text(EN["target_add"])


def test_add_a_second_server_make_it_default_and_test_it(ext: Ext, cpa: Any, standin: Any) -> None:
    page = open_options(ext)
    configure(ext, page, cpa)
    page.reload()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)

    page.click("#add-target")
    expect(page.locator("#target-name")).to_be_focused()
    expect(page.locator("#target-form-title")).to_have_text(EN["target_add_title"])
    expect(page.locator("#mgmt-url")).to_have_value("")
    expect(page.locator("#test-connection")).to_be_hidden()
    page.fill("#target-name", "office")
    page.fill("#mgmt-url", standin.url)
    page.fill("#mgmt-key", STANDIN_SECRET)
    page.click("#save-settings")
    expect(page.locator(".toast.toast-success[data-action=saved]")).to_contain_text(
        "Added server office"
    )

    rows = page.locator("#targets .target-row")
    expect(rows).to_have_count(2)
    first = page.locator('.target-row[data-target="default"]')
    office = page.locator('.target-row[data-target="office"]')
    expect(first.locator(".target-default-badge")).to_have_text(EN["target_default"])
    expect(office.locator(".target-default-badge")).to_have_count(0)
    expect(office.locator(".target-url")).to_have_text(standin.management_url)
    expect(office.locator(".target-key")).to_have_text("Key: " + hint(STANDIN_SECRET))
    assert STANDIN_SECRET not in page.content()
    # The form now edits the new server.
    expect(office).to_have_attribute("aria-current", "true")
    expect(page.locator("#target-form-title")).to_have_text("Server “office”")
    expect(page.locator("#mgmt-url")).to_have_value(standin.management_url)

    office.get_by_role("button", name="Make office the default server").click()
    expect(page.locator(".toast.toast-success[data-action=default]")).to_contain_text(
        "office is now the default"
    )
    expect(office.locator(".target-default-badge")).to_be_visible()
    expect(first.locator(".target-default-badge")).to_have_count(0)
    settings = ext.call(page, "settings.get")["result"]
    assert settings["default_target"] == "office"
    assert [(t["name"], t["default"]) for t in settings["targets"]] == [
        ("default", False),
        ("office", True),
    ]

    cpa.reset_requests()
    office.get_by_role("button", name="Test the connection to office").click()
    expect(page.locator(".toast.toast-success[data-action=connected]")).to_contain_text(
        "Connected to “office”"
    )
    expect(page.locator("#connection-result")).to_be_visible()
    expect(page.locator("#connection-target")).to_have_text("office")
    expect(page.locator("#connection-url")).to_have_text(standin.management_url)
    expect(page.locator("#server-version")).to_have_text(standin.version)
    assert config_reads(standin) == 1
    assert config_reads(cpa) == 0

    # Editing the first server and its own Test button still reach the first server.
    first.get_by_role("button", name="Edit server default").click()
    expect(page.locator("#mgmt-url")).to_be_focused()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    page.click("#test-connection")
    expect(page.locator("#connection-target")).to_have_text("default")
    assert config_reads(cpa) == 1

    # A reload shows the same list.
    page.reload()
    expect(page.locator("#targets .target-row")).to_have_count(2)
    expect(page.locator('.target-row[data-target="office"] .target-default-badge')).to_be_visible()


def test_server_name_rules_key_rejected_and_remove(ext: Ext, cpa: Any, standin: Any) -> None:
    page = open_options(ext)
    configure(ext, page, cpa)
    configure(ext, page, standin, key="wrong-key-123456789", target="lab")
    page.reload()
    expect(page.locator("#targets .target-row")).to_have_count(2)

    # A name that is taken, or not allowed, is refused before anything is sent.
    page.click("#add-target")
    page.fill("#target-name", "LAB")
    page.click("#save-settings")
    expect(page.locator("#target-name-error")).to_have_text("A server named “LAB” already exists.")
    expect(page.locator("#target-name")).to_have_attribute("aria-invalid", "true")
    page.fill("#target-name", "no/slash")
    page.click("#save-settings")
    expect(page.locator("#target-name-error")).to_have_text(EN["target_name_invalid"])
    page.click("#cancel-target")
    expect(page.locator("#target-name-field")).to_be_hidden()
    expect(page.locator("#targets .target-row")).to_have_count(2)

    # A rejected key is flagged in the list.
    lab = page.locator('.target-row[data-target="lab"]')
    lab.get_by_role("button", name="Test the connection to lab").click()
    expect(page.locator('.toast.toast-error[data-code="unauthorized"]')).to_contain_text("lab")
    expect(lab.locator(".target-rejected")).to_have_text(EN["target_key_rejected"])

    # Remove asks first; Cancel keeps it.
    lab.get_by_role("button", name="Remove server lab").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("lab")
    page.locator("#confirm-dialog").get_by_role("button", name=EN["cancel"]).click()
    expect(lab).to_be_visible()
    lab.get_by_role("button", name="Remove server lab").click()
    page.click("#confirm-ok")
    expect(page.locator(".toast.toast-success[data-action=removed]")).to_contain_text(
        "Removed server lab"
    )
    expect(page.locator("#targets")).to_be_hidden()  # one server left: the plain form again
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    assert [t["name"] for t in ext.call(page, "settings.get")["result"]["targets"]] == ["default"]
