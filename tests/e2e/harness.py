"""The Chromium end-to-end harness: environment, host registration, browser, readiness check.

Used by ``conftest.py`` (fixtures) and by ``test_harness.py`` (which checks the harness
itself). Nothing here is a fixture, so a test can drive each step by hand.

* :func:`make_env`: a throwaway HOME with XDG dirs and the env the browser (hence the host
  it launches) runs with. Host state goes to ``CPA_BRIDGE_CONFIG_DIR`` /
  ``CPA_BRIDGE_DATA_DIR`` under that HOME. The real ``~`` is never touched.
* :func:`register_host`: the project's own installer writes the host manifest for the profile.
* :func:`launch`: Chromium with the unpacked extension; :func:`check_host_ready` then opens
  options.html and pings the host through the extension. A host the extension cannot reach
  raises :class:`HarnessError` naming the browser's error, the manifest and what is wrong
  with it, so a broken registration fails the run with a readable message instead of a
  timeout somewhere in a test. :func:`open_browser` does both.
* :class:`Ext`: the extension as one test sees it (pages, calls, failure artifacts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.standin.plugin import STANDIN_SECRET

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "extension"
EXTENSION_ID = "jfnngfphkbinbcdgkkoakjbddhegofmn"
EXTENSION_ORIGIN = f"chrome-extension://{EXTENSION_ID}"
HOST_NAME = "io.cpabridge.host"
SYSTEM_MANIFEST_DIR = Path("/etc/chromium/native-messaging-hosts")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CPA_BRIDGE_CHROMIUM", "/usr/lib/chromium/chromium")
HOST_PYTHON = sys.executable  # the venv that has cpa_bridge installed
TIMEOUT_MS = 15_000
EXPECT_TIMEOUT_MS = 10_000
READY_TIMEOUT_MS = 20_000

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


class HarnessError(RuntimeError):
    """The test harness itself could not get ready (browser, extension or host)."""


# ---------------------------------------------------------------------------------------------
# availability, artifacts
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


def artifact_dir(name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", name)[:120]
    path = ARTIFACTS / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# environment
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


# ---------------------------------------------------------------------------------------------
# host registration and its manifest
# ---------------------------------------------------------------------------------------------


def manifest_path(user_data_dir: Path) -> Path:
    """Where the installer registers the host for a Chromium profile (--user-data-dir)."""
    return user_data_dir / "NativeMessagingHosts" / f"{HOST_NAME}.json"


def register_host(e2e: E2EEnv, user_data_dir: Path) -> Path:
    """Register the host for this profile with the project's installer; the manifest's path."""
    installer = ROOT / "install" / "install.py"
    if not installer.exists():
        raise HarnessError(f"install/install.py is missing ({installer})")
    env = {k: v for k, v in e2e.env.items() if not k.startswith("CPA_BRIDGE_")}
    done = subprocess.run(
        [
            HOST_PYTHON,
            str(installer),
            "--no-venv",
            "--user-data-dir",
            str(user_data_dir),
            "--browser",
            "chromium",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise HarnessError(f"install.py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    manifest = manifest_path(user_data_dir)
    if not manifest.exists():
        raise HarnessError(f"the installer wrote no {manifest}:\n{done.stdout}")
    return manifest


def describe_manifest(path: Path) -> str:
    """A short account of one host manifest: where it is, what it says, and what is wrong with it."""
    if not path.exists():
        return f"Manifest: {path} (missing)"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"Manifest: {path}: unreadable ({type(exc).__name__}: {exc})"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"Manifest: {path}: PROBLEM: not valid JSON ({exc}); it begins {text[:60]!r}"
    if not isinstance(data, dict):
        return f"Manifest: {path}: PROBLEM: the JSON is a {type(data).__name__}, not an object"
    lines = [f"Manifest: {path}"]
    problems = []
    name = data.get("name")
    lines.append(f"  name: {name!r}")
    if name != HOST_NAME:
        problems.append(f"'name' is {name!r}, the extension connects to {HOST_NAME!r}")
    host_path = data.get("path")
    if not isinstance(host_path, str) or not host_path:
        lines.append(f"  path: {host_path!r}")
        problems.append("'path' is not set")
    else:
        target = Path(host_path)
        if not target.is_absolute():
            state = "relative"
            problems.append(f"'path' {host_path} is not absolute")
        elif not target.exists():
            state = "does not exist"
            problems.append(f"'path' {host_path} does not exist")
        elif not os.access(target, os.X_OK):
            state = "not executable"
            problems.append(f"'path' {host_path} is not executable")
        else:
            state = "exists, executable"
        lines.append(f"  path: {host_path} ({state})")
    lines.append(f"  type: {data.get('type')!r}")
    if data.get("type") != "stdio":
        problems.append("'type' must be 'stdio'")
    origins = data.get("allowed_origins")
    wanted = f"{EXTENSION_ORIGIN}/"
    lines.append(f"  allowed_origins: {origins!r}")
    if not isinstance(origins, list) or wanted not in origins:
        problems.append(f"'allowed_origins' does not list {wanted}")
    lines.extend(f"  PROBLEM: {problem}" for problem in problems)
    return "\n".join(lines)


def manifest_report(user_data_dir: Path) -> str:
    """Every place this Chromium profile looks for the host, described."""
    places = [manifest_path(user_data_dir), SYSTEM_MANIFEST_DIR / f"{HOST_NAME}.json"]
    found = [describe_manifest(p) for p in places if p.exists()]
    return "\n".join(found) if found else describe_manifest(places[0])


# ---------------------------------------------------------------------------------------------
# the browser
# ---------------------------------------------------------------------------------------------


@dataclass
class Browser:
    context: Any
    e2e: E2EEnv
    user_data_dir: Path
    console: list[str] = field(default_factory=list)

    def url(self, page: str) -> str:
        return f"{EXTENSION_ORIGIN}/{page}"


def launch(
    playwright: Any,
    e2e: E2EEnv,
    user_data_dir: Path,
    locale: str = "en",
    *,
    extension_dir: Path = EXTENSION_DIR,
) -> Browser:
    user_data_dir.mkdir(parents=True, exist_ok=True)
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(user_data_dir),
        executable_path=CHROMIUM,
        headless=False,  # --headless=new below
        ignore_default_args=["--disable-extensions"],
        args=[
            f"--disable-extensions-except={extension_dir}",
            f"--load-extension={extension_dir}",
            f"--lang={LOCALES[locale][1]}",
            *CHROMIUM_ARGS,
        ],
        env=e2e.env,
        viewport={"width": 1280, "height": 860},
        locale=LOCALES[locale][1],
    )
    context.set_default_timeout(TIMEOUT_MS)
    # The extension's service worker is not waited for here: under CPU load Playwright can
    # miss attaching to an MV3 worker that starts early, and then never reports it
    # (microsoft/playwright#39075), and no test uses it. check_host_ready shows the extension
    # runs: its page loads and its worker relays a ping to the host.
    return Browser(context=context, e2e=e2e, user_data_dir=user_data_dir)


_PING = """([timeoutMs]) => (globalThis.browser ?? globalThis.chrome).runtime.sendMessage(
    {kind: 'cpa-bridge/call', type: 'ping', params: {}, timeoutMs})"""

_STATUS_KNOWN = """() => {
    const pill = document.querySelector('#host-status');
    return Boolean(pill && pill.dataset.state && pill.dataset.state !== 'checking');
}"""


def check_host_ready(browser: Browser, timeout_ms: int = READY_TIMEOUT_MS) -> dict[str, Any]:
    """Open options.html, wait for its host status and ping the host through the extension.

    Returns the ``ping`` result. Raises :class:`HarnessError` naming the problem when the
    extension cannot reach the host: the browser's error text, the options page's status,
    the manifest (path, fields, what is wrong) and the tail of the host log.
    """
    page = browser.context.new_page()
    try:
        try:
            page.goto(browser.url("options.html"))
        except Exception as exc:  # net::ERR_BLOCKED_BY_CLIENT and the like: no such extension
            raise HarnessError(
                "the extension's options.html does not load (is the extension in "
                f"{EXTENSION_DIR} loaded?): {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}"
            ) from exc
        try:
            page.wait_for_function(_STATUS_KNOWN, timeout=timeout_ms)
            status = page.get_attribute("#host-status", "data-state")
            reply = page.evaluate(_PING, [timeout_ms])
        except Exception as exc:  # Playwright's TimeoutError / Error: the page itself failed
            raise HarnessError(
                f"options.html did not report the native host's status within {timeout_ms / 1000:.0f} s: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
                f"{manifest_report(browser.user_data_dir)}"
            ) from exc
    finally:
        page.close()
    if isinstance(reply, dict) and reply.get("ok"):
        return reply.get("result") or {}
    error = (reply.get("error") if isinstance(reply, dict) else None) or {}
    log_tail = "\n".join(browser.e2e.host_log().splitlines()[-5:])
    raise HarnessError(
        "native host not reachable from the extension: "
        f"{error.get('message') or 'no reply'} (code {error.get('code') or '?'}; "
        f"options.html shows host status {status!r})\n"
        f"{manifest_report(browser.user_data_dir)}\n"
        f"Host log: {log_tail or '(empty: the host never started)'}"
    )


def open_browser(playwright: Any, e2e: E2EEnv, user_data_dir: Path, locale: str = "en") -> Browser:
    """:func:`launch`, then :func:`check_host_ready`; on a failed check the browser is closed."""
    browser = launch(playwright, e2e, user_data_dir, locale)
    try:
        check_host_ready(browser)
    except BaseException:
        browser.context.close()
        raise
    return browser


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
        self,
        page: Any,
        message_type: str,
        params: dict[str, Any] | None = None,
        *,
        timeout_ms: int = 30_000,
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


# ---------------------------------------------------------------------------------------------
# helpers for tests
# ---------------------------------------------------------------------------------------------


def messages(locale: str) -> dict[str, str]:
    """The extension's messages for a locale, placeholders left as $NAME$."""
    data = json.loads(
        (EXTENSION_DIR / "_locales" / locale / "messages.json").read_text(encoding="utf-8")
    )
    return {key: value["message"] for key, value in data.items()}


def configure(
    ext: Ext, page: Any, cpa: Any, key: str = STANDIN_SECRET, target: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"management_url": cpa.url, "management_key": key}
    if target:
        params["target"] = target
    reply = ext.call(page, "settings.set", params)
    assert reply["ok"], reply
    return reply["result"]


def add_site_with_key(
    ext: Ext, page: Any, name: str, url: str, api_key: str, label: str = ""
) -> tuple[str, str]:
    site = ext.call(page, "sites.save", {"name": name, "url": url, "notes": ""})
    assert site["ok"], site
    site_id = site["result"]["site"]["id"]
    key = ext.call(page, "keys.save", {"site_id": site_id, "label": label, "api_key": api_key})
    assert key["ok"], key
    return site_id, key["result"]["key"]["id"]
