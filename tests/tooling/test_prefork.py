"""The prefork server (tests/prefork.py) starts processes that behave as the exec'd commands do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests import prefork
from tests.hostproc import HostProcess, run_cli


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["no-such-command"],
        ["--json", "settings", "show"],
        ["keys", "import-backup", "backup.json", "--dry-run"],
        ["keys", "import-backup", "missing.json", "--dry-run"],
    ],
)
def test_a_forked_cli_answers_as_the_exec_one(argv, tmp_path, monkeypatch):
    # a relative file name: the child must run in the test's working directory
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backup.json").write_text(json.dumps({"accounts": []}), encoding="utf-8")
    forked, real = run_cli(*argv), run_cli(*argv, real_exec=True)
    assert (forked.code, forked.out, forked.err) == (real.code, real.out, real.err)


def test_a_forked_cli_reads_stdin():
    argv = ("keys", "add", "--site-id", "nope")
    forked = run_cli(*argv, stdin="sk-typed-on-stdin-0001\n")
    real = run_cli(*argv, stdin="sk-typed-on-stdin-0001\n", real_exec=True)
    assert (forked.code, forked.out, forked.err) == (real.code, real.out, real.err)
    assert forked.code != 0 and "site" in forked.err


def test_waiting_for_a_running_host_times_out_like_popen():
    host = HostProcess.start()
    with pytest.raises(subprocess.TimeoutExpired):
        host.proc.wait(0.2)
    assert host.close() == 0


def test_a_forked_host_gets_the_tests_environment_and_writes_where_it_says(tmp_path):
    config_dir = tmp_path / "elsewhere"
    host = HostProcess.start(env={"CPA_BRIDGE_CONFIG_DIR": str(config_dir)})
    assert isinstance(host.proc, prefork.ForkedProcess)
    reply = host.call(
        "settings.set",
        {"management_url": "http://127.0.0.1:9", "management_key": "a-management-key-000"},
    )
    assert reply["ok"], reply
    assert host.close() == 0
    assert (config_dir / "settings.json").exists()
    assert (os.stat(config_dir / "settings.json").st_mode & 0o777) == 0o600


def test_a_forked_host_can_be_killed_and_reports_the_signal():
    host = HostProcess.start()
    assert host.call("ping")["ok"]
    assert host.proc.poll() is None
    host.proc.kill()
    assert host.proc.wait(10) == -signal.SIGKILL


def test_a_start_up_variable_makes_it_exec(monkeypatch):
    monkeypatch.setenv("PYTHONIOENCODING", "latin-1")
    host = HostProcess.start()
    assert isinstance(host.proc, subprocess.Popen)
    assert host.call("ping")["ok"] and host.close() == 0


def test_the_forked_host_is_a_process_of_its_own(tmp_path: Path):
    first, second = HostProcess.start(), HostProcess.start()
    assert first.proc.pid != second.proc.pid != os.getpid()
    assert first.call("ping")["ok"] and second.call("ping")["ok"]
    assert first.close() == 0 and second.close() == 0
