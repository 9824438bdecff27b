"""Tests of install/install.py (the native-messaging host installer).

Every test runs against a temporary HOME, XDG dirs and PATH; the real home
directory is never read or written. The Linux, macOS and Windows code paths are
all exercised here (``--platform`` / ``platform=``), Windows with an in-memory
registry. Most tests run the host on this interpreter (``--no-venv``) with a
stub ``cpa_bridge`` package on PYTHONPATH that answers ``ping``, so they do not
depend on the real host; ``test_real_host_answers_ping`` and the slow venv test
use the real one.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTALL_PY = REPO / "install" / "install.py"
sys.path.insert(0, str(REPO / "install"))

from cpa_install import api  # noqa: E402
from cpa_install.manifests import id_from_bytes  # noqa: E402
from cpa_install.windows import MemoryRegistry  # noqa: E402

HOST = "io.cpabridge.host"
KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuyp6n3qo2G6b6R19spWymRh5RQ4CRwFiEPTfcFsKZoaDrxvlwTmu6Jo2Mrj8YqU6"
    "VkDVYSXSSJWUMRevvXnT3nmyCq13Cjrqf6wfHqfqujtngmvF/4zcHPvoI99pA6IXdSIlJJZJvS1lzkfFiFvaeSNGYq9FpGKFPrrmKYwf+JDl"
    "8iJjhFkqJ8+kH0jiS3xaQyJDNuvlBwQqYQIkEoux/76QJU7M6uQNrhCghZR2EIre/FU177ZxV/rgcqrcMLVgG7Hd+auP35/iDs/XXgYpuNdL"
    "o5Mqy2KuqSRwTb1HiDpUN/lF3Yl1q+mDu04bbsnGROq0YrAS6x8JR7OFPAWl2wIDAQAB"
)
EXT_ID = "jfnngfphkbinbcdgkkoakjbddhegofmn"
ORIGIN = f"chrome-extension://{EXT_ID}/"
GECKO_ID = "cpa-bridge@cpabridge.io"
ALL = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox")

# Expected locations, written out here independently of install/cpa_install/browsers.py.
LINUX_USER = {
    "chrome": ".config/google-chrome/NativeMessagingHosts",
    "chromium": ".config/chromium/NativeMessagingHosts",
    "edge": ".config/microsoft-edge/NativeMessagingHosts",
    "brave": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
    "vivaldi": ".config/vivaldi/NativeMessagingHosts",
    "firefox": ".mozilla/native-messaging-hosts",
}
MAC_USER = {
    "chrome": "Library/Application Support/Google/Chrome/NativeMessagingHosts",
    "chromium": "Library/Application Support/Chromium/NativeMessagingHosts",
    "edge": "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
    "brave": "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
    "vivaldi": "Library/Application Support/Vivaldi/NativeMessagingHosts",
    "firefox": "Library/Application Support/Mozilla/NativeMessagingHosts",
}
WIN_KEYS = {
    "Google\\Chrome": "chromium",  # Chrome, and Brave and Vivaldi, which read Chrome's key
    "Chromium": "chromium",
    "Microsoft\\Edge": "chromium",
    "BraveSoftware\\Brave-Browser": "chromium",
    "Mozilla": "firefox",
}

STUB_HOST = '''\
"""Stand-in for cpa_bridge.host: answers one ping. CPA_STUB_MODE: ok | silent | error | hang."""
import json, os, struct, sys, time

def main():
    record = os.environ.get("CPA_STUB_RECORD")
    if record:
        with open(record, "a") as f:
            f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
    mode = os.environ.get("CPA_STUB_MODE", "ok")
    if mode == "hang":
        time.sleep(30)
    header = sys.stdin.buffer.read(4)
    (n,) = struct.unpack("=I", header)
    req = json.loads(sys.stdin.buffer.read(n))
    if mode == "silent":
        sys.stderr.write("stub: giving up\\n")
        return 3
    if mode == "error":
        rep = {"v": 1, "id": req["id"], "ok": False, "error": {"code": "internal", "message": "boom"}}
    else:
        rep = {"v": 1, "id": req["id"], "ok": True, "result": {"host_version": "0.0-stub", "protocol": 1}}
    body = json.dumps(rep).encode()
    sys.stdout.buffer.write(struct.pack("=I", len(body)) + body)
    sys.stdout.buffer.flush()
    return 0

if __name__ == "__main__":
    sys.exit(main())
'''


def _imports(module: str) -> bool:
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, cwd="/")
    return proc.returncode == 0


needs_real_host = pytest.mark.skipif(
    not _imports("cpa_bridge.host"),
    reason="cpa_bridge.host is not importable by this interpreter (pip install -e . first)",
)


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_real_home(tmp_path, monkeypatch):
    """In-process calls must not see the real home or XDG dirs either.

    (tests/conftest.py prepares tmp_path/"home" with XDG dirs for the host tests;
    the installer tests need an empty home they fully control, so use another.)
    """
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    for var in (
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        "LOCALAPPDATA",
        "APPDATA",
        "PROGRAMDATA",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "user-home"
    path.mkdir()
    return path


@pytest.fixture
def ext(tmp_path) -> Path:
    """A minimal unpacked extension with the project's key and gecko id."""
    path = tmp_path / "extension"
    path.mkdir()
    manifest = {
        "manifest_version": 3,
        "name": "cpa-bridge test",
        "version": "0.0.1",
        "key": KEY,
        "browser_specific_settings": {"gecko": {"id": GECKO_ID}},
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.fixture
def stub(tmp_path) -> Path:
    """A stand-in cpa_bridge package (answers ping); put on PYTHONPATH."""
    path = tmp_path / "stub"
    (path / "cpa_bridge").mkdir(parents=True)
    (path / "cpa_bridge" / "__init__.py").write_text("")
    (path / "cpa_bridge" / "host.py").write_text(STUB_HOST)
    return path


@pytest.fixture
def fakebin(tmp_path) -> Path:
    path = tmp_path / "fakebin"
    path.mkdir()
    return path


@pytest.fixture
def env(home, stub, fakebin) -> dict:
    """Environment for the installer: temp HOME, no XDG vars, PATH = an empty dir."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    return dict(keep, HOME=str(home), PATH=str(fakebin), PYTHONPATH=str(stub))


@pytest.fixture
def run(tmp_path, env, ext):
    """Run install.py as a user would; returns the CompletedProcess (text)."""

    def run_installer(
        *args: str, extra_env: dict | None = None, ext_dir: Path = ext, timeout: float = 120
    ):
        return subprocess.run(
            [sys.executable, str(INSTALL_PY), "--extension-dir", str(ext_dir), *args],
            capture_output=True,
            text=True,
            env=dict(env, **(extra_env or {})),
            cwd=str(tmp_path),
            timeout=timeout,
        )

    return run_installer


def tree(*roots: Path) -> dict:
    """{path: (kind, content or mode)} for everything under the roots."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirnames, filenames in os.walk(root):
            out[dirpath] = ("dir",)
            for name in filenames:
                p = Path(dirpath, name)
                out[str(p)] = ("file", p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
    return out


def mtimes(root: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*")}


def assert_manifest(path: Path, family: str, launcher: Path | None = None) -> dict:
    data = json.loads(path.read_text())
    assert data["name"] == path.stem == HOST
    assert data["type"] == "stdio"
    assert Path(data["path"]).is_absolute()
    assert os.access(data["path"], os.X_OK), f"{data['path']} is not executable"
    if launcher is not None:
        assert data["path"] == str(launcher)
    if family == "chromium":
        assert data["allowed_origins"] == [ORIGIN]
        assert "allowed_extensions" not in data
    else:
        assert data["allowed_extensions"] == [GECKO_ID]
        assert "allowed_origins" not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    return data


def family(browser: str) -> str:
    return "firefox" if browser == "firefox" else "chromium"


# -- identity -------------------------------------------------------------------


def test_extension_id_from_key():
    assert id_from_bytes(base64.b64decode(KEY)) == EXT_ID


def test_extension_id_of_the_real_extension():
    manifest = REPO / "extension" / "manifest.json"
    if not manifest.exists():
        pytest.skip("extension/manifest.json not written yet")
    ident = api.manifests.read_identity(REPO / "extension")
    assert (ident.chromium_id, ident.gecko_id, ident.id_source) == (EXT_ID, GECKO_ID, "key")


# -- where manifests go -------------------------------------------------------------


@pytest.mark.parametrize("browser", ALL)
def test_linux_manifest_location_and_content(run, home, browser):
    proc = run("--no-venv", "--browser", browser)
    assert proc.returncode == 0, proc.stderr
    launcher = home / ".local/share/cpa-bridge/bin/cpa-bridge-host"
    assert_manifest(home / LINUX_USER[browser] / f"{HOST}.json", family(browser), launcher)
    written = sorted(str(p.relative_to(home)) for p in home.rglob(f"{HOST}.json"))
    assert written == [f"{LINUX_USER[browser]}/{HOST}.json"]
    assert launcher.read_text() == (
        "#!/bin/sh\n"
        "# cpa-bridge native-messaging host launcher (written by install/install.py)\n"
        f'exec "{sys.executable}" -m cpa_bridge.host "$@"\n'
    )
    assert os.access(home / ".local/bin/cpa-bridge", os.X_OK)
    assert str(home / LINUX_USER[browser]) in proc.stdout


@pytest.mark.parametrize("browser", ALL)
def test_macos_manifest_location_and_content(run, home, browser):
    proc = run("--no-venv", "--platform", "darwin", "--browser", browser)
    assert proc.returncode == 0, proc.stderr
    launcher = home / "Library/Application Support/cpa-bridge/bin/cpa-bridge-host"
    assert_manifest(home / MAC_USER[browser] / f"{HOST}.json", family(browser), launcher)
    assert not (home / ".config").exists() and not (home / ".mozilla").exists()


def test_all_browsers_at_once_each_get_their_own_family_key(run, home):
    # nativemessaging-ng wrote a second manifest with no allow-list at all (reference A3).
    assert run("--no-venv", "--browser", "all").returncode == 0
    for browser in ALL:
        assert_manifest(home / LINUX_USER[browser] / f"{HOST}.json", family(browser))


def test_detects_browsers_by_profile_dir_or_program(run, home, fakebin):
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    (fakebin / "vivaldi").write_text("#!/bin/sh\n")
    (fakebin / "vivaldi").chmod(0o755)
    proc = run("--no-venv")
    assert proc.returncode == 0, proc.stderr
    found = sorted(str(p.relative_to(home)) for p in home.rglob(f"{HOST}.json"))
    assert found == sorted(
        f"{LINUX_USER[b]}/{HOST}.json" for b in ("chromium", "firefox", "vivaldi")
    )


def test_no_browser_found_is_a_clear_error(run, home):
    proc = run("--no-venv")
    assert proc.returncode == 1
    assert proc.stderr.startswith("install.py: error: no supported browser found")
    assert "--browser" in proc.stderr and "Traceback" not in proc.stderr
    assert list(home.iterdir()) == []


def test_xdg_dirs_are_honoured_but_firefox_stays_in_dot_mozilla(run, home, tmp_path):
    conf, data = tmp_path / "xdg-config", tmp_path / "xdg-data"
    (conf / "chromium").mkdir(parents=True)
    (conf / "mozilla").mkdir()  # Firefox >= 147 profile under XDG
    proc = run("--no-venv", extra_env={"XDG_CONFIG_HOME": str(conf), "XDG_DATA_HOME": str(data)})
    assert proc.returncode == 0, proc.stderr
    launcher = data / "cpa-bridge/bin/cpa-bridge-host"
    assert_manifest(conf / "chromium/NativeMessagingHosts" / f"{HOST}.json", "chromium", launcher)
    assert_manifest(home / ".mozilla/native-messaging-hosts" / f"{HOST}.json", "firefox", launcher)


def test_user_data_dir_only(run, home, tmp_path):
    (home / ".config/chromium").mkdir(parents=True)  # found, but not asked for
    udd = tmp_path / "profile"
    proc = run("--no-venv", "--user-data-dir", str(udd))
    assert proc.returncode == 0, proc.stderr
    assert_manifest(udd / "NativeMessagingHosts" / f"{HOST}.json", "chromium")
    assert not list(home.rglob(f"{HOST}.json"))
    check = run("--check", "--user-data-dir", str(udd))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok" in check.stdout and "host 0.0-stub" in check.stdout


def test_plain_check_covers_recorded_user_data_dirs_with_consistent_labels(run, home, tmp_path):
    (home / ".config/chromium").mkdir(parents=True)
    udd = tmp_path / "profile"
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    installed = run("--no-venv", "--user-data-dir", str(udd))
    assert installed.returncode == 0, installed.stderr
    assert f"    chromium profile {udd}: {udd / 'NativeMessagingHosts'}" in installed.stdout
    check = run("--check")
    assert check.returncode == 0, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert any(line.startswith("chromium: ok: ") for line in lines), check.stdout
    assert any(line.startswith(f"chromium profile {udd}: ok: ") for line in lines), check.stdout
    # The recorded profile is checked too: break it and a plain --check says so.
    (udd / "NativeMessagingHosts" / f"{HOST}.json").write_text("{}")
    broken = run("--check")
    assert broken.returncode == 1
    assert any(
        line.startswith(f"chromium profile {udd}: broken: ") for line in broken.stdout.splitlines()
    ), broken.stdout
    for line in broken.stdout.splitlines():
        assert re.match(r"^[a-z-]+( profile \S+)?: (ok|broken|not registered)\b", line), line


def test_extension_id_option(run, home):
    other = "a" * 32
    assert run("--no-venv", "--browser", "chromium", "--extension-id", other).returncode == 0
    data = json.loads((home / LINUX_USER["chromium"] / f"{HOST}.json").read_text())
    assert data["allowed_origins"] == [f"chrome-extension://{other}/"]
    bad = run("--no-venv", "--browser", "chromium", "--extension-id", "xyz")
    assert bad.returncode == 1 and "not 32 letters a-p" in bad.stderr


def test_system_install_under_a_root_prefix(run, home, tmp_path):
    root = tmp_path / "root"
    proc = run(
        "--no-venv",
        "--system",
        "--root",
        str(root),
        "--browser",
        "chromium",
        "--browser",
        "firefox",
        "--browser",
        "brave",
    )
    assert proc.returncode == 0, proc.stderr
    launcher = root / "usr/local/lib/cpa-bridge/bin/cpa-bridge-host"
    assert_manifest(
        root / "etc/chromium/native-messaging-hosts" / f"{HOST}.json", "chromium", launcher
    )  # and Brave
    assert not (root / "etc/opt/chrome").exists(), "Brave does not write Google Chrome's system dir"
    assert_manifest(
        root / "usr/lib/mozilla/native-messaging-hosts" / f"{HOST}.json", "firefox", launcher
    )
    assert os.access(root / "usr/local/bin/cpa-bridge", os.X_OK)
    assert list(home.iterdir()) == []
    # Brave shares Chromium's system dir: removing Brave must not take Chromium's manifest with it.
    assert run("--uninstall", "--system", "--root", str(root), "--browser", "brave").returncode == 0
    assert (root / "etc/chromium/native-messaging-hosts" / f"{HOST}.json").exists()
    assert run("--uninstall", "--system", "--root", str(root)).returncode == 0
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_launcher_quotes_an_interpreter_path_with_spaces(run, home, tmp_path):
    odd = tmp_path / "my py $dir"
    odd.mkdir()
    (odd / "python").symlink_to(sys.executable)
    proc = run("--python", str(odd / "python"), "--browser", "chromium")
    assert proc.returncode == 0, proc.stderr
    check = run("--check")
    assert check.returncode == 0, check.stdout + check.stderr


# -- dry run, idempotence, refusal ----------------------------------------------------


def test_dry_run_writes_nothing(run, home, tmp_path):
    (home / ".config/chromium").mkdir(parents=True)
    udd = tmp_path / "profile"
    before = tree(home, udd)
    proc = run("--no-venv", "--browser", "all", "--user-data-dir", str(udd), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert tree(home, udd) == before
    for browser in ALL:
        assert str(home / LINUX_USER[browser] / f"{HOST}.json") in proc.stdout
    assert str(udd / "NativeMessagingHosts" / f"{HOST}.json") in proc.stdout
    assert str(home / ".local/bin/cpa-bridge") in proc.stdout


def test_second_run_changes_nothing(run, home):
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    assert run("--no-venv").returncode == 0
    before = mtimes(home)
    record = (home / ".local/share/cpa-bridge/install-record.json").read_bytes()
    proc = run("--no-venv")
    assert proc.returncode == 0, proc.stderr
    assert mtimes(home) == before
    assert (home / ".local/share/cpa-bridge/install-record.json").read_bytes() == record
    assert "(unchanged)" in proc.stdout and "(written)" not in proc.stdout


def test_refuses_to_overwrite_a_foreign_manifest(run, home):
    target = home / LINUX_USER["chromium"] / f"{HOST}.json"
    target.parent.mkdir(parents=True)
    target.write_text('{"name": "io.cpabridge.host", "path": "/somebody/else"}\n')
    before = tree(home)
    proc = run("--no-venv", "--browser", "chromium")
    assert proc.returncode == 3
    assert str(target) in proc.stderr and "--force" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert tree(home) == before  # nothing at all was written
    forced = run("--no-venv", "--browser", "chromium", "--force")
    assert forced.returncode == 0, forced.stderr
    assert_manifest(target, "chromium")


def test_refuses_when_a_manifest_we_wrote_was_edited(run, home):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    target = home / LINUX_USER["chromium"] / f"{HOST}.json"
    target.write_text(target.read_text().replace("stdio", "stdio "))
    assert run("--no-venv", "--browser", "chromium").returncode == 3


def test_updates_its_own_manifest_when_the_id_changes(run, home):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    proc = run("--no-venv", "--browser", "chromium", "--extension-id", "b" * 32)
    assert proc.returncode == 0, proc.stderr
    assert "(updated)" in proc.stdout


# -- uninstall --------------------------------------------------------------------


def test_uninstall_leaves_nothing_behind(run, home, tmp_path):
    (home / ".config/chromium/Default").mkdir(parents=True)
    (home / ".config/chromium/Default/Preferences").write_text("{}")
    (home / ".mozilla").mkdir()
    (home / ".local/bin").mkdir(parents=True)
    (home / ".local/bin/other-tool").write_text("#!/bin/sh\n")
    udd = tmp_path / "profile"
    before = tree(home)
    assert run("--no-venv", "--browser", "all").returncode == 0
    assert (
        run("--no-venv", "--user-data-dir", str(udd)).returncode == 0
    )  # a second install, same record
    assert len(list(home.rglob(f"{HOST}.json"))) == len(ALL)
    proc = run("--uninstall")
    assert proc.returncode == 0, proc.stderr
    assert tree(home) == before
    assert not udd.exists()
    again = run("--uninstall")
    assert again.returncode == 0 and "Nothing to uninstall" in again.stdout


def test_uninstall_says_what_it_keeps_and_how_to_remove_it(run, home):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    out = run("--uninstall").stdout
    for kept in (
        "settings.json",
        "management key",
        "keys.json",
        "backups/",
        "~/.config/cpa-bridge",
        "~/.local/share/cpa-bridge",
        "delete",
    ):
        assert kept in out, (kept, out)


def test_uninstall_recognises_our_manifest_by_its_content(run, home):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    target = home / LINUX_USER["chromium"] / f"{HOST}.json"
    data = json.loads(target.read_text())
    target.write_text(
        json.dumps(data)
    )  # rewritten (another formatting, an older installer): still ours
    proc = run("--uninstall")
    assert proc.returncode == 0 and not target.exists(), proc.stdout + proc.stderr


def test_uninstall_one_profile_keeps_the_rest(run, home, tmp_path):
    udd = tmp_path / "profile"
    assert run("--no-venv", "--browser", "chromium", "--user-data-dir", str(udd)).returncode == 0
    assert run("--uninstall", "--user-data-dir", str(udd)).returncode == 0
    assert not udd.exists()
    assert (home / LINUX_USER["chromium"] / f"{HOST}.json").exists()
    assert run("--check").returncode == 0


def test_uninstall_keeps_a_file_changed_since_install(run, home):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    target = home / LINUX_USER["chromium"] / f"{HOST}.json"
    target.write_text("mine now\n")
    proc = run("--uninstall")
    assert proc.returncode == 0
    assert target.read_text() == "mine now\n"
    assert "changed since" in proc.stderr
    assert not (home / ".local/share/cpa-bridge").exists()


# -- check --------------------------------------------------------------------------


def _break(kind: str, manifest: Path, tmp_path: Path) -> str:
    data = json.loads(manifest.read_text())
    if kind == "bad-json":
        manifest.write_text("{not json")
        return f"chromium: broken: manifest {manifest} is not valid JSON"
    if kind == "missing-path":
        data["path"] = str(tmp_path / "nowhere" / "host")
        manifest.write_text(json.dumps(data))
        return f"chromium: broken: host path {tmp_path / 'nowhere' / 'host'} does not exist"
    if kind == "not-executable":
        Path(data["path"]).chmod(0o644)
        return f"chromium: broken: host path {data['path']} is not executable"
    if kind == "relative-path":
        data["path"] = "cpa-bridge-host"
        manifest.write_text(json.dumps(data))
        return "is not absolute"
    if kind == "wrong-origin":
        data["allowed_origins"] = ["chrome-extension://" + "a" * 32 + "/"]
        manifest.write_text(json.dumps(data))
        return f'"allowed_origins" does not list {ORIGIN}'
    if kind == "deleted":
        manifest.unlink()
        return f"chromium: broken: manifest {manifest} does not exist"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["bad-json", "missing-path", "not-executable", "relative-path", "wrong-origin", "deleted"],
)
def test_check_reports_a_broken_manifest(run, home, tmp_path, kind):
    (home / ".mozilla").mkdir()
    assert run("--no-venv", "--browser", "chromium", "--browser", "firefox").returncode == 0
    expected = _break(kind, home / LINUX_USER["chromium"] / f"{HOST}.json", tmp_path)
    proc = run("--check")
    assert proc.returncode == 1
    assert expected in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    if kind != "not-executable":  # firefox shares the launcher
        assert "firefox: ok" in proc.stdout


def test_check_pings_through_the_launcher_like_a_browser(run, home, tmp_path):
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    assert run("--no-venv").returncode == 0
    record = tmp_path / "argv.jsonl"
    proc = run("--check", "--json", extra_env={"CPA_STUB_RECORD": str(record)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert {(r["label"], r["status"], r["host_version"]) for r in report["results"]} == {
        ("chromium", "ok", "0.0-stub"),
        ("firefox", "ok", "0.0-stub"),
    }
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    firefox_manifest = str(home / LINUX_USER["firefox"] / f"{HOST}.json")
    assert sorted(c["argv"] for c in calls) == sorted([[ORIGIN], [firefox_manifest, GECKO_ID]])
    assert {c["cwd"] for c in calls} == {str(home / ".local/share/cpa-bridge/bin")}


@pytest.mark.parametrize(
    "mode, message",
    [
        ("silent", "host exited with code 3 without answering: stub: giving up"),
        ("error", "host answered with error internal: boom"),
    ],
)
def test_check_reports_a_host_that_does_not_answer(run, home, mode, message):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    proc = run("--check", extra_env={"CPA_STUB_MODE": mode})
    assert proc.returncode == 1
    assert f"chromium: broken: host did not answer ping: {message}" in proc.stdout


def test_check_times_out_on_a_hanging_host(run, home, env):
    assert run("--no-venv", "--browser", "chromium").returncode == 0
    report = api.check(home=home, environ=dict(env, CPA_STUB_MODE="hang"), ping_timeout=0.5)
    (result,) = report.results
    assert result.status == "broken"
    assert result.problems == ["host did not answer ping: no reply within 0.5 s"]


def test_check_with_nothing_installed_fails(run, home):
    proc = run("--check")
    assert proc.returncode == 1 and "not registered for any browser" in proc.stderr


# -- errors ---------------------------------------------------------------------------


def test_no_venv_needs_an_importable_host(run, home, tmp_path):
    bare_python = tmp_path / "bare-python"  # this interpreter without site-packages: no cpa_bridge
    bare_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare_python.chmod(0o755)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run(
        "--python", str(bare_python), "--browser", "chromium", extra_env={"PYTHONPATH": str(empty)}
    )
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert "cannot import cpa_bridge.host" in line and "--no-venv" in line
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--browser", "netscape"], "unknown browser 'netscape'"),
        (
            ["--extension-dir", "/nonexistent"],
            "extension manifest /nonexistent/manifest.json not found",
        ),
        (["--system", "--user-data-dir", "/tmp/x"], "cannot be combined"),
        (["--platform", "win32", "--browser", "chrome"], "registry can only be written on Windows"),
    ],
)
def test_errors_are_one_line_without_traceback(run, args, message):
    proc = run("--no-venv", *args)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("install.py: error: ") and message in line


def test_json_output(run, home):
    proc = run("--no-venv", "--browser", "firefox", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (
        report["ok"] is True and report["extension_id"] == EXT_ID and report["gecko_id"] == GECKO_ID
    )
    assert [r["manifest"] for r in report["registrations"]] == [
        str(home / LINUX_USER["firefox"] / f"{HOST}.json")
    ]
    failed = run("--no-venv", "--browser", "nope", "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["ok"] is False


# -- Windows (in-memory registry) ---------------------------------------------------


def _win(home: Path, env: dict, **kwargs):
    return dict(
        platform="win32",
        home=home,
        environ=dict(env, LOCALAPPDATA=str(home / "AppData/Local")),
        **kwargs,
    )


def test_windows_registry_keys_and_files(home, env, ext):
    reg = MemoryRegistry({"HKCU\\Software\\Google\\Chrome\\PreferenceMACs": None})
    before = dict(reg.keys)
    report = api.install(
        browsers=["all"], no_venv=True, extension_dir=ext, registry=reg, **_win(home, env)
    )
    data_dir = home / "AppData/Local/cpa-bridge"
    manifest = {
        fam: data_dir / "manifests" / fam / f"{HOST}.json" for fam in ("chromium", "firefox")
    }
    ours = {k: v for k, v in reg.keys.items() if k.endswith(HOST)}
    assert ours == {
        f"HKCU\\Software\\{vendor}\\NativeMessagingHosts\\{HOST}": str(manifest[fam])
        for vendor, fam in WIN_KEYS.items()
    }
    launcher = data_dir / "bin/cpa-bridge-host.bat"
    assert (
        launcher.read_bytes()
        == f'@echo off\r\n"{sys.executable}" -m cpa_bridge.host %*\r\n'.encode()
    )
    assert report.host_launcher == launcher
    for fam, path in manifest.items():
        data = json.loads(path.read_text())
        assert data["path"] == str(launcher)
        assert ("allowed_origins" in data) == (fam == "chromium") and (
            "allowed_extensions" in data
        ) == (fam == "firefox")
    assert (data_dir / "bin/cpa-bridge.bat").exists()

    check = api.check(extension_dir=ext, registry=reg, ping_host=False, **_win(home, env))
    assert check.ok and {r.label for r in check.results} == set(ALL)
    del reg.keys[f"HKCU\\Software\\Mozilla\\NativeMessagingHosts\\{HOST}"]
    check = api.check(extension_dir=ext, registry=reg, ping_host=False, **_win(home, env))
    (broken,) = check.broken
    assert broken.label == "firefox" and broken.problems == [
        f"registry key HKCU\\Software\\Mozilla\\NativeMessagingHosts\\{HOST} is missing"
    ]

    api.uninstall(registry=reg, **_win(home, env))
    assert reg.keys == before  # including the parent keys we created, and only those
    assert list(home.iterdir()) == []


def test_windows_system_install_uses_hklm_and_is_idempotent(home, env, ext):
    reg = MemoryRegistry()
    kwargs = _win(
        home,
        dict(env, PROGRAMDATA=str(home / "ProgramData")),
        system=True,
        registry=reg,
        extension_dir=ext,
    )
    api.install(browsers=["edge"], no_venv=True, **kwargs)
    assert {k: v for k, v in reg.keys.items() if v} == {
        f"HKLM\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\{HOST}": str(
            home / "ProgramData/cpa-bridge/manifests/chromium" / f"{HOST}.json"
        )
    }
    before = mtimes(home)
    again = api.install(browsers=["edge"], no_venv=True, **kwargs)
    assert {s.action for s in again.steps if s.kind != "venv"} == {"unchanged"}
    assert mtimes(home) == before


def test_windows_refuses_a_foreign_registry_value(home, env, ext):
    key = f"HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\{HOST}"
    reg = MemoryRegistry({key: "C:\\somebody\\else.json"})
    with pytest.raises(api.Refused, match="--force"):
        api.install(
            browsers=["chrome"], no_venv=True, extension_dir=ext, registry=reg, **_win(home, env)
        )
    assert reg.get(key) == "C:\\somebody\\else.json"
    api.install(
        browsers=["chrome"],
        no_venv=True,
        extension_dir=ext,
        registry=reg,
        force=True,
        **_win(home, env),
    )
    assert reg.get(key).endswith(f"{HOST}.json") and reg.get(key) != "C:\\somebody\\else.json"


class FakeWinreg:
    """Just the winreg calls Registry makes, over a MemoryRegistry; checks the value kind and name."""

    HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE = "HKCU", "HKLM"
    REG_SZ, REG_EXPAND_SZ, KEY_WRITE = 1, 2, 0x20006

    class Handle:
        def __init__(self, key: str) -> None:
            self.key = key

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def Close(self) -> None:
            pass

    def __init__(self) -> None:
        self.mem = MemoryRegistry()

    def OpenKey(self, hive, sub):
        if not self.mem.exists(f"{hive}\\{sub}"):
            raise FileNotFoundError(sub)
        return self.Handle(f"{hive}\\{sub}")

    def QueryValueEx(self, handle, name):
        value = self.mem.get(handle.key)
        if name != "" or value is None:
            raise FileNotFoundError(name)
        return value, self.REG_SZ

    def CreateKeyEx(self, hive, sub, reserved, access):
        assert access == self.KEY_WRITE
        self.mem._create(f"{hive}\\{sub}")
        return self.Handle(f"{hive}\\{sub}")

    def SetValueEx(self, handle, name, reserved, kind, value):
        assert (name, kind) == ("", self.REG_SZ)
        self.mem.set_default(handle.key, value)

    def QueryInfoKey(self, handle):
        children = [k for k in self.mem.keys if k.lower().startswith(handle.key.lower() + "\\")]
        direct = [k for k in children if "\\" not in k[len(handle.key) + 1 :]]
        return len(direct), int(self.mem.get(handle.key) is not None), 0

    def DeleteKey(self, hive, sub):
        self.mem.delete(f"{hive}\\{sub}")


def test_registry_class_over_winreg(home, env, ext, monkeypatch):
    fake = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", fake)
    from cpa_install.windows import Registry

    reg = Registry()
    api.install(
        browsers=["chromium", "firefox"],
        no_venv=True,
        extension_dir=ext,
        registry=reg,
        **_win(home, env),
    )
    manifests = home / "AppData/Local/cpa-bridge/manifests"
    assert {k: v for k, v in fake.mem.keys.items() if v} == {
        f"HKCU\\Software\\Chromium\\NativeMessagingHosts\\{HOST}": str(
            manifests / "chromium" / f"{HOST}.json"
        ),
        f"HKCU\\Software\\Mozilla\\NativeMessagingHosts\\{HOST}": str(
            manifests / "firefox" / f"{HOST}.json"
        ),
    }
    assert api.check(extension_dir=ext, registry=reg, ping_host=False, **_win(home, env)).ok
    api.uninstall(registry=reg, **_win(home, env))
    assert fake.mem.keys == {}


def test_windows_dry_run_on_linux_lists_keys(run, home):
    proc = run("--no-venv", "--platform", "win32", "--browser", "brave", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\{HOST}" in proc.stdout
    assert (
        f"HKCU\\Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\{HOST}" in proc.stdout
    )
    assert list(home.iterdir()) == []


# -- the real host ------------------------------------------------------------------


@needs_real_host
def test_real_host_answers_ping(run, home, env):
    bare = {k: v for k, v in env.items() if k != "PYTHONPATH"}  # no stub: the installed cpa_bridge
    args = ["--no-venv", "--browser", "chromium"]
    assert (
        subprocess.run(
            [sys.executable, str(INSTALL_PY), *args], env=bare, capture_output=True
        ).returncode
        == 0
    )
    proc = subprocess.run(
        [sys.executable, str(INSTALL_PY), "--check", "--json"],
        env=bare,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = json.loads(proc.stdout)["results"]
    assert result["status"] == "ok" and result["host_version"]


def test_ping_frame_format():
    from cpa_install.ping import encode

    frame = encode({"v": 1, "id": "install-check", "type": "ping", "params": {}})
    (length,) = struct.unpack("=I", frame[:4])
    assert length == len(frame) - 4
    assert json.loads(frame[4:]) == {"v": 1, "id": "install-check", "type": "ping", "params": {}}


@pytest.mark.slow
def test_private_venv_install_check_reinstall_uninstall(home, env, tmp_path):
    """The one test that builds a real venv and pip installs the repository (needs the index)."""
    bare = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    bare.update(
        {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    )  # the index configuration
    bare.update(PIP_NO_CACHE_DIR="1")  # keep pip's cache out of the temp home
    udd = tmp_path / "profile"

    def installer(*args):
        return subprocess.run(
            [sys.executable, str(INSTALL_PY), *args],
            env=bare,
            capture_output=True,
            text=True,
            timeout=900,
        )

    first = installer("--user-data-dir", str(udd))
    assert first.returncode == 0, first.stdout + first.stderr
    venv_python = home / ".local/share/cpa-bridge/venv/bin/python"
    assert venv_python.exists()
    assert (
        f'exec "{venv_python}" -m cpa_bridge.host'
        in (home / ".local/share/cpa-bridge/bin/cpa-bridge-host").read_text()
    )
    check = installer("--check", "--user-data-dir", str(udd))
    assert check.returncode == 0, check.stdout + check.stderr
    cli = subprocess.run(
        [str(home / ".local/bin/cpa-bridge"), "--help"], env=bare, capture_output=True, text=True
    )
    assert cli.returncode == 0, cli.stderr

    before = mtimes(home / ".local/share/cpa-bridge/venv")
    second = installer("--user-data-dir", str(udd))
    assert second.returncode == 0, second.stderr
    assert (
        mtimes(home / ".local/share/cpa-bridge/venv") == before
    )  # same version: pip not run again

    gone = installer("--uninstall")
    assert gone.returncode == 0, gone.stderr
    data_dir = home / ".local/share/cpa-bridge"
    assert not (home / ".local/bin").exists() and not udd.exists()
    assert not (data_dir / "venv").exists() and not (data_dir / "bin").exists()
    # What remains is only what the host itself wrote (its logs), which uninstall leaves alone.
    leftovers = [p.relative_to(data_dir) for p in home.rglob("*") if p.is_file()]
    assert all(p.parts[0] == "logs" for p in leftovers), leftovers
    if leftovers:
        assert f"kept {data_dir}" in gone.stderr
