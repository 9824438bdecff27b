"""Each page in each locale (Chromium --lang + LANGUAGE): text is localised; screenshots saved.

Screenshots go to ``test-artifacts/e2e/locales/<locale>/`` (1280 px and 400 px wide).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Ext, add_site_with_key, configure, launch, make_env, messages, register_host
from tests.standin.plugin import DEFAULT_YAML, UPSTREAM_KEY

OVERFLOW = """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""


@pytest.mark.parametrize("locale", ["en", "zh_CN", "ja"])
def test_pages_in_locale(locale: str, pw: Any, cpa: Any, relay: Any, tmp_path: Any) -> None:
    text = messages(locale)
    cpa.config_path.write_text(DEFAULT_YAML, encoding="utf-8")
    cpa.restart()
    out = ARTIFACTS / "locales" / locale
    out.mkdir(parents=True, exist_ok=True)
    e2e = make_env(tmp_path, locale)
    udd = e2e.home / "chromium-profile"
    register_host(e2e, udd)
    browser = launch(pw, e2e, udd, locale)
    ext = Ext(browser, f"locale-{locale}")
    try:
        page = ext.open("keys.html")
        configure(ext, page, cpa)
        _, key_id = add_site_with_key(ext, page, "Relay Example", relay.url, UPSTREAM_KEY, "default")
        add_site_with_key(ext, page, "Backup relay", "https://backup-relay.example.com/api", "sk-backup-0123456789abcdef")
        page.reload()

        expect(page.locator("h1")).to_have_text(text["keys_title"])
        expect(page.locator("#add-site")).to_have_text(text["add_site"])
        expect(page.locator(".cpa-import").first).to_have_attribute("aria-label", text["import_to_cpa"])
        assert page.evaluate("document.documentElement.lang").replace("-", "_").startswith(locale[:2])
        page.screenshot(path=str(out / "keys.png"), full_page=True)

        page.click(f'button.cpa-import[data-key-id="{key_id}"]')
        expect(page.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]')).to_be_visible()
        page.locator('#model-suggestions .chip[data-model="gpt-4o-mini"]').click()
        page.locator(".mapping-row .map-alias").fill("mini")
        page.click("#imp-preview-btn")
        expect(page.locator("#imp-preview")).to_be_visible()
        expect(page.locator("#import-title")).to_have_text(text["import_title"])
        page.screenshot(path=str(out / "import-dialog.png"))
        page.click("#imp-apply")
        expect(page.locator(".toast.toast-success")).to_be_visible()
        page.screenshot(path=str(out / "keys-toast.png"))

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
        options.click("#test-connection")
        expect(options.locator("#connection-result")).to_be_visible()
        options.screenshot(path=str(out / "options.png"), full_page=True)
        options.set_viewport_size({"width": 400, "height": 860})
        assert options.evaluate(OVERFLOW) <= 0, "options.html scrolls sideways at 400 px"
        options.screenshot(path=str(out / "options-400.png"), full_page=True)
    except BaseException:
        ext.save_artifacts(out)
        raise
    finally:
        ext.close()
        browser.context.close()
