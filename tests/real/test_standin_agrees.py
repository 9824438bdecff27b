"""The stand-in answers as the real v7 server does: the same requests, side by side, the same answers.

The stand-in models v7.2.140 (it stays for fault injection), so each scenario below is sent to a
fresh stand-in and to a fresh real v7 server built from the same config, and the status codes and
JSON bodies must match (``auth-index``, which the real server computes asynchronously, is left
out). Where they differ on purpose, the difference is named in ``KNOWN_DIFFERENCES`` and in
docs/cliproxyapi-compat.md.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.real.build import ServerSpec
from tests.real.plugin import SPECS, real_binary, without_runtime
from tests.real.server import RealCLIProxyAPI
from tests.standin.plugin import STANDIN_SECRET

V7: ServerSpec | None = next((s for s in SPECS if s.major == "v7"), None)
AUTH = {"Authorization": f"Bearer {STANDIN_SECRET}"}

CONFIG = """\
openai-compatibility:
  - name: Relay
    base-url: https://relay.example.invalid/v1
    prefix: team
    api-key-entries:
      - api-key: sk-agree-1111111111
        weight: 3
    models:
      - name: gpt-4o
        alias: 4o
claude-api-key:
  - api-key: sk-agree-claude-2222222
    base-url: https://claude.example.invalid
gemini-api-key:
  - api-key: AIza-agree-3333333333
codex-api-key:
  - api-key: sk-agree-codex-4444444
    base-url: https://codex.example.invalid/v1
"""

M = "/v0/management"
# (name, [(method, path, json body or None, headers)]): the last answer of each is compared, and the
# lists read after it.
SCENARIOS: list[tuple[str, list[tuple[str, str, Any, dict[str, str] | None]]]] = [
    (
        "get every list",
        [
            ("GET", f"{M}/{name}", None, AUTH)
            for name in (
                "openai-compatibility",
                "claude-api-key",
                "gemini-api-key",
                "codex-api-key",
            )
        ],
    ),
    ("missing key", [("GET", f"{M}/config", None, {})]),
    ("wrong key", [("GET", f"{M}/config", None, {"Authorization": "Bearer wrong"})]),
    (
        "x-management-key header",
        [("GET", f"{M}/openai-compatibility", None, {"X-Management-Key": STANDIN_SECRET})],
    ),
    (
        "put a bare array",
        [
            (
                "PUT",
                f"{M}/openai-compatibility",
                [
                    {
                        "name": "N",
                        "base-url": "https://n.example.invalid/v1",
                        "api-key-entries": [{"api-key": "sk-n-0123456789"}],
                    }
                ],
                AUTH,
            )
        ],
    ),
    (
        "put items",
        [("PUT", f"{M}/claude-api-key", {"items": [{"api-key": "sk-i-0123456789"}]}, AUTH)],
    ),
    ("put empty items", [("PUT", f"{M}/claude-api-key", {"items": []}, AUTH)]),
    ("put an empty array", [("PUT", f"{M}/codex-api-key", [], AUTH)]),
    (
        "put a bad weight",
        [("PUT", f"{M}/claude-api-key", [{"api-key": "sk-w", "weight": 1000001}], AUTH)],
    ),
    (
        "patch by name",
        [
            (
                "PATCH",
                f"{M}/openai-compatibility",
                {"name": "Relay", "value": {"disabled": True, "prefix": "p2"}},
                AUTH,
            )
        ],
    ),
    (
        "patch priority (ignored before v7.3.13)",
        [("PATCH", f"{M}/openai-compatibility", {"name": "Relay", "value": {"priority": 9}}, AUTH)],
    ),
    (
        "patch an unknown name",
        [("PATCH", f"{M}/openai-compatibility", {"name": "Nope", "value": {"prefix": "x"}}, AUTH)],
    ),
    (
        "patch claude by match",
        [
            (
                "PATCH",
                f"{M}/claude-api-key",
                {"match": "sk-agree-claude-2222222", "value": {"prefix": "c"}},
                AUTH,
            )
        ],
    ),
    ("delete by name", [("DELETE", f"{M}/openai-compatibility?name=Relay", None, AUTH)]),
    ("delete an unknown name", [("DELETE", f"{M}/openai-compatibility?name=Nope", None, AUTH)]),
    (
        "delete claude by api-key",
        [("DELETE", f"{M}/claude-api-key?api-key=sk-agree-claude-2222222", None, AUTH)],
    ),
    ("delete gemini, no match", [("DELETE", f"{M}/gemini-api-key?api-key=nope", None, AUTH)]),
    ("trailing slash", [("GET", f"{M}/openai-compatibility/", None, AUTH)]),
]

#: Where the stand-in answers differently on purpose (none today).
KNOWN_DIFFERENCES: dict[str, str] = {}


def _answer(
    base: str, method: str, path: str, body: Any, headers: dict[str, str] | None
) -> tuple[int, Any]:
    response = httpx.request(
        method, base + path, json=body, headers=headers or {}, follow_redirects=False
    )
    try:
        parsed: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        parsed = response.text
    return response.status_code, without_runtime(parsed)


def _lists(base: str) -> dict[str, Any]:
    out = {}
    for name in ("openai-compatibility", "claude-api-key", "gemini-api-key", "codex-api-key"):
        out[name] = _answer(base, "GET", f"{M}/{name}", None, AUTH)
    return out


def _settled_lists(base: str) -> dict[str, Any]:
    """The lists once the real server's asynchronous reload has run (two equal reads in a row)."""
    previous = _lists(base)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        current = _lists(base)
        if current == previous:
            return current
        previous = current
    return previous


@pytest.mark.skipif(V7 is None, reason="no v7 server pinned")
@pytest.mark.parametrize("name, steps", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_standin_answers_like_the_real_v7_server(name, steps, standin_factory, tmp_path):
    assert V7 is not None
    binary = real_binary(V7)
    real = RealCLIProxyAPI(
        binary, tmp_path / "real" / "config.yaml", initial_yaml=CONFIG, secret=STANDIN_SECRET
    )
    (tmp_path / "real").mkdir()
    real.start()
    try:
        standin = standin_factory(initial_yaml=CONFIG)
        answers = {}
        for label, base in (("standin", standin.url), ("real", real.direct_url)):
            for method, path, body, headers in steps:
                last = _answer(base, method, path, body, headers)
            answers[label] = (last, _settled_lists(base))
        if name in KNOWN_DIFFERENCES:
            pytest.skip(KNOWN_DIFFERENCES[name])
        assert answers["standin"][0] == answers["real"][0], "the answer differs"
        assert answers["standin"][1] == answers["real"][1], "the lists afterwards differ"
    finally:
        real.stop()
