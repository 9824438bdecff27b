"""Fixtures for the Firefox ESR end-to-end tests (see harness.py for how it all works).

* ``firefox`` (module-scoped): one headless Firefox ESR per test module, on a throwaway
  profile with the extension sideloaded, and the host registered by install/install.py
  under a throwaway HOME that Firefox (hence the host) runs with.
* ``ff`` (per test): wipes the host's settings and key inventory, parks the tab on
  about:blank, and hands the test the page API (:class:`harness.Page`). Tests save one
  screenshot per page to ``test-artifacts/e2e/firefox/<test>/``; on failure a screenshot
  of the current page, Firefox's output since the test began (browser console included)
  and the host log go there too.

Without firefox-esr every test here is skipped with a loud message; under ``CI=true``
that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.firefox.harness import (
    ARTIFACTS,
    Firefox,
    Page,
    firefox_binary,
    launch,
    make_host_env,
    make_profile,
    register_host,
    safe_name,
)
from tests.e2e.firefox.marionette import MarionetteError

_SKIPPED: list[str] = []


def _require_firefox() -> str:
    binary = firefox_binary()
    if binary is not None:
        return binary
    reason = "firefox-esr not found (apt-get install firefox-esr, or set CPA_BRIDGE_FIREFOX)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"FIREFOX E2E: {reason}; under CI=true the browser is required", pytrace=False)
    if not _SKIPPED:
        _SKIPPED.append(reason)
    pytest.skip(f"FIREFOX E2E SKIPPED: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SKIPPED:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            f"!! FIREFOX E2E TESTS WERE SKIPPED: {_SKIPPED[0]}", red=True, bold=True
        )
        terminalreporter.write_line(bar, red=True, bold=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"ff_rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def firefox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    """Headless Firefox ESR with the extension sideloaded and the host registered (per module)."""
    binary = _require_firefox()
    root = tmp_path_factory.mktemp("firefox-e2e")
    host_env = make_host_env(root)
    register_host(host_env)
    profile = make_profile(root / "profile")
    browser = launch(binary, host_env, profile, root / "firefox.log")
    try:
        yield browser
    finally:
        browser.stop()


@pytest.fixture
def ff(request: pytest.FixtureRequest, firefox: Firefox) -> Iterator[Page]:
    """A clean slate (tab on about:blank, host settings and keys wiped) and the page API."""
    try:
        firefox.client.navigate("about:blank")  # no page left to send requests
    except MarionetteError:
        pass
    firefox.host_env.reset_host_state()
    name = request.node.name
    shutil.rmtree(ARTIFACTS / safe_name(name), ignore_errors=True)
    offset = firefox.log_size()
    page = Page(browser=firefox, test_name=name)
    yield page
    report = getattr(request.node, "ff_rep_call", None)
    if report is not None and report.failed:
        page.save_failure_artifacts(offset)
