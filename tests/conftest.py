"""Shared fixtures: every test runs with a throwaway HOME and XDG dirs (never the real ~)."""

from __future__ import annotations

import functools
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess, run_cli

MGMT_KEY = "test-mgmt-key-0123456789"

#: Seconds each test file took in a full run (``pytest --record-file-seconds``), for the order
#: the files run in; a file not listed counts one second per test. Only the order depends on it.
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-file-seconds",
        action="store_true",
        help=f"write each test file's run time to {FILE_SECONDS.name} (the order files run in)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first. pytest-xdist gives each worker a whole file at a time, in this order
    (pyproject.toml: --dist loadfile --no-loadscope-reorder): a long file collected late would
    run alone at the end while the other workers wait. The order inside a file is kept."""
    try:
        known = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.nodeid.split("::")[0]] += 1
    seconds = {path: float(known.get(path, n)) for path, n in counts.items()}
    items.sort(key=lambda item: -seconds[item.nodeid.split("::")[0]])


_SPENT: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _SPENT[report.nodeid.split("::")[0]] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.getoption("record_file_seconds") and not os.environ.get(
        "PYTEST_XDIST_WORKER"
    ):
        try:  # a partial run updates the files it ran
            table = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            table = {}
        table.update({path: round(spent, 1) for path, spent in _SPENT.items()})
        FILE_SECONDS.write_text(
            json.dumps(dict(sorted(table.items())), indent=1) + "\n", encoding="utf-8"
        )


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


def _real_exec(request: pytest.FixtureRequest) -> bool:
    """Marked ``real_exec``: exec ``python -m cpa_bridge.host`` instead of forking (tests/prefork.py)."""
    return request.node.get_closest_marker("real_exec") is not None


@pytest.fixture
def host(request: pytest.FixtureRequest) -> Iterator[HostProcess]:
    proc = HostProcess.start(real_exec=_real_exec(request))
    yield proc
    proc.close()


@pytest.fixture
def host_factory(request: pytest.FixtureRequest) -> Iterator:
    procs: list[HostProcess] = []
    real_exec = _real_exec(request)

    def make(*argv: str, env: dict[str, str] | None = None) -> HostProcess:
        proc = HostProcess.start(*argv, env=env, real_exec=real_exec)
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
def cli(request: pytest.FixtureRequest):
    return functools.partial(run_cli, real_exec=_real_exec(request))
