"""Firefox ESR e2e harness: throwaway HOME, host registration, profile with the sideloaded
add-on, the Firefox process, and a small page API on top of Marionette.

* Firefox and the host it launches run with a throwaway HOME and XDG dirs. The host is
  registered there by the project's own installer (``install/install.py --no-venv --browser
  firefox`` writes ``$HOME/.mozilla/native-messaging-hosts/io.cpabridge.host.json`` and the
  launcher ``$XDG_DATA_HOME/cpa-bridge/bin/cpa-bridge-host``). No ``CPA_BRIDGE_*`` overrides:
  the host keeps its settings in ``$XDG_CONFIG_HOME/cpa-bridge/settings.json`` and its data in
  ``$XDG_DATA_HOME/cpa-bridge/``, as it would for a user.
* The profile holds the extension as the unsigned XPI that ``scripts/build.py`` makes
  (``extensions/<gecko id>.xpi``; ESR honours ``xpinstall.signatures.required=false``) and pins its moz-extension UUID
  (``extensions.webextensions.uuids``), so the pages are at ``moz-extension://<EXT_UUID>/...``.
* Firefox runs ``--headless --marionette --remote-allow-system-access``. The last flag is needed:
  without it Marionette refuses ``WebDriver:Navigate`` to moz-extension: URLs ("Navigation to
  ... is not allowed in this context"). ``marionette.port`` is 0 and the bound port is read
  from ``<profile>/MarionetteActivePort`` (no port race).
* The browser console (pages' ``console.*``, uncaught errors) goes to Firefox's stdout through
  ``devtools.console.stdout.*``; the host's stderr goes there too. All of it is in the log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.firefox.marionette import Element, Marionette, MarionetteError

ROOT = Path(__file__).resolve().parents[3]
EXTENSION_DIR = ROOT / "extension"
ARTIFACTS = ROOT / "test-artifacts" / "e2e" / "firefox"
GECKO_ID = "cpa-bridge@cpabridge.io"
HOST_NAME = "io.cpabridge.host"
EXT_UUID = "6f0c3b7e-2d4a-4e8b-9c1f-5a7d3e9b0c42"
EXT_ORIGIN = f"moz-extension://{EXT_UUID}"
HOST_PYTHON = sys.executable  # the venv with cpa_bridge installed (editable)
WAIT_S = 15.0


def firefox_binary() -> str | None:
    """firefox-esr, or ``CPA_BRIDGE_FIREFOX``. Release Firefox would refuse the unsigned XPI."""
    override = os.environ.get("CPA_BRIDGE_FIREFOX")
    if override:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    return shutil.which("firefox-esr")


def messages(locale: str = "en") -> dict[str, str]:
    """The extension's messages for a locale (placeholders left as $NAME$)."""
    path = EXTENSION_DIR / "_locales" / locale / "messages.json"
    return {
        key: value["message"] for key, value in json.loads(path.read_text(encoding="utf-8")).items()
    }


def safe_name(test_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", test_name)[:120]


def artifact_dir(test_name: str) -> Path:
    path = ARTIFACTS / safe_name(test_name)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# environment and host registration
# ---------------------------------------------------------------------------------------------


@dataclass
class HostEnv:
    """The throwaway HOME Firefox and the host run with."""

    home: Path
    env: dict[str, str]
    #: what the installer put in the host's data dir (launcher, install record): kept on reset
    installed: frozenset[str] = frozenset()

    @property
    def config_dir(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "cpa-bridge"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "cpa-bridge"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    def settings(self) -> dict[str, Any]:
        return json.loads(self.settings_file.read_text(encoding="utf-8"))

    def host_log(self) -> str:
        log = self.data_dir / "logs" / "host.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    def reset_host_state(self) -> None:
        """Forget every setting, key, backup and lock (the host reads its files per request).

        The installer's files in the data dir (``bin/cpa-bridge-host``, ``install-record.json``)
        and the host log stay.
        """
        shutil.rmtree(self.config_dir, ignore_errors=True)
        if self.data_dir.exists():
            for child in self.data_dir.iterdir():
                if child.name not in self.installed and child.name != "logs":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()


def make_host_env(root: Path) -> HostEnv:
    home = root / "home"
    for sub in (".config", ".local/share", ".cache", ".local/state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CPA_BRIDGE_", "MOZ_", "XDG_"))}
    for name in ("LC_ALL", "LANGUAGE", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        LANG="C.UTF-8",
        MOZ_CRASHREPORTER_DISABLE="1",
        MOZ_HEADLESS="1",
    )
    return HostEnv(home=home, env=env)


def register_host(host_env: HostEnv) -> Path:
    """``install/install.py --no-venv --browser firefox`` under the throwaway HOME."""
    done = subprocess.run(
        [HOST_PYTHON, str(ROOT / "install" / "install.py"), "--no-venv", "--browser", "firefox"],
        env=host_env.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        f"install.py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    manifest = host_env.home / ".mozilla" / "native-messaging-hosts" / f"{HOST_NAME}.json"
    assert manifest.exists(), f"the installer wrote no {manifest}:\n{done.stdout}"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["name"] == HOST_NAME and data["allowed_extensions"] == [GECKO_ID], data
    assert os.access(data["path"], os.X_OK), f"the manifest names no executable launcher: {data}"
    if host_env.data_dir.exists():
        host_env.installed = frozenset(child.name for child in host_env.data_dir.iterdir())
    return manifest


# ---------------------------------------------------------------------------------------------
# profile and process
# ---------------------------------------------------------------------------------------------


def pack_xpi(target: Path) -> None:
    """The .xpi that ``scripts/build.py`` makes (what a user installs), put into the profile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    out = target.parent / "build"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/build.py failed: {done.stderr}")
    (xpi,) = out.glob("*.xpi")
    shutil.move(xpi, target)
    shutil.rmtree(out)


PREFS: dict[str, Any] = {
    # the unsigned, sideloaded add-on, at a fixed moz-extension UUID
    "xpinstall.signatures.required": False,
    "extensions.autoDisableScopes": 0,
    "extensions.enabledScopes": 15,
    "extensions.webextensions.uuids": json.dumps({GECKO_ID: EXT_UUID}),
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    # Marionette on a port of its choosing (written to <profile>/MarionetteActivePort)
    "marionette.port": 0,
    # the browser console (extension pages included) and dump() to Firefox's stdout
    "devtools.console.stdout.content": True,
    "devtools.console.stdout.chrome": True,
    "browser.dom.window.dump.enabled": True,
    # quiet and offline
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.telemetry.enabled": False,
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "intl.locale.requested": "en-US",
}


def make_profile(path: Path) -> Path:
    pack_xpi(path / "extensions" / f"{GECKO_ID}.xpi")
    prefs = "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
    (path / "user.js").write_text(prefs, encoding="utf-8")
    return path


@dataclass
class Firefox:
    process: subprocess.Popen[bytes]
    client: Marionette
    profile: Path
    host_env: HostEnv
    log_path: Path

    def url(self, page: str) -> str:
        return f"{EXT_ORIGIN}/{page}"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def stop(self) -> None:
        self.client.quit()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the process group launch() started
            self.process.wait(timeout=10)


def launch(binary: str, host_env: HostEnv, profile: Path, log_path: Path) -> Firefox:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--marionette",
                "--remote-allow-system-access",
                "--no-remote",
                "--profile",
                str(profile),
                "about:blank",
            ],
            env=host_env.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        client = Marionette.connect_profile(
            profile, deadline_s=40, alive=lambda: process.poll() is None
        )
        client.start_session()
        client.set_timeouts(script_ms=30_000, page_load_ms=30_000)
    except BaseException as exc:  # whatever went wrong, stop the Firefox started here
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if not isinstance(exc, Exception):
            raise
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(
            f"Firefox/Marionette did not come up ({exc}); Firefox output:\n{tail}"
        ) from exc
    return Firefox(
        process=process, client=client, profile=profile, host_env=host_env, log_path=log_path
    )


# ---------------------------------------------------------------------------------------------
# the page API a test uses
# ---------------------------------------------------------------------------------------------

_STATE_JS = """
const node = document.querySelector(arguments[0]);
if (!node) return null;
const attrs = {};
for (const a of node.attributes) attrs[a.name] = a.value;
return {
  visible: node.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
  text: node.textContent.trim(),
  value: 'value' in node ? node.value : null,
  attrs,
};
"""

_CALL_JS = """
const api = globalThis.browser ?? globalThis.chrome;
return api.runtime.sendMessage({kind: 'cpa-bridge/call', type: arguments[0],
                                params: arguments[1], timeoutMs: 30000});
"""


@dataclass
class Page:
    """The one tab, as one test sees it. Selectors are CSS; every wait is bounded."""

    browser: Firefox
    test_name: str
    shots: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> Marionette:
        return self.browser.client

    @property
    def host_env(self) -> HostEnv:
        return self.browser.host_env

    # -- navigation ---------------------------------------------------------------------------

    def open(self, page: str, ready: str | None = None) -> None:
        """Load an extension page; ``ready``: a selector to wait for afterwards."""
        url = self.browser.url(page)

        def loaded() -> bool:
            # Right after startup the add-on may still be installing: the load then fails
            # (an error; or an error page, whose documentURI is about:neterror?...).
            self.client.navigate(url)
            return str(self.client.execute("return document.documentURI")).startswith(url)

        self.poll(f"{url} to load", loaded)
        if ready:
            self.wait(ready)

    def reload(self) -> None:
        self.client.refresh()

    # -- waiting ------------------------------------------------------------------------------

    def poll(self, what: str, probe: Callable[[], Any], timeout: float = WAIT_S) -> Any:
        """Call ``probe`` every 0.1 s until it returns something truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = probe()
            except MarionetteError as exc:  # stale element, navigation in progress, ...
                last = exc
            else:
                if last:
                    return last
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what} (last: {last!r})"
                )
            time.sleep(0.1)

    def state(self, css: str) -> dict[str, Any] | None:
        """One round trip: is ``css`` there, is it visible, its text, value and attributes."""
        return self.client.execute(_STATE_JS, css)

    def wait(
        self,
        css: str,
        *,
        visible: bool = True,
        text: str | None = None,
        contains: str | None = None,
        timeout: float = WAIT_S,
    ) -> dict[str, Any]:
        """Wait until ``css`` matches a node that is visible (or hidden) with the text given."""

        def probe() -> dict[str, Any] | None:
            found = self.state(css)
            if found is None or found["visible"] != visible:
                return None
            if text is not None and found["text"] != text:
                return None
            if contains is not None and contains not in found["text"]:
                return None
            return found

        wanted = f"{css} ({'visible' if visible else 'hidden'}"
        wanted += f", text {text!r}" if text is not None else ""
        wanted += f", containing {contains!r}" if contains is not None else ""
        return self.poll(wanted + ")", probe, timeout)

    def wait_hidden(self, css: str, timeout: float = WAIT_S) -> None:
        """Wait until ``css`` is absent or not visible."""
        self.poll(
            f"{css} to be hidden",
            lambda: (s := self.state(css)) is None or not s["visible"],
            timeout,
        )

    # -- actions ------------------------------------------------------------------------------

    def find(self, css: str) -> Element:
        return self.client.find(css)

    def wait_enabled(self, css: str) -> None:
        """Wait until ``css`` is visible and not :disabled (itself or through a disabled <fieldset>)."""
        self.wait(css)
        self.poll(
            f"{css} to be enabled",
            lambda: self.client.execute(
                "return !document.querySelector(arguments[0]).matches(':disabled')", css
            ),
        )

    def click(self, css: str) -> None:
        """Click ``css`` once it is visible and enabled (a real, interactability-checked click)."""
        self.wait_enabled(css)
        self.find(css).click()

    def fill(self, css: str, text: str) -> None:
        """Clear ``css`` and type ``text`` into it (WebDriver:ElementSendKeys) once it is enabled."""
        self.wait_enabled(css)
        self.find(css).fill(text)

    def text(self, css: str) -> str:
        found = self.state(css)
        assert found is not None, f"no {css}"
        return str(found["text"])

    def value(self, css: str) -> str:
        return str(self.find(css).property("value"))

    # -- the extension's own channel ----------------------------------------------------------

    def call(self, message_type: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One host request through the background script, as the pages' lib/api.js sends it."""
        return self.client.execute(_CALL_JS, message_type, params or {})

    # -- artifacts ----------------------------------------------------------------------------

    def screenshot(self, label: str) -> Path:
        """Save a full-page PNG of the current page as ``<label>.png`` in this test's artifact dir."""
        count = self.shots.get(label, 0)
        self.shots[label] = count + 1
        name = label if count == 0 else f"{label}-{count + 1}"
        path = artifact_dir(self.test_name) / f"{name}.png"
        path.write_bytes(self.client.screenshot(full=True))
        return path

    def save_failure_artifacts(self, log_offset: int) -> Path:
        """Screenshot of the current page, Firefox's output since the test began, the host log."""
        out = artifact_dir(self.test_name)
        try:
            (out / "failure.png").write_bytes(self.client.screenshot(full=True))
        except (OSError, MarionetteError) as exc:  # a dead tab must not hide the test's own failure
            (out / "failure-screenshot-error.txt").write_text(
                f"{type(exc).__name__}: {exc}\n", encoding="utf-8"
            )
        (out / "firefox.log").write_text(self.browser.log_since(log_offset), encoding="utf-8")
        (out / "host.log").write_text(self.host_env.host_log(), encoding="utf-8")
        return out
