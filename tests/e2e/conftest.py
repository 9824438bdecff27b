"""Real-browser end-to-end fixtures: Chromium + the unpacked extension + the real host.

One browser per test module (module-scoped ``browser``); state is reset before every
test (host settings and key inventory wiped, stand-in CLIProxyAPI config restored).

* ``e2e_env``: a throwaway HOME with XDG dirs, and the env the browser (hence the host it
  launches) runs with. Host state goes to ``CPA_BRIDGE_CONFIG_DIR`` / ``CPA_BRIDGE_DATA_DIR``
  under that HOME, so a reset is one ``rmtree``. The real ``~`` is never touched.
* ``cpa`` / ``relay``: the stand-in CLIProxyAPI and upstream relay site (tests/standin/).
* ``browser``: Chromium with the extension loaded and the host registered by the project's
  own installer (``install/install.py --no-venv --user-data-dir``).
* ``ext``: per test: opens extension pages, calls the host through the extension, and
  saves a screenshot + console log to ``test-artifacts/e2e/<test>/`` when the test fails.

Without Chromium or Playwright every browser test is skipped with a loud message; with
``CI=true`` that is a failure instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.standin.plugin import DEFAULT_YAML, STANDIN_SECRET, UPSTREAM_KEY, UPSTREAM_MODELS

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "extension"
EXTENSION_ID = "jfnngfphkbinbcdgkkoakjbddhegofmn"
EXTENSION_ORIGIN = f"chrome-extension://{EXTENSION_ID}"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CPA_BRIDGE_CHROMIUM", "/usr/lib/chromium/chromium")
HOST_PYTHON = sys.executable  # the venv that has cpa_bridge installed
TIMEOUT_MS = 15_000
EXPECT_TIMEOUT_MS = 10_000

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Locale of a run: (extension _locales dir, Chromium --lang, LANGUAGE/LANG value).
LOCALES = {
    "en": ("en", "en-US", "en_US"),
    "zh_CN": ("zh_CN", "zh-CN", "zh_CN"),
    "ja": ("ja", "ja", "ja_JP"),
}

_SKIPPED_REASON: list[str] = []


# ---------------------------------------------------------------------------------------------
# availability
# ---------------------------------------------------------------------------------------------


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install playwright; never `playwright install`)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CPA_BRIDGE_CHROMIUM)"
    return None


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


def artifact_dir(name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", name)[:120]
    path = ARTIFACTS / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# environment, stand-ins, host registration, browser
# ---------------------------------------------------------------------------------------------


@dataclass
class E2EEnv:
    home: Path
    env: dict[str, str]

    @property
    def config_dir(self) -> Path:
        return Path(self.env["CPA_BRIDGE_CONFIG_DIR"])

    @property
    def data_dir(self) -> Path:
        return Path(self.env["CPA_BRIDGE_DATA_DIR"])

    def reset_host_state(self) -> None:
        """Forget every setting, key, backup and lock of the host (its log is kept)."""
        shutil.rmtree(self.config_dir, ignore_errors=True)
        if self.data_dir.exists():
            for child in self.data_dir.iterdir():
                if child.name != "logs":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()

    def host_log(self) -> str:
        log = self.data_dir / "logs" / "host.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def make_env(root: Path, locale: str = "en") -> E2EEnv:
    home = root / "home"
    for sub in (".config", ".local/share", ".cache", ".local/state", "state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPA_BRIDGE_")}
    lang = LOCALES[locale][2]
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        CPA_BRIDGE_CONFIG_DIR=str(home / "state" / "config"),
        CPA_BRIDGE_DATA_DIR=str(home / "state" / "data"),
        LANGUAGE=lang,
        LANG=f"{lang}.UTF-8",
    )
    env.pop("LC_ALL", None)
    return E2EEnv(home=home, env=env)


def register_host(e2e: E2EEnv, user_data_dir: Path) -> None:
    """Register the host for this profile with the project's installer."""
    installer = ROOT / "install" / "install.py"
    assert installer.exists(), "install/install.py is missing"
    env = {k: v for k, v in e2e.env.items() if not k.startswith("CPA_BRIDGE_")}
    done = subprocess.run(
        [HOST_PYTHON, str(installer), "--no-venv", "--user-data-dir", str(user_data_dir), "--browser", "chromium"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"install.py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    manifest = user_data_dir / "NativeMessagingHosts" / "io.cpabridge.host.json"
    assert manifest.exists(), f"the installer wrote no {manifest}:\n{done.stdout}"


@dataclass
class Browser:
    context: Any
    e2e: E2EEnv
    user_data_dir: Path
    console: list[str] = field(default_factory=list)

    def url(self, page: str) -> str:
        return f"{EXTENSION_ORIGIN}/{page}"


def launch(playwright: Any, e2e: E2EEnv, user_data_dir: Path, locale: str = "en") -> Browser:
    user_data_dir.mkdir(parents=True, exist_ok=True)
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(user_data_dir),
        executable_path=CHROMIUM,
        headless=False,  # --headless=new below
        ignore_default_args=["--disable-extensions"],
        args=[
            f"--disable-extensions-except={EXTENSION_DIR}",
            f"--load-extension={EXTENSION_DIR}",
            f"--lang={LOCALES[locale][1]}",
            *CHROMIUM_ARGS,
        ],
        env=e2e.env,
        viewport={"width": 1280, "height": 860},
        locale=LOCALES[locale][1],
    )
    context.set_default_timeout(TIMEOUT_MS)
    browser = Browser(context=context, e2e=e2e, user_data_dir=user_data_dir)
    workers = [w for w in context.service_workers if EXTENSION_ID in w.url]
    if not workers:
        context.wait_for_event(
            "serviceworker", predicate=lambda w: EXTENSION_ID in w.url, timeout=TIMEOUT_MS
        )
    return browser


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


@pytest.fixture(scope="module")
def browser(pw: Any, e2e_env: E2EEnv) -> Iterator[Browser]:
    """Chromium with the extension and the host registered for its profile."""
    udd = e2e_env.home / "chromium-profile"
    register_host(e2e_env, udd)
    session = launch(pw, e2e_env, udd)
    yield session
    session.context.close()


# ---------------------------------------------------------------------------------------------
# per test
# ---------------------------------------------------------------------------------------------


class Ext:
    """The extension as one test sees it."""

    def __init__(self, browser: Browser, name: str) -> None:
        self.browser = browser
        self.name = name
        self.pages: list[Any] = []
        self.console: list[str] = []

    def open(self, page_name: str, *, width: int = 1280, height: int = 860) -> Any:
        page = self.browser.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        label = page_name

        def on_console(message: Any) -> None:
            self.console.append(f"[{label}] {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console.append(f"[{label}] pageerror: {error}"))
        page.goto(self.browser.url(page_name))
        self.pages.append(page)
        return page

    def call(
        self, page: Any, message_type: str, params: dict[str, Any] | None = None, *, timeout_ms: int = 30_000
    ) -> dict[str, Any]:
        """Send one request to the host through the extension (as a page would); the reply envelope."""
        return page.evaluate(
            """([type, params, timeoutMs]) => (globalThis.browser ?? globalThis.chrome).runtime.sendMessage(
                {kind: 'cpa-bridge/call', type, params, timeoutMs})""",
            [message_type, params or {}, timeout_ms],
        )

    def host_pids(self) -> list[int]:
        """Host processes this test's browser started (found by their HOME)."""
        home = f"HOME={self.browser.e2e.home}".encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
                if b"cpa_bridge.host" not in cmdline and b"cpa-bridge-host" not in cmdline:
                    continue
                if home in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
        return pids

    def save_artifacts(self, directory: Path) -> None:
        for index, page in enumerate(self.pages):
            if page.is_closed():
                continue
            try:
                page.screenshot(path=str(directory / f"page-{index}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's failure
                self.console.append(f"screenshot failed: {type(exc).__name__}: {exc}")
        (directory / "console.log").write_text("\n".join(self.console) + "\n", encoding="utf-8")
        (directory / "host.log").write_text(self.browser.e2e.host_log(), encoding="utf-8")

    def close(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                page.close()


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


# ---------------------------------------------------------------------------------------------
# helpers for tests
# ---------------------------------------------------------------------------------------------


def messages(locale: str) -> dict[str, str]:
    """The extension's messages for a locale, placeholders left as $NAME$."""
    data = json.loads((EXTENSION_DIR / "_locales" / locale / "messages.json").read_text(encoding="utf-8"))
    return {key: value["message"] for key, value in data.items()}


def configure(ext: Ext, page: Any, cpa: Any, key: str = STANDIN_SECRET) -> dict[str, Any]:
    reply = ext.call(page, "settings.set", {"management_url": cpa.url, "management_key": key})
    assert reply["ok"], reply
    return reply["result"]


def add_site_with_key(ext: Ext, page: Any, name: str, url: str, api_key: str, label: str = "") -> tuple[str, str]:
    site = ext.call(page, "sites.save", {"name": name, "url": url, "notes": ""})
    assert site["ok"], site
    site_id = site["result"]["site"]["id"]
    key = ext.call(page, "keys.save", {"site_id": site_id, "label": label, "api_key": api_key})
    assert key["ok"], key
    return site_id, key["result"]["key"]["id"]
