"""pytest fixtures for the stand-ins (register with ``-p tests.standin.plugin``).

* ``standin``: a started :class:`StandinCLIProxyAPI` on a temp config holding
  ``openai-compatibility: []`` plus unrelated keys; secret :data:`STANDIN_SECRET`.
* ``standin_factory(**kwargs, initial_yaml=...)``: more of them; kwargs go to the constructor.
* ``upstream``: a started :class:`StandinUpstream` serving :data:`UPSTREAM_MODELS` for :data:`UPSTREAM_KEY`.
* ``upstream_factory(**kwargs)``: more of them.
* ``relay_factory(family, **kwargs)``: started :class:`StandinRelay` sites (New API, One API, Veloera).

Everything is stopped at teardown.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.standin.cliproxyapi import StandinCLIProxyAPI
from tests.standin.relay import StandinRelay
from tests.standin.upstream import StandinUpstream

STANDIN_SECRET = "test-mgmt-key-0123456789"
UPSTREAM_KEY = "sk-upstream-test-0123456789abcdef"
UPSTREAM_MODELS = ("gpt-4o-mini", "gpt-4.1", "deepseek-chat", "claude-3-5-sonnet")
DEFAULT_YAML = """\
# CLIProxyAPI test config (stand-in)
host: ""
port: 8317
auth-dir: "~/.cli-proxy-api"
debug: false
request-retry: 3
routing:
  strategy: round-robin
openai-compatibility: []
"""


class StandinFactory(Protocol):
    """``standin_factory(initial_yaml=..., secret=..., ...) -> StandinCLIProxyAPI`` (started)."""

    def __call__(
        self, *, initial_yaml: str = DEFAULT_YAML, **kwargs: Any
    ) -> StandinCLIProxyAPI: ...


class UpstreamFactory(Protocol):
    """``upstream_factory(models=..., api_key=..., paths=..., ...) -> StandinUpstream`` (started)."""

    def __call__(self, **kwargs: Any) -> StandinUpstream: ...


@pytest.fixture
def standin_factory(tmp_path: Path) -> Iterator[StandinFactory]:
    """Create started stand-ins, each on its own config file unless ``config_path`` is given."""
    started: list[StandinCLIProxyAPI] = []
    counter = itertools.count(1)

    def make(*, initial_yaml: str = DEFAULT_YAML, **kwargs: Any) -> StandinCLIProxyAPI:
        kwargs.setdefault("secret", STANDIN_SECRET)
        path = Path(
            kwargs.pop("config_path", tmp_path / f"cliproxyapi-{next(counter)}" / "config.yaml")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(initial_yaml, encoding="utf-8")
        standin = StandinCLIProxyAPI(path, **kwargs).start()
        started.append(standin)
        return standin

    yield make
    for standin in started:
        standin.stop()


@pytest.fixture
def standin(standin_factory: StandinFactory) -> StandinCLIProxyAPI:
    """One started stand-in with the default config and secret."""
    return standin_factory()


@pytest.fixture
def upstream_factory() -> Iterator[UpstreamFactory]:
    """Create started upstream stand-ins (defaults: the four test models and key)."""
    started: list[StandinUpstream] = []

    def make(**kwargs: Any) -> StandinUpstream:
        kwargs.setdefault("models", list(UPSTREAM_MODELS))
        kwargs.setdefault("api_key", UPSTREAM_KEY)
        upstream = StandinUpstream(**kwargs).start()
        started.append(upstream)
        return upstream

    yield make
    for upstream in started:
        upstream.stop()


@pytest.fixture
def upstream(upstream_factory: UpstreamFactory) -> StandinUpstream:
    """One started upstream serving ``/v1/models``."""
    return upstream_factory()


@pytest.fixture
def relay_factory() -> Iterator[Any]:
    """``relay_factory(family, **kwargs) -> StandinRelay`` (started; stopped at teardown)."""
    started: list[StandinRelay] = []

    def make(family: str = "new-api", **kwargs: Any) -> StandinRelay:
        relay = StandinRelay(family, **kwargs).start()
        started.append(relay)
        return relay

    yield make
    for relay in started:
        relay.stop()
