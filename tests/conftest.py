"""Shared fixtures: every test runs with a throwaway HOME and XDG dirs (never the real ~)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess, run_cli

MGMT_KEY = "test-mgmt-key-0123456789"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for sub in ("", ".config", ".local/share", ".cache", ".local/state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    for name in list(os.environ):
        if name.startswith("CPA_BRIDGE_"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def host() -> Iterator[HostProcess]:
    proc = HostProcess.start()
    yield proc
    proc.close()


@pytest.fixture
def host_factory() -> Iterator:
    procs: list[HostProcess] = []

    def make(*argv: str, env: dict[str, str] | None = None) -> HostProcess:
        proc = HostProcess.start(*argv, env=env)
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.close()


@pytest.fixture
def configured(standin, host):
    """The default target points at the stand-in CLIProxyAPI with the right key."""
    reply = host.call("settings.set", {"management_url": standin.url, "management_key": MGMT_KEY})
    assert reply["ok"], reply
    return standin


@pytest.fixture
def cli():
    return run_cli
