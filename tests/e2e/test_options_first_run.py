"""First run on the options page: Test connection tests what is typed (saving it first, and
saying so), never clears the form; an empty URL is refused; the form waits for the settings."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, configure, messages
from tests.masks import hint
from tests.standin.plugin import STANDIN_SECRET

EN = messages("en")

# On options.html?hold-settings, the reply to settings.get waits for window.__releaseSettings().
HOLD_SETTINGS = """
(() => {
  const runtime = (globalThis.browser ?? globalThis.chrome)?.runtime;
  if (!runtime || !location.search.includes('hold-settings')) return;
  const send = runtime.sendMessage.bind(runtime);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  window.__releaseSettings = () => release();
  runtime.sendMessage = (message, ...rest) => {
    const reply = send(message, ...rest);
    return message?.type === 'settings.get' ? gate.then(() => reply) : reply;
  };
})();
"""


def open_options(ext: Ext) -> Any:
    page = ext.open("options.html")
    expect(page.locator("#host-status")).to_have_attribute("data-state", "ok")
    expect(page.locator("#mgmt-url")).to_be_enabled()
    return page


def test_test_connection_on_a_new_profile_saves_what_is_typed_then_tests(
    ext: Ext, cpa: Any
) -> None:
    page = open_options(ext)
    expect(page.locator("#test-connection")).to_have_text(EN["test_connection"])
    page.fill("#mgmt-url", cpa.url)  # the server's address alone, as the README says
    page.fill("#mgmt-key", STANDIN_SECRET)
    button = page.locator("#test-connection")
    expect(button).to_have_text(EN["save_and_test"])  # the UI says it saves first
    button.click()
    expect(page.locator(".toast.toast-success[data-action=connected]")).to_be_visible()
    expect(page.locator("#connection-result")).to_be_visible()
    expect(page.locator('.toast[data-code="not_configured"]')).to_have_count(0)
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)  # kept (normalised)
    expect(page.locator("#mgmt-key")).to_have_attribute("placeholder", hint(STANDIN_SECRET))
    expect(button).to_have_text(EN["test_connection"])  # nothing unsaved any more
    stored = ext.call(page, "settings.get")["result"]
    assert stored["management_url"] == cpa.management_url and stored["has_key"] is True


def test_a_failed_test_keeps_what_is_typed(ext: Ext, cpa: Any) -> None:
    page = open_options(ext)
    page.fill("#mgmt-url", "not a url")
    page.fill("#mgmt-key", "some-key-0123456789")
    page.click("#test-connection")
    expect(page.locator("#mgmt-url-error")).to_be_visible()
    expect(page.locator("#mgmt-url")).to_have_value("not a url")
    expect(page.locator("#mgmt-key")).to_have_value("some-key-0123456789")
    assert ext.call(page, "settings.get")["result"]["management_url"] == ""
    assert not cpa.requests  # nothing was tested

    # A typed URL with a wrong key: saved, tested, refused; the URL stays in the form.
    page.fill("#mgmt-url", cpa.url)
    page.click("#test-connection")
    expect(page.locator('.toast.toast-error[data-code="unauthorized"]')).to_be_visible()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    expect(
        page.locator('.toast[data-code="unauthorized"]').get_by_role(
            "button", name=EN["open_options"]
        )
    ).to_have_count(0)


def test_an_empty_url_is_refused_and_the_stored_one_kept(ext: Ext, cpa: Any) -> None:
    page = ext.open("options.html")
    configure(ext, page, cpa)
    page.reload()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    page.fill("#mgmt-url", "")
    page.click("#save-settings")
    expect(page.locator("#mgmt-url-error")).to_have_text(EN["management_url_required"])
    expect(page.locator("#mgmt-url")).to_be_focused()
    expect(page.locator(".toast.toast-success[data-action=saved]")).to_have_count(0)
    assert ext.call(page, "settings.get")["result"]["management_url"] == cpa.management_url


def test_the_form_is_disabled_until_the_settings_are_in_it(ext: Ext, cpa: Any) -> None:
    setup = ext.open("options.html")
    configure(ext, setup, cpa)
    ext.browser.context.add_init_script(HOLD_SETTINGS)
    page = ext.open("options.html?hold-settings")
    expect(page.locator("#host-status")).to_have_attribute("data-state", "ok")
    for control in ("#mgmt-url", "#mgmt-key", "#save-settings", "#test-connection", "#add-target"):
        expect(page.locator(control)).to_be_disabled()
    expect(page.locator("#mgmt-url")).to_have_value("")
    page.evaluate("window.__releaseSettings()")
    expect(page.locator("#mgmt-url")).to_be_enabled()
    expect(page.locator("#mgmt-url")).to_have_value(cpa.management_url)
    expect(page.locator("#save-settings")).to_be_enabled()
