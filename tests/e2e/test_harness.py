"""The harness checks itself: a broken host registration fails with a readable message.

``browser`` (conftest.py) registers the host, launches Chromium and runs
``harness.check_host_ready``: options.html must reach the host through the extension before
any test runs. Here the manifest the installer wrote is broken on purpose, and the check
must say what the browser reported and what is wrong with the manifest, instead of a test
timing out later on a status pill that never turns green.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    EXTENSION_ORIGIN,
    HOST_NAME,
    ROOT,
    HarnessError,
    check_host_ready,
    describe_manifest,
    launch,
    make_env,
    register_host,
)


def _missing_program(data: dict[str, Any], tmp: Path) -> str:
    data["path"] = str(tmp / "no-such-host")
    return json.dumps(data)


def _invalid_json(data: dict[str, Any], tmp: Path) -> str:
    return json.dumps(data)[:-20]  # cut off: not JSON any more


def _wrong_origin(data: dict[str, Any], tmp: Path) -> str:
    data["allowed_origins"] = ["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]
    return json.dumps(data)


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any], Path], str], str, str]] = {
    # name: (how to break it, what the browser reports, what the manifest summary must say)
    "missing-program": (
        _missing_program,
        r"Specified native messaging host not found\.",
        r"PROBLEM: 'path' \S+no-such-host does not exist",
    ),
    "invalid-json": (
        _invalid_json,
        r"Specified native messaging host not found\.",
        r"PROBLEM: not valid JSON",
    ),
    "wrong-origin": (
        _wrong_origin,
        r"Access to the specified native messaging host is forbidden\.",
        rf"PROBLEM: 'allowed_origins' does not list {EXTENSION_ORIGIN}/",
    ),
}


def registered(tmp_path: Path) -> tuple[Any, Path, Path]:
    e2e = make_env(tmp_path)
    udd = e2e.home / "chromium-profile"
    manifest = register_host(e2e, udd)
    return e2e, udd, manifest


def test_an_intact_registration_is_ready(pw: Any, tmp_path: Path) -> None:
    e2e, udd, manifest = registered(tmp_path)
    assert "PROBLEM" not in describe_manifest(manifest)
    browser = launch(pw, e2e, udd)
    try:
        ping = check_host_ready(browser)
    finally:
        browser.context.close()
    assert ping["protocol"] == 1
    assert "ping" in ping["types"]


def test_an_extension_that_did_not_load_is_reported_readably(pw: Any, tmp_path: Path) -> None:
    e2e, udd, _ = registered(tmp_path)
    empty = tmp_path / "not-an-extension"
    empty.mkdir()
    browser = launch(pw, e2e, udd, extension_dir=empty)
    try:
        with pytest.raises(HarnessError) as caught:
            check_host_ready(browser, timeout_ms=5_000)
    finally:
        browser.context.close()
    text = str(caught.value)
    assert text.startswith("the extension's options.html does not load (is the extension in "), text
    assert "Traceback" not in text


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_broken_manifest_is_reported_readably(breakage: str, pw: Any, tmp_path: Path) -> None:
    e2e, udd, manifest = registered(tmp_path)
    breaker, browser_says, manifest_says = BREAKAGES[breakage]
    manifest.write_text(
        breaker(json.loads(manifest.read_text(encoding="utf-8")), tmp_path), encoding="utf-8"
    )

    browser = launch(pw, e2e, udd)
    try:
        with pytest.raises(
            HarnessError, match=r"^native host not reachable from the extension: "
        ) as caught:
            check_host_ready(browser, timeout_ms=15_000)
    finally:
        browser.context.close()
    text = str(caught.value)
    first_line = text.splitlines()[0]
    assert re.search(browser_says, first_line), text
    assert f"Manifest: {manifest}" in text, text
    assert re.search(manifest_says, text), text
    assert "options.html shows host status" in first_line


def test_the_fixture_turns_a_broken_manifest_into_a_readable_test_failure(tmp_path: Path) -> None:
    """Run pytest on a test whose browser fixture gets a broken manifest: it fails, and says why."""
    test_file = tmp_path / "test_broken_host.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import json
            from pathlib import Path

            import pytest
            from playwright.sync_api import sync_playwright

            from tests.e2e.conftest import start_browser
            from tests.e2e.harness import make_env, manifest_path, register_host


            @pytest.fixture
            def browser(tmp_path):
                e2e = make_env(tmp_path)
                manifest = register_host(e2e, e2e.home / "chromium-profile")
                data = json.loads(manifest.read_text(encoding="utf-8"))
                data["path"] = str(tmp_path / "moved-away-host")
                manifest.write_text(json.dumps(data), encoding="utf-8")
                with sync_playwright() as pw:
                    session = start_browser(pw, e2e, register=False)
                    yield session
                    session.context.close()


            def test_uses_the_extension(browser):
                pass
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            # its own temp dir: a default one would make this run delete the oldest of the
            # numbered /tmp/pytest-of-<user> dirs (up to minutes of I/O, and another session's)
            "--basetemp",
            str(tmp_path / "inner"),
            "-o",
            "addopts=",
            "-W",
            "ignore::DeprecationWarning",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "1 error" in output, output
    assert (
        "E2E harness not ready: native host not reachable from the extension: "
        "Specified native messaging host not found." in output
    ), output
    assert f"{HOST_NAME}.json" in output, output
    assert "moved-away-host does not exist" in output, output
    assert "Traceback" not in output, output
