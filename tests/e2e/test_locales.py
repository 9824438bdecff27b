"""Each page in each locale (Chromium --lang + LANGUAGE): text is localised; screenshots saved.

Screenshots go to ``test-artifacts/e2e/locales/<locale>/`` (1280 px and 400 px wide): the key
page, the import dialog, History, the options page with two CLIProxyAPI servers, and the
CLIProxyAPI tab (one server, and the drift view of all servers). The English ones are also
saved small to docs/screenshots/ for the README (tests/e2e/readme_shots.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from cpa_bridge.errors import ErrorCode
from tests.e2e.harness import (
    ARTIFACTS,
    Ext,
    add_site_with_key,
    configure,
    make_env,
    messages,
    open_browser,
    register_host,
)
from tests.e2e.readme_shots import save_readme_shot
from tests.standin.plugin import DEFAULT_YAML, UPSTREAM_KEY

OVERFLOW = """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""

HINTS_JS = """async (codes) => {
    const { describeError } = await import('./lib/errors.js');
    return codes.map((code) => describeError({ code, message: 'HOST ENGLISH', details: {} }));
}"""
COUNTED_JS = """async () => {
    const { describeError } = await import('./lib/errors.js');
    const details = { reason: 'invalid', ban_failures: 5, ban_minutes: 30, failures_seen: 3 };
    return describeError({ code: 'unauthorized', message: 'HOST ENGLISH', details }).hint;
}"""
ALL_CODES = [code.value for code in ErrorCode] + [
    "host_not_found",
    "host_forbidden",
    "host_exited",
    "request_timeout",
    "extension_error",
]


@pytest.mark.parametrize("locale", ["en", "zh_CN", "ja"])
def test_pages_in_locale(
    locale: str, pw: Any, cpa: Any, relay: Any, standin: Any, tmp_path: Any
) -> None:
    text = messages(locale)
    cpa.config_path.write_text(DEFAULT_YAML, encoding="utf-8")
    cpa.restart()
    out = ARTIFACTS / "locales" / locale
    out.mkdir(parents=True, exist_ok=True)
    e2e = make_env(tmp_path, locale)
    udd = e2e.home / "chromium-profile"
    register_host(e2e, udd)
    browser = open_browser(pw, e2e, udd, locale)
    ext = Ext(browser, f"locale-{locale}")
    try:
        page = ext.open("keys.html")
        configure(ext, page, cpa)
        _, key_id = add_site_with_key(
            ext, page, "Relay Example", relay.url, UPSTREAM_KEY, "default"
        )
        add_site_with_key(
            ext,
            page,
            "Backup relay",
            "https://backup-relay.example.com/api",
            "sk-backup-0123456789abcdef",
        )
        page.reload()

        expect(page.locator("h1")).to_have_text(text["keys_title"])
        expect(page.locator("#add-site")).to_have_text(text["add_site"])
        expect(page.locator(".cpa-import").first).to_have_attribute(
            "aria-label", text["import_to_cpa"]
        )
        assert (
            page.evaluate("document.documentElement.lang").replace("-", "_").startswith(locale[:2])
        )
        page.screenshot(path=str(out / "keys.png"), full_page=True)
        if locale == "en":
            save_readme_shot(page, "keys")

        page.click(f'button.cpa-import[data-key-id="{key_id}"]')
        expect(page.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]')).to_be_visible()
        page.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]').click()
        page.locator(".mapping-row .map-alias").fill("mini")
        page.click("#imp-preview-btn")
        expect(page.locator("#imp-preview")).to_be_visible()
        expect(page.locator("#import-title")).to_have_text(text["import_title"])
        page.screenshot(path=str(out / "import-dialog.png"))
        if locale == "en":
            save_readme_shot(page, "import-dialog")
        page.click("#imp-apply")
        expect(page.locator(".toast.toast-success")).to_be_visible()
        page.screenshot(path=str(out / "keys-toast.png"))

        history = ext.open("history.html")
        expect(history.locator("h1")).to_have_text(text["history_title"])
        expect(history.locator("tr.history-entry")).to_have_count(1)
        expect(history.locator("tr.history-entry .history-operation")).to_have_text(
            text["history_op_import"]
        )
        history.screenshot(path=str(out / "history.png"), full_page=True)
        history.set_viewport_size({"width": 400, "height": 860})
        assert history.evaluate(OVERFLOW) <= 0, "history.html scrolls sideways at 400 px"
        history.screenshot(path=str(out / "history-400.png"), full_page=True)

        narrow = ext.open("keys.html", width=400, height=860)
        expect(narrow.locator(".key-row").first).to_be_visible()
        assert narrow.evaluate(OVERFLOW) <= 0, "keys.html scrolls sideways at 400 px"
        narrow.screenshot(path=str(out / "keys-400.png"), full_page=True)
        narrow.click(f'button.cpa-import[data-key-id="{key_id}"]')
        expect(narrow.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]')).to_be_visible()
        narrow.locator('#model-suggestions .chip[data-model="gpt-4.1"]').click()
        narrow.screenshot(path=str(out / "import-dialog-400.png"))

        options = ext.open("options.html")
        expect(options.locator("h1")).to_have_text(text["options_title"])
        expect(options.locator("#host-status")).to_have_text(text["host_installed"])
        # A host warning in the page's language (the host's English text is only the fallback).
        options.fill("#mgmt-url", cpa.management_url + "/openai-compatibility")
        options.click("#save-settings")
        expect(options.locator("#settings-warnings li")).to_have_text(
            text["warning_url_suffix_removed"].replace("$SUFFIX$", "openai-compatibility")
        )
        # Every error code has a localised hint, never the host's English message.
        hints = options.evaluate(HINTS_JS, ALL_CODES)
        for code, hint in zip(ALL_CODES, hints, strict=False):
            assert hint["hint"] and hint["hint"] != "HOST ENGLISH" and "$" not in hint["hint"], (
                code,
                hint,
            )
            assert hint["title"] != text["error_unknown"], code
        # The ban rule is always explained; a count only when the host counted.
        rule = options.evaluate(HINTS_JS, ["unauthorized"])[0]["hint"]
        assert rule == text["hint_unauthorized"].replace("$FAILURES$", "5").replace(
            "$MINUTES$", "30"
        )
        counted = options.evaluate(COUNTED_JS)
        assert counted.startswith(rule) and counted.endswith(
            text["hint_failures_seen"].replace("$COUNT$", "3").replace("$MINUTES$", "30")
        )
        options.click("#test-connection")
        expect(options.locator("#connection-result")).to_be_visible()
        options.screenshot(path=str(out / "options.png"), full_page=True)
        options.set_viewport_size({"width": 400, "height": 860})
        assert options.evaluate(OVERFLOW) <= 0, "options.html scrolls sideways at 400 px"
        options.screenshot(path=str(out / "options-400.png"), full_page=True)

        # A second server: the options page lists both.
        configure(ext, options, standin, target="backup-vps")
        options.set_viewport_size({"width": 1280, "height": 860})
        options.reload()
        expect(options.locator("#targets .target-row")).to_have_count(2)
        expect(options.locator("#add-target")).to_have_text(text["target_add"])
        expect(
            options.locator('.target-row[data-target="default"] .target-default-badge')
        ).to_have_text(text["target_default"])
        options.screenshot(path=str(out / "options-targets.png"), full_page=True)
        if locale == "en":
            save_readme_shot(options, "options")
        options.set_viewport_size({"width": 400, "height": 860})
        assert options.evaluate(OVERFLOW) <= 0, (
            "options.html (two servers) scrolls sideways at 400 px"
        )
        options.screenshot(path=str(out / "options-targets-400.png"), full_page=True)

        # The CLIProxyAPI tab: one server, then all servers compared.
        providers = ext.open("providers.html")
        expect(providers.locator("h1")).to_have_text(text["providers_title"])
        expect(providers.locator('.app-nav a[aria-current="page"]')).to_have_text(
            text["nav_providers"]
        )
        expect(providers.locator(".provider-card")).to_have_count(1)
        expect(providers.locator(".provider-card .provider-show")).to_have_text(
            text["provider_details"]
        )
        providers.screenshot(path=str(out / "providers.png"), full_page=True)
        if locale == "en":
            save_readme_shot(providers, "providers")
        providers.set_viewport_size({"width": 400, "height": 860})
        assert providers.evaluate(OVERFLOW) <= 0, "providers.html scrolls sideways at 400 px"
        providers.screenshot(path=str(out / "providers-400.png"), full_page=True)
        providers.set_viewport_size({"width": 1280, "height": 860})
        providers.locator("#target-select").select_option(value="*all*")
        expect(providers.locator("tr.drift-provider")).to_have_count(1)
        expect(providers.locator('tr.drift-provider td[data-target="backup-vps"]')).to_have_text(
            text["drift_missing"]
        )
        providers.screenshot(path=str(out / "providers-drift.png"), full_page=True)
        providers.set_viewport_size({"width": 400, "height": 860})
        assert providers.evaluate(OVERFLOW) <= 0, "the drift view scrolls sideways at 400 px"
        providers.screenshot(path=str(out / "providers-drift-400.png"), full_page=True)
        providers.locator("tr.drift-provider .drift-sync").click()
        expect(providers.locator("#sync-dialog")).to_be_visible()
        expect(providers.locator("#sync-title")).to_have_text(text["sync_title"])
        providers.screenshot(path=str(out / "providers-sync-400.png"))
    except BaseException:
        ext.save_artifacts(out)
        raise
    finally:
        ext.close()
        browser.context.close()
