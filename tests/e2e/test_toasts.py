"""Toasts: clear of the navigation, errors dismiss themselves (not while in use), stale
errors go when a later attempt succeeds, a repeated error replaces the open one."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Ext, messages
from tests.standin.plugin import STANDIN_SECRET

EN = messages("en")


def options_with_fake_clock(ext: Ext) -> Any:
    page = ext.open("options.html")
    page.clock.install()
    page.reload()
    expect(page.locator("#mgmt-url")).to_be_enabled()
    return page


def insecure_save(page: Any) -> Any:
    page.fill("#mgmt-url", "http://cpa.example.invalid:8317")
    page.click("#save-settings")
    toast = page.locator('.toast.toast-error[data-code="insecure_url"]')
    expect(toast).to_be_visible()
    return toast


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_toasts_stay_clear_of_the_navigation(ext: Ext) -> None:
    for width in (1280, 400):
        page = ext.open("options.html", width=width, height=860)
        expect(page.locator("#mgmt-url")).to_be_enabled()
        toast = insecure_save(page)
        nav = page.locator(".app-header").bounding_box()
        assert nav and not overlaps(toast.bounding_box(), nav), (
            f"the toast covers the header at {width} px"
        )
        page.get_by_role("link", name=EN["nav_keys"]).click()  # still clickable
        expect(page).to_have_url(ext.browser.url("keys.html"))


def test_error_toasts_dismiss_themselves_but_not_while_hovered(ext: Ext) -> None:
    page = options_with_fake_clock(ext)
    toast = insecure_save(page)
    page.clock.run_for(5_000)
    expect(toast).to_be_visible()
    toast.hover()
    page.clock.run_for(60_000)
    expect(toast).to_be_visible()  # kept while the pointer is on it
    page.mouse.move(5, 500)
    page.clock.run_for(21_000)
    expect(toast).to_have_count(0)

    toast = insecure_save(page)
    toast.locator(".toast-close").focus()
    page.clock.run_for(60_000)
    expect(toast).to_be_visible()  # kept while focus is in it
    page.locator("#mgmt-url").focus()
    page.clock.run_for(21_000)
    expect(toast).to_have_count(0)


def test_a_repeated_error_replaces_the_open_one_and_success_clears_errors(
    ext: Ext, cpa: Any
) -> None:
    page = ext.open("options.html")
    expect(page.locator("#mgmt-url")).to_be_enabled()
    insecure_save(page)
    page.click("#save-settings")
    expect(page.locator('.toast.toast-error[data-code="insecure_url"]')).to_have_count(1)
    page.fill("#mgmt-url", cpa.url)
    page.fill("#mgmt-key", STANDIN_SECRET)
    page.click("#save-settings")
    expect(page.locator(".toast.toast-success[data-action=saved]")).to_be_visible()
    expect(page.locator(".toast.toast-error")).to_have_count(0)
