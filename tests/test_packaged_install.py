"""The host as a normal Python package: `pip install .` into a fresh venv, then one command
(`cpa-bridge-install`) registers it, `--check` pings it through the registration, and
`--uninstall` removes it. HOME is a temporary folder; pip needs the package index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "install"))

from cpa_install.launcher import _NOT_SOURCE  # noqa: E402

EXT_ID = "jfnngfphkbinbcdgkkoakjbddhegofmn"


@pytest.mark.slow
def test_pip_install_then_one_command_registers_the_host(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "chromium").mkdir(
        parents=True
    )  # a Chromium profile dir: the browser is "found"
    (home / ".mozilla").mkdir()
    keep = {
        k: v
        for k, v in os.environ.items()
        if k in ("LANG", "LC_ALL", "TMPDIR") or k.startswith("PIP_")
    }
    env = dict(
        keep,
        HOME=str(home),
        PATH=f"{tmp_path / 'venv' / 'bin'}:/usr/bin:/bin",
        PIP_NO_CACHE_DIR="1",
    )

    def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    # A copy of the source without the checkout's venv, so nothing of .venv leaks in.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", str(venv)).returncode == 0
    pip = run(
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        str(source),
        timeout=900,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    shutil.rmtree(source)  # the installed package must not need the source any more

    version = run(str(venv / "bin" / "cpa-bridge"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("cpa-bridge "), version.stderr

    first = run(str(venv / "bin" / "cpa-bridge-install"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "cpa-bridge-install --check" in first.stdout
    chromium = home / ".config/chromium/NativeMessagingHosts/io.cpabridge.host.json"
    firefox = home / ".mozilla/native-messaging-hosts/io.cpabridge.host.json"
    manifest = json.loads(chromium.read_text())
    assert manifest["allowed_origins"] == [f"chrome-extension://{EXT_ID}/"]
    assert json.loads(firefox.read_text())["allowed_extensions"] == ["cpa-bridge@cpabridge.io"]
    launcher = Path(manifest["path"]).read_text()
    assert f'exec "{venv / "bin" / "python"}" -m cpa_bridge.host "$@"' in launcher, launcher
    assert not (home / ".local/bin/cpa-bridge").exists()  # pip's own `cpa-bridge` is the command
    assert not (home / ".local/share/cpa-bridge/venv").exists()  # no private venv

    check = run(str(venv / "bin" / "cpa-bridge-install"), "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "chromium: ok" in check.stdout and "firefox: ok" in check.stdout, check.stdout

    again = run(str(venv / "bin" / "cpa-bridge-install"))
    assert again.returncode == 0 and "(unchanged)" in again.stdout, again.stdout + again.stderr

    gone = run(str(venv / "bin" / "cpa-bridge-install"), "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not chromium.exists() and not firefox.exists()
