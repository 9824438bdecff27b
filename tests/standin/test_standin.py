"""Contract tests of the CLIProxyAPI and upstream stand-ins, over real HTTP on 127.0.0.1.

Each test cites the section of the CLIProxyAPI Management API reference notes it pins.
"""

# ruff: noqa: F811 - test parameters named like the imported fixtures, by design
from __future__ import annotations

import atexit
import functools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.standin import cliproxyapi
from tests.standin.cliproxyapi import StandinCLIProxyAPI, go_duration
from tests.standin.plugin import (  # noqa: F401 - fixtures, also registered by -p tests.standin.plugin
    STANDIN_SECRET,
    UPSTREAM_KEY,
    UPSTREAM_MODELS,
    standin,
    standin_factory,
    upstream,
    upstream_factory,
)
from tests.standin.upstream import StandinUpstream

try:
    import httpx
except ImportError:  # pragma: no cover - fall back to the stdlib client
    httpx = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
OPENAI = "openai-compatibility"
AUTH = {"Authorization": f"Bearer {STANDIN_SECRET}"}
REMOTE = {"X-Forwarded-For": "203.0.113.9"}


# ---------------------------------------------------------------------------------------------
# A tiny client: httpx when installed, else http.client; never follows redirects
# ---------------------------------------------------------------------------------------------


class Dropped(Exception):
    """The server closed the connection without answering."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        return str(self.json()["error"])


@functools.cache
def _httpx_client() -> httpx.Client:
    """One shared client (building one per call costs an SSL context); no pooling, no proxies from env."""
    client = httpx.Client(
        follow_redirects=False, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)
    )
    atexit.register(client.close)
    return client


def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    raw: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request; ``body`` is sent as JSON, ``raw`` as-is."""
    content = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if httpx is not None:
        try:
            answer = _httpx_client().request(
                method, url, headers=headers, content=content, timeout=timeout
            )
        except httpx.RemoteProtocolError as exc:
            raise Dropped() from exc
        return Reply(
            answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content
        )
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=content, headers=headers or {})
        answer = connection.getresponse()
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    except (http.client.RemoteDisconnected, ConnectionResetError) as exc:
        raise Dropped() from exc
    finally:
        connection.close()


def mgmt(
    cpa: StandinCLIProxyAPI,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Reply:
    """A management call, authenticated with the fixture secret unless ``headers`` is given."""
    return call(
        method, cpa.management_url + path, headers=AUTH if headers is None else headers, **kwargs
    )


def items(cpa: StandinCLIProxyAPI, name: str = OPENAI) -> Any:
    reply = mgmt(cpa, "GET", "/" + name)
    assert reply.status == 200, reply.body
    return reply.json()[name]


def provider(name: str, base: str, *keys: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "base-url": base,
        "api-key-entries": [{"api-key": k} for k in keys],
        **extra,
    }


# ---------------------------------------------------------------------------------------------
# Availability, health, routing (ref sections 1.1, 1.3, 8a.6)
# ---------------------------------------------------------------------------------------------


def test_healthz(standin: StandinCLIProxyAPI) -> None:
    reply = call("GET", standin.url + "/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})
    assert call("HEAD", standin.url + "/healthz").body == b""


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/config"), ("PUT", "/openai-compatibility"), ("GET", "/nope"), ("GET", "/config/")],
)
def test_management_off_is_404_with_empty_body(
    standin_factory: Any, method: str, path: str
) -> None:
    cpa = standin_factory(secret=None)
    reply = mgmt(cpa, method, path, body=[])
    assert (reply.status, reply.body) == (404, b"")
    assert "x-cpa-version" not in reply.headers


def test_options_is_204_everywhere(standin_factory: Any) -> None:
    for cpa in (standin_factory(), standin_factory(secret=None)):
        reply = call("OPTIONS", cpa.management_url + "/openai-compatibility")
        assert reply.status == 204
        assert reply.headers["access-control-allow-origin"] == "*"


def test_trailing_slash_redirects_before_auth(standin: StandinCLIProxyAPI) -> None:
    get = mgmt(standin, "GET", "/config/?x=1", headers={})
    assert (get.status, get.headers["location"]) == (301, "/v0/management/config?x=1")
    put = mgmt(standin, "PUT", "/openai-compatibility/", headers={}, body=[])
    assert (put.status, put.headers["location"]) == (307, "/v0/management/openai-compatibility")
    assert standin.memory()[OPENAI] == []


def test_unknown_path_or_method_is_404_empty_after_auth(standin: StandinCLIProxyAPI) -> None:
    assert mgmt(standin, "GET", "/nope", headers={}).status == 401
    for method, path in (("GET", "/nope"), ("POST", "/config"), ("GET", "")):
        reply = mgmt(standin, method, path)
        assert (reply.status, reply.body) == (404, b"")
        assert reply.headers["x-cpa-version"] == "v7.2.140"


def test_get_config_hides_remote_management(standin_factory: Any) -> None:
    cpa = standin_factory(
        initial_yaml="port: 8317\nremote-management:\n  secret-key: hashed\ndebug: true\n"
        "openai-compatibility: []\n"
    )
    reply = mgmt(cpa, "GET", "/config")
    assert reply.status == 200
    assert reply.json() == {"debug": True, "openai-compatibility": []}
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


# ---------------------------------------------------------------------------------------------
# Authentication (ref sections 2, 8a.1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers,status,error",
    [
        ({}, 401, "missing management key"),
        ({"Authorization": "Bearer wrong"}, 401, "invalid management key"),
        ({"Authorization": f"bEaReR {STANDIN_SECRET}"}, 200, None),
        ({"Authorization": STANDIN_SECRET}, 200, None),
        ({"X-Management-Key": STANDIN_SECRET}, 200, None),
        (
            {"Authorization": "Basic Zm9vOmJhcg==", "X-Management-Key": STANDIN_SECRET},
            401,
            "invalid management key",
        ),
        ({"Authorization": f"Bearer  {STANDIN_SECRET}"}, 401, "invalid management key"),
    ],
)
def test_key_parsing(
    standin: StandinCLIProxyAPI, headers: dict[str, str], status: int, error: str | None
) -> None:
    reply = mgmt(standin, "GET", "/config", headers=headers)
    assert reply.status == status
    assert reply.headers["x-cpa-version"] == "v7.2.140"
    assert {"x-cpa-commit", "x-cpa-build-date"} <= reply.headers.keys()
    if error:
        assert reply.json() == {"error": error}


def test_sixth_request_is_banned_even_with_the_right_key(standin: StandinCLIProxyAPI) -> None:
    for _ in range(5):
        assert (
            mgmt(standin, "GET", "/config", headers={"Authorization": "Bearer nope"}).status == 401
        )
    reply = mgmt(standin, "GET", "/config")
    assert reply.status == 403
    assert re.fullmatch(
        r"IP banned due to too many failed attempts\. Try again in (30m0s|29m5\ds)", reply.error
    )
    assert reply.headers["x-cpa-version"] == "v7.2.140"
    standin.restart()
    assert mgmt(standin, "GET", "/config").status == 200


def test_success_resets_the_failure_counter(standin: StandinCLIProxyAPI) -> None:
    for _ in range(2):
        for _ in range(4):
            assert mgmt(standin, "GET", "/config", headers={}).status == 401
        assert mgmt(standin, "GET", "/config").status == 200


def test_ban_expires(standin: StandinCLIProxyAPI) -> None:
    standin.bans.ban_seconds = 0.2
    for _ in range(5):
        mgmt(standin, "GET", "/config", headers={})
    assert mgmt(standin, "GET", "/config").status == 403
    time.sleep(0.25)
    assert mgmt(standin, "GET", "/config").status == 200


def test_remote_clients_are_refused_and_not_counted(standin: StandinCLIProxyAPI) -> None:
    for headers in (
        REMOTE,
        {"X-Real-IP": "198.51.100.4"},
        {"X-Forwarded-For": "203.0.113.9, 127.0.0.1"},
    ):
        for _ in range(3):
            reply = mgmt(standin, "GET", "/config", headers={**AUTH, **headers})
            assert (reply.status, reply.error) == (403, "remote management disabled")
    assert (
        mgmt(standin, "GET", "/config", headers={**AUTH, "X-Forwarded-For": "127.0.0.1"}).status
        == 200
    )
    assert (
        mgmt(standin, "GET", "/config", headers={**AUTH, "X-Forwarded-For": "not-an-ip"}).status
        == 200
    )


def test_ban_check_runs_before_the_remote_check(standin: StandinCLIProxyAPI) -> None:
    for _ in range(5):
        standin.bans.fail("203.0.113.9")
    reply = mgmt(standin, "GET", "/config", headers={**AUTH, **REMOTE})
    assert (reply.status, reply.error.startswith("IP banned")) == (403, True)


def test_allow_remote_and_env_password(standin_factory: Any) -> None:
    remote_ok = standin_factory(allow_remote=True)
    assert mgmt(remote_ok, "GET", "/config", headers={**AUTH, **REMOTE}).status == 200
    env_only = standin_factory(secret=None, env_password=" env-pass ")
    assert (
        mgmt(
            env_only, "GET", "/config", headers={"Authorization": "Bearer env-pass", **REMOTE}
        ).status
        == 200
    )
    assert mgmt(env_only, "GET", "/config", headers=AUTH).status == 401


def test_go_duration_format() -> None:
    assert [go_duration(s) for s in (1799.6, 1798.2, 3600, 59.4, 0)] == [
        "30m0s",
        "29m58s",
        "1h0m0s",
        "59s",
        "0s",
    ]


# ---------------------------------------------------------------------------------------------
# openai-compatibility (ref section 3)
# ---------------------------------------------------------------------------------------------


def test_openai_put_normalises_filters_and_persists(standin: StandinCLIProxyAPI) -> None:
    body = [
        {
            "name": " relay ",
            "base-url": " https://relay.invalid/v1 ",
            "prefix": "/team/",
            "unknown": 1,
            "auth-index": "ffff",
            "headers": {" X-A ": " v ", "X-Empty": " "},
            "api-key-entries": [
                {
                    "api-key": " sk-1 ",
                    "weight": 5,
                    "proxy-url": "socks5://p:1080",
                    "auth-index": "x",
                },
                {"API-KEY": "sk-2"},
            ],
        },
        {
            "name": "dropped",
            "base-url": "   ",
            "api-key-entries": [{"api-key": "k", "weight": 9999999}],
        },
        {
            "name": "slashy",
            "base-url": "https://b.invalid/v1",
            "prefix": "a/b",
            "disabled": True,
            "models": [{"name": "m1", "alias": ""}],
        },
    ]
    assert mgmt(standin, "PUT", "/openai-compatibility", body=body).json() == {"status": "ok"}
    got = items(standin)
    assert [p["name"] for p in got] == ["relay", "slashy"]
    relay, slashy = got
    assert relay["base-url"] == "https://relay.invalid/v1" and relay["prefix"] == "team"
    assert relay["headers"] == {"X-A": "v"} and relay["disabled"] is False and "models" not in relay
    assert [e["api-key"] for e in relay["api-key-entries"]] == ["sk-1", "sk-2"]
    assert all(re.fullmatch(r"[0-9a-f]{16}", e["auth-index"]) for e in relay["api-key-entries"])
    assert "prefix" not in slashy and "auth-index" not in slashy
    assert slashy["models"] == [{"name": "m1", "alias": ""}]
    saved = standin.config()
    assert saved["openai-compatibility"][0]["api-key-entries"][0] == {
        "api-key": "sk-1",
        "weight": 5,
        "proxy-url": "socks5://p:1080",
    }
    assert "auth-index" not in standin.yaml_text()
    assert saved["routing"] == {"strategy": "round-robin"} and saved["port"] == 8317


@pytest.mark.parametrize(
    "raw",
    [
        b'{"items":[]}',
        b"{}",
        b"not json",
        b"",
        b'"x"',
        b'[{"base-url":"u","api-key-entries":[{"weight":"5"}]}]',
        b'[{"base-url":"u","api-key-entries":[{"weight":1.5}]}]',
        b'[{"base-url":"u","disabled":"true"}]',
        b"[] trailing",
    ],
)
def test_openai_put_invalid_body(standin: StandinCLIProxyAPI, raw: bytes) -> None:
    mgmt(
        standin,
        "PUT",
        "/openai-compatibility",
        body=[provider("keep", "https://k.invalid/v1", "sk")],
    )
    reply = mgmt(standin, "PUT", "/openai-compatibility", raw=raw)
    assert (reply.status, reply.json()) == (400, {"error": "invalid body"})
    assert [p["name"] for p in items(standin)] == ["keep"]


def test_openai_put_items_wrapper_and_clearing(standin: StandinCLIProxyAPI) -> None:
    assert (
        mgmt(
            standin, "PUT", "/openai-compatibility", body={"items": [provider("a", "https://a/v1")]}
        ).status
        == 200
    )
    assert [p["name"] for p in items(standin)] == ["a"]
    assert items(standin)[0]["auth-index"]
    for clear in (b"[]", b"null"):
        mgmt(
            standin, "PUT", "/openai-compatibility", body={"items": [provider("a", "https://a/v1")]}
        )
        assert mgmt(standin, "PUT", "/openai-compatibility", raw=clear).status == 200
        assert items(standin) == [] and standin.config()[OPENAI] == []


def test_openai_put_weight_error_changes_nothing(standin: StandinCLIProxyAPI) -> None:
    body = [
        provider("a", "https://a/v1", "k"),
        {**provider("b", "https://b/v1"), "api-key-entries": [{"api-key": "k", "weight": 1000001}]},
    ]
    reply = mgmt(standin, "PUT", "/openai-compatibility", body=body)
    assert (reply.status, reply.error) == (
        400,
        "openai-compatibility[1].api-key-entries[0].weight: weight must not exceed 1000000",
    )
    assert items(standin) == []
    body[1]["api-key-entries"][0]["weight"] = 1000000
    assert mgmt(standin, "PUT", "/openai-compatibility", body=body).status == 200


def test_openai_patch(standin: StandinCLIProxyAPI) -> None:
    mgmt(
        standin,
        "PUT",
        "/openai-compatibility",
        body=[provider("a", "https://a/v1", "k1"), provider("b", "https://b/v1", "k2", priority=3)],
    )
    new_keys = [{"api-key": "k2"}, {"api-key": "k3", "weight": 2}]
    patch = {
        "name": "b",
        "value": {"api-key-entries": new_keys, "priority": 99, "request-retry": None},
    }
    assert mgmt(standin, "PATCH", "/openai-compatibility", body=patch).status == 200
    b = items(standin)[1]
    assert [e["api-key"] for e in b["api-key-entries"]] == ["k2", "k3"] and b["priority"] == 3
    assert (
        mgmt(
            standin,
            "PATCH",
            "/openai-compatibility",
            body={"index": 0, "value": {"disabled": True}},
        ).status
        == 200
    )
    assert items(standin)[0]["disabled"] is True
    cases = [
        ({"name": "zzz", "value": {}}, 404, "item not found"),
        ({"index": 7, "value": {}}, 404, "item not found"),
        ({"name": "a"}, 400, "invalid body"),
        ({"name": "a", "value": None}, 400, "invalid body"),
        ({"name": "a", "value": {"disabled": "yes"}}, 400, "invalid body"),
        ({"index": "0", "value": {}}, 400, "invalid body"),
        (
            {"name": "a", "value": {"disable-cooling": "yes"}},
            400,
            "disable-cooling must be a boolean or null",
        ),
        (
            {
                "name": "a",
                "value": {
                    "api-key-entries": [{"api-key": "x"}, {"api-key": "y", "weight": 1000001}]
                },
            },
            400,
            "api-key-entries[1].weight: weight must not exceed 1000000",
        ),
    ]
    for body, status, error in cases:
        reply = mgmt(standin, "PATCH", "/openai-compatibility", body=body)
        assert (reply.status, reply.error) == (status, error), body
    assert (
        mgmt(
            standin,
            "PATCH",
            "/openai-compatibility",
            body={"name": "a", "value": {"base-url": " "}},
        ).status
        == 200
    )
    assert [p["name"] for p in items(standin)] == ["b"]


def test_openai_delete(standin: StandinCLIProxyAPI) -> None:
    body = [
        provider("a", "https://a/v1"),
        provider("b", "https://b/v1"),
        provider("a", "https://c/v1"),
        provider("A", "https://d/v1"),
    ]
    mgmt(standin, "PUT", "/openai-compatibility", body=body)
    assert mgmt(standin, "DELETE", "/openai-compatibility?name=a").status == 200
    assert [p["name"] for p in items(standin)] == ["b", "A"]
    assert mgmt(standin, "DELETE", "/openai-compatibility?name=nothing").json() == {"status": "ok"}
    assert mgmt(standin, "DELETE", "/openai-compatibility?index=1x").status == 200
    assert [p["name"] for p in items(standin)] == ["b"]
    for query in ("?index=5", "", "?name="):
        reply = mgmt(standin, "DELETE", "/openai-compatibility" + query)
        assert (reply.status, reply.error) == (400, "missing name or index")


# ---------------------------------------------------------------------------------------------
# The other lists (ref section 4, 8a.2-4)
# ---------------------------------------------------------------------------------------------


def test_claude_list(standin: StandinCLIProxyAPI) -> None:
    body = [
        {"api-key": " ck ", "base-url": "https://one", "weight": 3},
        {
            "api-key": "ck",
            "base-url": "https://two",
            "models": [{"name": "", "alias": ""}, {"name": "m"}],
        },
        {"api-key": ""},
    ]
    assert mgmt(standin, "PUT", "/claude-api-key", body=body).status == 200
    got = items(standin, "claude-api-key")
    assert [(e["api-key"], e["base-url"], e["proxy-url"]) for e in got] == [
        ("ck", "https://one", ""),
        ("ck", "https://two", ""),
        ("", "", ""),
    ]
    assert got[0]["models"] == [] and got[1]["models"] == [{"name": "m", "alias": ""}]
    assert all("auth-index" in e for e in got)
    reply = mgmt(
        standin,
        "PUT",
        "/claude-api-key",
        body=[{"api-key": "x"}, {"api-key": "y", "weight": 1000001}],
    )
    assert (reply.status, reply.error) == (
        400,
        "claude-api-key[1].weight: weight must not exceed 1000000",
    )
    for weight, status, error in (
        ("x", 400, "weight must be an integer"),
        (2.0, 400, "weight must be an integer"),
        (2000000, 400, "weight must not exceed 1000000"),
        (7, 200, None),
    ):
        reply = mgmt(
            standin, "PATCH", "/claude-api-key", body={"index": 1, "value": {"weight": weight}}
        )
        assert reply.status == status and (error is None or reply.error == error)
    assert items(standin, "claude-api-key")[1]["weight"] == 7
    assert (
        mgmt(
            standin, "PATCH", "/claude-api-key", body={"index": 1, "value": {"weight": None}}
        ).status
        == 200
    )
    assert "weight" not in items(standin, "claude-api-key")[1]
    assert (
        mgmt(
            standin,
            "PATCH",
            "/claude-api-key",
            body={"match": "", "value": {"proxy-url": "direct"}},
        ).status
        == 200
    )
    assert items(standin, "claude-api-key")[2]["proxy-url"] == "direct"
    reply = mgmt(standin, "DELETE", "/claude-api-key?api-key=ck")
    assert (reply.status, reply.error) == (
        400,
        "multiple items match api-key; base-url is required",
    )
    assert mgmt(standin, "DELETE", "/claude-api-key?api-key=ck&base-url=https://two").status == 200
    assert mgmt(standin, "DELETE", "/claude-api-key?api-key=none").status == 200
    reply = mgmt(standin, "DELETE", "/claude-api-key")
    assert (reply.status, reply.error) == (400, "missing api-key or index")
    assert [e["api-key"] for e in items(standin, "claude-api-key")] == ["ck", ""]


def test_gemini_list(standin: StandinCLIProxyAPI) -> None:
    body = [
        {"api-key": "g", "base-url": "https://a"},
        {"api-key": "g", "base-url": "https://a"},
        {"api-key": "g", "base-url": "https://b"},
        {"api-key": " ", "base-url": ""},
        {"api-key": "h", "excluded-models": [" GPT-X ", "gpt-x", ""]},
    ]
    assert mgmt(standin, "PUT", "/gemini-api-key", body=body).status == 200
    got = items(standin, "gemini-api-key")
    assert [(e["api-key"], e.get("base-url")) for e in got] == [
        ("g", "https://a"),
        ("g", "https://b"),
        ("h", None),
    ]
    assert got[2]["excluded-models"] == ["gpt-x"]
    reply = mgmt(standin, "PATCH", "/gemini-api-key", body={"match": "g", "value": {"prefix": "p"}})
    assert (reply.status, reply.error) == (400, "multiple items match; index is required")
    assert (
        mgmt(
            standin,
            "PATCH",
            "/gemini-api-key?base-url=https://b",
            body={"match": "g", "value": {"prefix": "p"}},
        ).status
        == 200
    )
    assert items(standin, "gemini-api-key")[1]["prefix"] == "p"
    reply = mgmt(standin, "PATCH", "/gemini-api-key", body={"match": "", "value": {}})
    assert (reply.status, reply.error) == (404, "item not found")
    reply = mgmt(standin, "DELETE", "/gemini-api-key?api-key=nope")
    assert (reply.status, reply.error) == (404, "item not found")
    reply = mgmt(standin, "DELETE", "/gemini-api-key?api-key=g")
    assert (reply.status, reply.error) == (
        400,
        "multiple items match api-key; base-url is required",
    )
    assert mgmt(standin, "DELETE", "/gemini-api-key?api-key=g&base-url=https://a").status == 200
    assert (
        mgmt(
            standin, "PATCH", "/gemini-api-key", body={"match": "h", "value": {"api-key": ""}}
        ).status
        == 200
    )
    assert [e["api-key"] for e in items(standin, "gemini-api-key")] == ["g"]


def test_codex_and_xai_lists(standin: StandinCLIProxyAPI) -> None:
    body = [
        {"api-key": "c1", "base-url": "https://x/v1", "alpha-search": True},
        {"api-key": "c2", "base-url": " "},
    ]
    for name in ("codex-api-key", "xai-api-key"):
        assert mgmt(standin, "PUT", "/" + name, body=body).status == 200
        got = items(standin, name)
        assert len(got) == 1 and got[0]["models"] == [] and got[0]["proxy-url"] == ""
        assert got[0].get("alpha-search", False) is (name == "codex-api-key")
        assert (
            mgmt(
                standin, "PATCH", "/" + name, body={"match": "c1", "value": {"base-url": ""}}
            ).status
            == 200
        )
        assert items(standin, name) == []


def test_vertex_and_interactions_lists(standin: StandinCLIProxyAPI) -> None:
    reply = mgmt(standin, "PUT", "/vertex-api-key", body=[{"api-key": "v"}, {"api-key": "  "}])
    assert (reply.status, reply.error) == (400, "vertex-api-key[1].api-key is required")
    body = [
        {"api-key": "v", "base-url": "u", "models": [{"name": "n"}, {"name": "n", "alias": "a"}]},
        {"api-key": "v", "base-url": "u"},
    ]
    assert mgmt(standin, "PUT", "/vertex-api-key", body=body).status == 200
    assert items(standin, "vertex-api-key")[0]["models"] == [{"name": "n", "alias": "a"}]
    assert len(items(standin, "vertex-api-key")) == 1
    assert (
        mgmt(standin, "PUT", "/interactions-api-key", body={"items": [{"api-key": "i"}]}).status
        == 200
    )
    assert [e["api-key"] for e in items(standin, "interactions-api-key")] == ["i"]


def test_api_keys_route(standin: StandinCLIProxyAPI) -> None:
    assert mgmt(standin, "GET", "/api-keys").json() == {"api-keys": None}
    assert mgmt(standin, "PUT", "/api-keys", body=["a", " b "]).status == 200
    assert mgmt(standin, "PATCH", "/api-keys", body={"old": "zz", "new": "c"}).status == 200
    assert mgmt(standin, "DELETE", "/api-keys?value=b").status == 200
    assert mgmt(standin, "GET", "/api-keys").json() == {"api-keys": ["a", "c"]}
    assert standin.config()["api-keys"] == ["a", "c"]


# ---------------------------------------------------------------------------------------------
# Persistence and restart (ref section 5)
# ---------------------------------------------------------------------------------------------

EXISTING_YAML = """\
# comments may be lost
port: 8317
debug: false
openai-compatibility:
  - name: existing
    base-url: https://existing.invalid/v1
    api-key-entries:
      - api-key: sk-old
        proxy-url: socks5://proxy:1080
        weight: 4
    models:
      - name: gpt-4o-mini
        alias: mini
claude-api-key:
  - api-key: sk-claude
    base-url: https://claude.invalid
custom-block:
  nested: [1, 2, 3]
"""


def test_existing_yaml_is_loaded_and_unrelated_keys_survive_writes(standin_factory: Any) -> None:
    cpa = standin_factory(initial_yaml=EXISTING_YAML)
    existing = items(cpa)[0]
    assert existing["api-key-entries"][0]["proxy-url"] == "socks5://proxy:1080"
    assert existing["models"] == [{"name": "gpt-4o-mini", "alias": "mini"}]
    value = {"api-key-entries": existing["api-key-entries"] + [{"api-key": "sk-new", "weight": 2}]}
    assert (
        mgmt(
            cpa, "PATCH", "/openai-compatibility", body={"name": "existing", "value": value}
        ).status
        == 200
    )
    saved = cpa.config()
    assert saved["openai-compatibility"][0]["api-key-entries"] == [
        {"api-key": "sk-old", "weight": 4, "proxy-url": "socks5://proxy:1080"},
        {"api-key": "sk-new", "weight": 2},
    ]
    assert (
        saved["custom-block"] == {"nested": [1, 2, 3]}
        and saved["claude-api-key"][0]["api-key"] == "sk-claude"
    )
    assert cpa.memory()["openai-compatibility"] == saved["openai-compatibility"]


def test_restart_reloads_from_disk(standin: StandinCLIProxyAPI) -> None:
    standin.config_path.write_text(EXISTING_YAML, encoding="utf-8")
    assert items(standin) == []
    standin.restart()
    assert [p["name"] for p in items(standin)] == ["existing"]


def test_last_writer_wins_under_concurrency(standin: StandinCLIProxyAPI) -> None:
    def put(i: int) -> None:
        assert (
            mgmt(
                standin, "PUT", "/openai-compatibility", body=[provider(f"p{i}", f"https://{i}/v1")]
            ).status
            == 200
        )

    threads = [threading.Thread(target=put, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = items(standin)
    assert len(final) == 1 and standin.config()[OPENAI][0]["name"] == final[0]["name"]


def test_request_log(standin: StandinCLIProxyAPI) -> None:
    standin.reset_requests()
    mgmt(standin, "GET", "/openai-compatibility")
    mgmt(standin, "DELETE", "/openai-compatibility?name=x")
    call("GET", standin.url + "/healthz")
    assert standin.requests == [
        ("GET", "/v0/management/openai-compatibility"),
        ("DELETE", "/v0/management/openai-compatibility"),
    ]


def test_keep_alive_connection_reuse(standin: StandinCLIProxyAPI) -> None:
    if httpx is None:
        pytest.skip("httpx not installed")
    with httpx.Client(base_url=standin.management_url, headers=AUTH) as client:
        for _ in range(3):
            assert client.put("/openai-compatibility", content=b"[]").status_code == 200
            assert client.get("/openai-compatibility").json() == {OPENAI: []}


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


def test_fault_save_fails_keeps_memory_changed(standin: StandinCLIProxyAPI) -> None:
    standin.faults.save_fails = True
    reply = mgmt(standin, "PUT", "/openai-compatibility", body=[provider("a", "https://a/v1")])
    assert (reply.status, reply.error) == (500, "failed to save config: disk full")
    assert [p["name"] for p in items(standin)] == ["a"]
    assert standin.memory()[OPENAI][0]["name"] == "a" and standin.config()[OPENAI] == []


def test_fault_drop_after_write(standin: StandinCLIProxyAPI) -> None:
    standin.faults.drop_after_write = True
    with pytest.raises(Dropped):
        mgmt(standin, "PUT", "/openai-compatibility", body=[provider("a", "https://a/v1")])
    assert standin.config()[OPENAI][0]["name"] == "a"
    assert mgmt(standin, "PUT", "/openai-compatibility", body={"items": []}).status == 400


def test_fault_delay(standin: StandinCLIProxyAPI) -> None:
    standin.faults.delay_seconds = 0.3
    started = time.monotonic()
    assert mgmt(standin, "GET", "/config").status == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("mode", ["non_json", "no_list", "wrong_type", "huge", "null"])
def test_fault_get_garbage(standin: StandinCLIProxyAPI, mode: str) -> None:
    standin.faults.get_garbage = mode
    reply = mgmt(standin, "GET", "/openai-compatibility")
    assert reply.status == 200
    if mode == "non_json":
        with pytest.raises(ValueError):
            reply.json()
        return
    document = reply.json()
    expected = {
        "no_list": {"something": "else"},
        "wrong_type": {OPENAI: {"a": 1}},
        "null": {OPENAI: None},
    }
    if mode == "huge":
        assert len(reply.body) >= 8 * 1024 * 1024 and isinstance(document[OPENAI], list)
    else:
        assert document == expected[mode]


def test_fault_fail_next_writes(standin: StandinCLIProxyAPI) -> None:
    standin.faults.fail_next_writes = 2
    for _ in range(2):
        reply = mgmt(standin, "PUT", "/openai-compatibility", body=[provider("a", "https://a/v1")])
        assert (reply.status, reply.error) == (500, "failed to save config: injected")
    assert items(standin) == []
    assert (
        mgmt(standin, "PUT", "/openai-compatibility", body=[provider("a", "https://a/v1")]).status
        == 200
    )


def test_fault_restart_before_next_write(standin: StandinCLIProxyAPI) -> None:
    standin.faults.save_fails = True
    mgmt(standin, "PUT", "/openai-compatibility", body=[provider("lost", "https://lost/v1")])
    standin.faults.save_fails = False
    standin.faults.restart_before_next_write = True
    for _ in range(3):
        standin.bans.fail("127.0.0.1")
    reply = mgmt(standin, "PATCH", "/openai-compatibility", body={"name": "lost", "value": {}})
    assert (reply.status, reply.error) == (404, "item not found")
    assert items(standin) == [] and standin.faults.restart_before_next_write is False
    for _ in range(4):
        mgmt(standin, "GET", "/config", headers={})
    assert mgmt(standin, "GET", "/config").status == 200, (
        "restart must have cleared the failure counter"
    )


def test_fault_mutate_before_next_write(standin: StandinCLIProxyAPI) -> None:
    mgmt(standin, "PUT", "/openai-compatibility", body=[provider("mine", "https://mine/v1", "k")])
    standin.faults.mutate_before_next_write = lambda memory: memory[OPENAI].append(
        provider("outsider", "https://out/v1", "o")
    )
    patch = {"name": "mine", "value": {"prefix": "x"}}
    assert mgmt(standin, "PATCH", "/openai-compatibility", body=patch).status == 200
    assert [(p["name"], p.get("prefix")) for p in items(standin)] == [
        ("mine", "x"),
        ("outsider", None),
    ]
    assert [p["name"] for p in standin.config()[OPENAI]] == ["mine", "outsider"]
    assert standin.faults.mutate_before_next_write is None


def _names(cpa: StandinCLIProxyAPI) -> list[str]:
    return [p["name"] for p in items(cpa)]


#: The reload tests' debounce: CLIProxyAPI's 150 ms, stretched so that what the tests time
#: (a request's answer, three requests in a row) fits inside it on a busy machine too.
SLOW_DEBOUNCE = 0.6


@pytest.fixture
def slow_debounce(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(cliproxyapi, "RELOAD_DEBOUNCE", SLOW_DEBOUNCE)
    return SLOW_DEBOUNCE


def test_fault_reload_race_reverts_a_write_landing_in_the_reload_and_the_next_write_loses_it(
    standin: StandinCLIProxyAPI, slow_debounce: float
) -> None:
    standin.faults.reload_race = True
    standin.faults.reload_seconds = 5.0  # held open until the next write lands
    a, b, c = (provider(n, f"https://{n}/v1") for n in "abc")
    started = time.monotonic()  # before the save (which a busy machine may answer late)
    assert mgmt(standin, "PUT", "/openai-compatibility", body=[a]).status == 200
    assert standin.reload_started.wait(2 + slow_debounce)
    assert time.monotonic() - started >= slow_debounce, "the reload waits for the debounce"
    assert mgmt(standin, "PUT", "/openai-compatibility", body=[a, b]).status == 200
    assert [p["name"] for p in standin.config()[OPENAI]] == ["a", "b"]
    deadline = time.monotonic() + 2
    while _names(standin) != ["a"] and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _names(standin) == ["a"], "reverted in memory"
    time.sleep(
        slow_debounce + 0.15
    )  # b's own reload is skipped: the file's hash is the one the reload took
    assert _names(standin) == ["a"] and standin.reverted_writes == 1
    # a client adding c to what the server shows saves the stale list: b is gone on disk too
    assert mgmt(standin, "PUT", "/openai-compatibility", body=[a, c]).status == 200
    assert [p["name"] for p in standin.config()[OPENAI]] == ["a", "c"]


def test_fault_reload_race_writes_before_or_after_the_reload_are_kept(
    standin: StandinCLIProxyAPI, slow_debounce: float
) -> None:
    standin.faults.reload_race = True
    standin.faults.reload_seconds = 0.02
    body: list[dict[str, Any]] = []
    for name in "abc":  # in quick succession: each save restarts the debounce
        body.append(provider(name, f"https://{name}/v1"))
        last_sent = time.monotonic()
        assert mgmt(standin, "PUT", "/openai-compatibility", body=body).status == 200
    assert standin.reload_started.wait(2 + slow_debounce)
    # a full debounce after the last save, not after the first
    assert standin.reload_started_at >= last_sent + slow_debounce
    time.sleep(0.1)  # the reload is over
    body.append(provider("d", "https://d/v1"))
    assert mgmt(standin, "PUT", "/openai-compatibility", body=body).status == 200
    time.sleep(slow_debounce + 0.15)  # d's reload ran (not skipped) and kept it
    assert _names(standin) == ["a", "b", "c", "d"] and standin.reverted_writes == 0
    assert [p["name"] for p in standin.config()[OPENAI]] == ["a", "b", "c", "d"]


def test_control_routes(standin: StandinCLIProxyAPI) -> None:
    reply = call(
        "POST",
        standin.url + "/__standin/faults",
        body={"fail_next_writes": 1, "get_garbage": "null"},
    )
    assert reply.status == 200 and reply.json()["fail_next_writes"] == 1
    assert mgmt(standin, "PUT", "/openai-compatibility", body=[]).status == 500
    assert items(standin) is None
    assert call("POST", standin.url + "/__standin/faults", body={"bogus": 1}).status == 400
    assert (
        call("POST", standin.url + "/__standin/faults", body={"get_garbage": "nope"}).status == 400
    )
    assert call("DELETE", standin.url + "/__standin/faults").json()["get_garbage"] is None
    standin.config_path.write_text(EXISTING_YAML, encoding="utf-8")
    assert call("POST", standin.url + "/__standin/restart").status == 200
    assert [p["name"] for p in items(standin)] == ["existing"]
    log = call("GET", standin.url + "/__standin/requests").json()
    assert ["GET", "/v0/management/openai-compatibility"] in log
    assert all(path.startswith("/v0/management") for _, path in log)


# ---------------------------------------------------------------------------------------------
# Upstream stand-in
# ---------------------------------------------------------------------------------------------


def test_upstream_models(upstream: StandinUpstream) -> None:
    reply = call(
        "GET", upstream.url + "/v1/models", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"}
    )
    assert reply.status == 200
    document = reply.json()
    assert document["object"] == "list"
    assert [m["id"] for m in document["data"]] == list(UPSTREAM_MODELS)
    assert all(m["object"] == "model" for m in document["data"])
    assert (
        call("GET", upstream.url + "/v1/models", headers={"Authorization": "Bearer nope"}).status
        == 401
    )
    assert call("GET", upstream.url + "/v1/models").status == 401
    assert (
        call(
            "GET", upstream.url + "/models", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"}
        ).status
        == 404
    )
    assert [status for _, _, status in upstream.requests] == [200, 401, 401, 404]


def test_upstream_paths_delay_and_garbage(upstream_factory: Any) -> None:
    auth = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
    glm = upstream_factory(paths=("/api/paas/v4/models",))
    assert call("GET", glm.url + "/api/paas/v4/models", headers=auth).status == 200
    assert call("GET", glm.url + "/v1/models", headers=auth).status == 404
    glm.garbage = True
    reply = call("GET", glm.url + "/api/paas/v4/models", headers=auth)
    assert reply.status == 200 and not reply.body.startswith(b"{")
    slow = upstream_factory(paths=("/models",), delay_seconds=0.2)
    started = time.monotonic()
    assert call("GET", slow.url + "/models", headers=auth).status == 200
    assert time.monotonic() - started >= 0.2


# ---------------------------------------------------------------------------------------------
# CLIs
# ---------------------------------------------------------------------------------------------


def _spawn(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("READY http://127.0.0.1:"), line
    return process, line.split(" ", 1)[1]


def _terminate(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    process.stdout.close()


@pytest.mark.parametrize(
    "entry", [["-m", "tests.standin.cliproxyapi"], ["tests/standin/cliproxyapi.py"]]
)
def test_cliproxyapi_cli(tmp_path: Path, entry: list[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("openai-compatibility: []\n", encoding="utf-8")
    process, url = _spawn(
        [*entry, "--config", str(config), "--secret", "cli-secret", "--version", "v9.9.9"]
    )
    try:
        reply = call(
            "PUT",
            url + "/v0/management/openai-compatibility",
            headers={"X-Management-Key": "cli-secret"},
            body=[provider("cli", "https://cli/v1")],
        )
        assert reply.status == 200 and reply.headers["x-cpa-version"] == "v9.9.9"
        assert call("POST", url + "/__standin/faults", body={"save_fails": True}).status == 200
        assert (
            call(
                "DELETE",
                url + "/v0/management/openai-compatibility?index=0",
                headers={"X-Management-Key": "cli-secret"},
            ).status
            == 500
        )
    finally:
        _terminate(process)
    assert "cli" in config.read_text()


def test_cliproxyapi_cli_no_secret(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n", encoding="utf-8")
    process, url = _spawn(
        ["-m", "tests.standin.cliproxyapi", "--config", str(config), "--no-secret"]
    )
    try:
        reply = call("GET", url + "/v0/management/config")
        assert (reply.status, reply.body) == (404, b"")
    finally:
        _terminate(process)


def test_upstream_cli() -> None:
    process, url = _spawn(
        [
            "-m",
            "tests.standin.upstream",
            "--api-key-env",
            "STANDIN_UP_KEY",
            "--model",
            "m1",
            "--path",
            "/models",
        ],
        env={"STANDIN_UP_KEY": "sk-cli"},
    )
    try:
        reply = call("GET", url + "/models", headers={"Authorization": "Bearer sk-cli"})
        assert [m["id"] for m in reply.json()["data"]] == ["m1"]
    finally:
        _terminate(process)
