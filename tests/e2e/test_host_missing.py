"""Without the host registered, every page says so plainly, with the install command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import (
    ARTIFACTS,
    Browser,
    E2EEnv,
    Ext,
    artifact_dir,
    launch,
    make_env,
    messages,
)

EN = messages("en")
SYSTEM_MANIFEST = Path("/etc/chromium/native-messaging-hosts/io.cpabridge.host.json")


@pytest.fixture(scope="module")
def bare_browser(pw: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium with the extension but no host manifest anywhere."""
    if SYSTEM_MANIFEST.exists():
        pytest.skip(f"a system-wide host manifest exists ({SYSTEM_MANIFEST})")
    e2e: E2EEnv = make_env(tmp_path_factory.mktemp("e2e-bare"))
    session = launch(pw, e2e, e2e.home / "chromium-profile")
    yield session
    session.context.close()


@pytest.fixture
def bare(request: pytest.FixtureRequest, bare_browser: Browser) -> Iterator[Ext]:
    handle = Ext(bare_browser, request.node.name)
    yield handle
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        handle.save_artifacts(artifact_dir(request.node.name))
    handle.close()


@pytest.mark.parametrize("page_name", ["keys.html", "history.html", "options.html"])
def test_pages_show_the_install_hint(bare: Ext, page_name: str) -> None:
    page = bare.open(page_name)
    banner = page.locator("#host-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-state", "missing")
    expect(banner).to_have_attribute("role", "alert")
    expect(page.locator("#host-banner-title")).to_have_text(EN["banner_host_missing_title"])
    expect(page.locator("#host-banner-command")).to_have_text("python3 install/install.py")
    expect(page.locator("#host-banner-hint")).to_contain_text("cpa-bridge checkout")
    out = ARTIFACTS / "host-missing"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / page_name.replace(".html", ".png")))


def test_options_page_reports_the_host_missing(bare: Ext) -> None:
    page = bare.open("options.html")
    expect(page.locator("#host-status")).to_have_attribute("data-state", "missing")
    expect(page.locator("#host-status")).to_have_text(EN["host_not_installed"])


def test_actions_that_need_the_host_are_disabled_up_front(bare: Ext) -> None:
    page = bare.open("keys.html")
    expect(page.locator("#host-banner")).to_have_attribute("data-state", "missing")
    for button in ("#add-site", "#import-backup"):
        expect(page.locator(button)).to_be_disabled()
        expect(page.locator(button)).to_have_attribute("aria-describedby", "host-banner-title")
    options = bare.open("options.html")
    expect(options.locator("#host-status")).to_have_attribute("data-state", "missing")
    for control in ("#mgmt-url", "#save-settings", "#test-connection", "#add-target"):
        expect(options.locator(control)).to_be_disabled()
    history = bare.open("history.html")
    expect(history.locator("#host-banner")).to_have_attribute("data-state", "missing")
    expect(history.locator("#history-reload")).to_be_disabled()


def test_a_call_fails_with_a_clear_error(bare: Ext) -> None:
    page = bare.open("keys.html")
    expect(page.locator("#host-banner")).to_be_visible()
    reply = bare.call(page, "ping")
    assert reply["ok"] is False
    assert reply["error"]["code"] == "host_not_found"
    assert reply["error"]["message"] == "Specified native messaging host not found."


def test_a_host_that_dies_gets_its_own_banner(bare: Ext, tmp_path: Path) -> None:
    """A registered host that exits without answering: 'did not answer', not 'not installed'."""
    script = tmp_path / "dead-host"
    script.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    script.chmod(0o755)
    manifest_dir = bare.browser.user_data_dir / "NativeMessagingHosts"
    manifest_dir.mkdir(parents=True, exist_ok=True)
    manifest = manifest_dir / "io.cpabridge.host.json"
    manifest.write_text(
        json.dumps(
            {
                "name": "io.cpabridge.host",
                "description": "test double: exits at once",
                "path": str(script),
                "type": "stdio",
                "allowed_origins": ["chrome-extension://jfnngfphkbinbcdgkkoakjbddhegofmn/"],
            }
        ),
        encoding="utf-8",
    )
    try:
        page = bare.open("options.html")
        banner = page.locator("#host-banner")
        expect(banner).to_have_attribute("data-state", "broken")
        expect(page.locator("#host-banner-title")).to_have_text(EN["banner_host_broken_title"])
        expect(page.locator("#host-banner-command")).to_have_text("python3 install/install.py")
        expect(page.locator("#host-status")).to_have_attribute("data-state", "error")
    finally:
        manifest.unlink()
