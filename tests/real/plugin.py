"""pytest fixtures for the contract suite over the stand-in AND every pinned real server.

* ``cpa_factory(initial_yaml=..., secret=..., allow_remote=..., env_password=...)``: a started
  CLIProxyAPI: the stand-in, or a real server from ``versions.txt`` (one pytest id each:
  ``standin``, ``v7.2.140``, ``v6.10.9-dev``). Each test gets fresh servers, stopped by PID at
  teardown. The object has ``url``, ``management_url``, ``config()``, ``yaml_text()``,
  ``requests`` and ``reset_requests()``, and ``kind`` (the id); real ones also ``spec``.
* ``cpa``: one of them with the default config; ``cpa_configured``: the same, with the host's
  default target pointing at it.

Real servers are built on first use (tests/real/build.py; scripts/test.sh builds them before
pytest starts). Without Go they are skipped with one loud line, except under ``CI=true``, where
a server that cannot be built or started is an error.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cpa_bridge.core.merge import comparable
from tests.real.build import BuildError, ServerSpec, build, go_available, pinned
from tests.real.server import RealCLIProxyAPI

#: The provider lists the contract tests look at.
PROVIDER_LISTS = ("openai-compatibility", "claude-api-key", "gemini-api-key", "codex-api-key")
#: Fields a release line does not know, so the server drops them from a hand-written file the
#: first time it saves it (whoever writes): v6's openai-compatibility keys have only api-key and
#: proxy-url, its models only name and alias, and neither openai-compatibility nor claude entries
#: have weight or disable-cooling (v6.10.9 internal/config/config.go).
KNOWN_DROPS: dict[str, frozenset[str]] = {
    "v6": frozenset({"weight", "display-name", "disable-cooling", "max-context-length"}),
}

SPECS: list[ServerSpec] = pinned()
SERVER_IDS = ["standin", *(spec.id for spec in SPECS)]
_BINARIES: dict[str, Path | BaseException] = {}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_report_header(config: pytest.Config) -> str:
    if go_available():
        return "real CLIProxyAPI servers: " + ", ".join(spec.id for spec in SPECS)
    return (
        "!!! real CLIProxyAPI servers: Go is not installed, the real-server tests are SKIPPED "
        "(install Go, or run under CI=true to make this an error) !!!"
    )


def real_binary(spec: ServerSpec) -> Path:
    """The built binary for ``spec``: skip (locally, no Go) or fail (CI, or a build error)."""
    if spec.id not in _BINARIES:
        try:
            _BINARIES[spec.id] = build(spec)
        except BuildError as exc:
            _BINARIES[spec.id] = exc
    found = _BINARIES[spec.id]
    if isinstance(found, Path):
        return found
    if not go_available() and not _in_ci():
        pytest.skip(f"real CLIProxyAPI {spec.id}: Go is not installed")
    pytest.fail(f"real CLIProxyAPI {spec.id} could not be built: {found}", pytrace=False)


def without_dropped(server: Any, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without the fields ``server`` is known to drop (see :data:`KNOWN_DROPS`)."""
    drops = getattr(server, "drops", frozenset())

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(item) for item in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in drops}
        return value

    return {
        name: strip(value) if name in PROVIDER_LISTS else value for name, value in config.items()
    }


def without_runtime(value: Any) -> Any:
    """``value`` without ``auth-index``, which a real server adds on its own, asynchronously, a
    moment after it loads its file (so it may or may not be there yet on a quick first GET)."""
    if isinstance(value, dict):
        return {k: without_runtime(v) for k, v in value.items() if k != "auth-index"}
    if isinstance(value, list):
        return [without_runtime(v) for v in value]
    return value


def served(server: Any, list_name: str = PROVIDER_LISTS[0]) -> Any:
    """What ``server`` answers to ``GET /v0/management/<list_name>`` (default: the first of
    :data:`PROVIDER_LISTS`) now, without :func:`without_runtime`'s fields (the same for the
    stand-in and a real server)."""
    from tests.conftest import MGMT_KEY  # a plugin loads before conftest (see cpa_configured)

    response = httpx.get(
        f"{server.management_url}/{list_name}",
        headers={"Authorization": f"Bearer {MGMT_KEY}"},
    )
    return without_runtime(response.json())


def kept_lists(server: Any) -> dict[str, Any]:
    """The provider lists in ``server``'s file now, without what it is known to drop.

    A real server also writes its own defaults into the file on its first save, so tests that
    compare "before" and "after" compare these lists (and the served lists), not the whole file.
    """
    config = comparable(without_dropped(server, server.config()))
    return {name: config.get(name) or [] for name in PROVIDER_LISTS}


@pytest.fixture(params=SERVER_IDS)
def cpa_kind(request: pytest.FixtureRequest) -> str:
    """Which CLIProxyAPI a contract test runs against."""
    return str(request.param)


@pytest.fixture
def cpa_factory(cpa_kind: str, standin_factory: Any, tmp_path: Path) -> Iterator[Any]:
    from tests.standin.plugin import DEFAULT_YAML, STANDIN_SECRET

    started: list[RealCLIProxyAPI] = []
    counter = itertools.count(1)
    spec = next((s for s in SPECS if s.id == cpa_kind), None)
    binary = real_binary(spec) if spec is not None else None

    def make(
        *,
        initial_yaml: str = DEFAULT_YAML,
        secret: str | None = STANDIN_SECRET,
        allow_remote: bool = False,
        env_password: str | None = None,
    ) -> Any:
        if spec is None:
            server = standin_factory(
                initial_yaml=initial_yaml,
                secret=secret,
                allow_remote=allow_remote,
                env_password=env_password,
            )
            server.kind = "standin"
            server.drops = frozenset()
            return server
        folder = tmp_path / f"real-{spec.id}-{next(counter)}"
        folder.mkdir(parents=True)
        assert binary is not None
        real = RealCLIProxyAPI(
            binary,
            folder / "config.yaml",
            initial_yaml=initial_yaml,
            secret=secret,
            allow_remote=allow_remote,
            env_password=env_password,
            version=spec.announced_version,
        )
        started.append(real)
        real.start()
        real.kind = spec.id  # type: ignore[attr-defined]
        real.spec = spec  # type: ignore[attr-defined]
        real.drops = KNOWN_DROPS.get(spec.major, frozenset())  # type: ignore[attr-defined]
        return real

    yield make
    for real in started:
        real.stop()


@pytest.fixture
def cpa(cpa_factory: Any) -> Any:
    """One started CLIProxyAPI (stand-in or real) with the default config."""
    return cpa_factory()


@pytest.fixture
def cpa_configured(cpa: Any, host: Any) -> Any:
    """``cpa``, with the host's default target pointing at it with the right key."""
    from tests.conftest import MGMT_KEY  # imported late: this plugin loads before conftest

    reply = host.call("settings.set", {"management_url": cpa.url, "management_key": MGMT_KEY})
    assert reply["ok"], reply
    return cpa
