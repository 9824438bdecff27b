"""Real-browser end-to-end fixtures: Chromium + the unpacked extension + the real host.

The harness itself (environment, host registration, browser launch, the host readiness
check, the ``Ext`` handle and helpers) is in ``harness.py``; this file holds the fixtures.

One browser per test module (module-scoped ``browser``); state is reset before every
test (host settings and key inventory wiped, stand-in CLIProxyAPI config restored).

* ``e2e_env``: a throwaway HOME with XDG dirs, and the env the browser (hence the host it
  launches) runs with. The real ``~`` is never touched.
* ``cpa`` / ``relay``: the stand-in CLIProxyAPI and upstream relay site (tests/standin/).
* ``browser``: Chromium with the extension loaded and the host registered by the project's
  own installer (``install/install.py --no-venv --user-data-dir``). Before any test runs,
  options.html must reach the host (``harness.check_host_ready``): a broken registration
  fails with a message naming the browser's error and the manifest's problem.
* ``ext``: per test: opens extension pages, calls the host through the extension, and
  saves a screenshot + console log to ``test-artifacts/e2e/<test>/`` when the test fails.

Without Chromium or Playwright every browser test is skipped with a loud message; with
``CI=true`` that is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import (
    EXPECT_TIMEOUT_MS,
    Browser,
    E2EEnv,
    Ext,
    HarnessError,
    artifact_dir,
    make_env,
    missing_browser,
    open_browser,
    register_host,
)
from tests.standin.plugin import DEFAULT_YAML, STANDIN_SECRET, UPSTREAM_KEY, UPSTREAM_MODELS

_SKIPPED_REASON: list[str] = []


# ---------------------------------------------------------------------------------------------
# availability
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"E2E: {reason}; under CI=true the browser is required", pytrace=False)
    if not _SKIPPED_REASON:
        _SKIPPED_REASON.append(reason)
    pytest.skip(f"E2E SKIPPED: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SKIPPED_REASON:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            f"!! REAL-BROWSER E2E TESTS WERE SKIPPED: {_SKIPPED_REASON[0]}", red=True, bold=True
        )
        terminalreporter.write_line(bar, red=True, bold=True)


# ---------------------------------------------------------------------------------------------
# failure artifacts
# ---------------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------------------------------------
# environment, stand-ins, host registration, browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pw(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)  # generous: CI machines may be busy
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="module")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> E2EEnv:
    return make_env(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def cpa(e2e_env: E2EEnv) -> Iterator[Any]:
    """The stand-in CLIProxyAPI (module-scoped; reset before each test by ``ext``)."""
    from tests.standin.cliproxyapi import StandinCLIProxyAPI

    path = e2e_env.home / "cliproxyapi" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_YAML, encoding="utf-8")
    standin = StandinCLIProxyAPI(path, secret=STANDIN_SECRET).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def relay() -> Iterator[Any]:
    """The stand-in relay site serving /v1/models for UPSTREAM_KEY."""
    from tests.standin.upstream import StandinUpstream

    upstream = StandinUpstream(models=list(UPSTREAM_MODELS), api_key=UPSTREAM_KEY).start()
    yield upstream
    upstream.stop()


def start_browser(pw: Any, e2e: E2EEnv, locale: str = "en", *, register: bool = True) -> Browser:
    """Register the host (unless ``register`` is false), launch Chromium, check it reaches the host.

    A harness problem becomes one readable failure, without a traceback of the harness.
    """
    udd = e2e.home / "chromium-profile"
    try:
        if register:
            register_host(e2e, udd)
        return open_browser(pw, e2e, udd, locale)
    except HarnessError as exc:
        problem = str(exc)
    pytest.fail(f"E2E harness not ready: {problem}", pytrace=False)


@pytest.fixture(scope="module")
def browser(pw: Any, e2e_env: E2EEnv) -> Iterator[Browser]:
    """Chromium with the extension and the host registered (and reachable) for its profile."""
    session = start_browser(pw, e2e_env)
    yield session
    session.context.close()


# ---------------------------------------------------------------------------------------------
# per test
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def ext(request: pytest.FixtureRequest, browser: Browser, cpa: Any, relay: Any) -> Iterator[Ext]:
    """A clean slate (host state, stand-in config) and a handle on the extension."""
    browser.e2e.reset_host_state()
    cpa.faults.reset()
    cpa.config_path.write_text(DEFAULT_YAML, encoding="utf-8")
    cpa.restart()
    cpa.reset_requests()
    relay.reset_requests()
    handle = Ext(browser, request.node.name)
    yield handle
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        handle.save_artifacts(artifact_dir(request.node.name))
    handle.close()
