"""Hostile input: random frames and messages, hostile field values. Each gets an error reply or a clean
exit: never a traceback, a hang, an internal error, or a write to CLIProxyAPI."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpa_bridge.wire.dispatch import ROUTES
from tests.conftest import MGMT_KEY
from tests.hostproc import HostProcess

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
hostile_text = st.sampled_from(
    [
        "",
        " ",
        "\r\nX-Injected: 1",
        "a\x00b",
        "\u202e\u2066evil",
        "名前\t",
        "x" * 5000,
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1/",
        "http://169.254.169.254/",
        "http://[::1",
        "\ud7ff",
        "sk-\r\nkey",
        "ftp://x",
        "http:///nohost",
        "data:text/html,x",
        "//example.invalid",
        "🙂" * 100,
    ]
) | st.text(max_size=80)


@pytest.fixture(scope="module")
def fuzz_host(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzzhome")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "c"), "XDG_DATA_HOME": str(home / "d")}
    proc = HostProcess.start(env=env)
    yield proc
    assert proc.close() == 0
    assert "Traceback" not in proc.stderr_text()


def _check(reply):
    assert reply["v"] == 1 and isinstance(reply["ok"], bool)
    if not reply["ok"]:
        assert reply["error"]["code"] != "internal_error", reply["error"]


@FUZZ
@given(
    mtype=st.sampled_from(sorted(ROUTES)),
    params=st.dictionaries(
        st.sampled_from(
            [
                "site_name",
                "site_url",
                "api_key",
                "base_url",
                "models",
                "proxy_url",
                "management_url",
                "management_key",
                "items",
                "id",
                "name",
                "url",
                "query",
                "data",
                "backup_id",
                "targets",
                "target",
                "provider_type",
                "dry_run",
                "force",
                "site_id",
                "key_id",
                "list",
                "limit",
            ]
        ),
        json_values | hostile_text,
        max_size=6,
    ),
)
def test_every_message_type_with_random_params(fuzz_host, mtype, params):
    _check(fuzz_host.call(mtype, params, timeout=20))


@FUZZ
@given(message=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_random_envelopes(fuzz_host, message):
    reply = fuzz_host.request(message, timeout=20)
    _check(reply)


def test_deeply_nested_message(fuzz_host):
    body = (
        '{"v":1,"id":"deep","type":"ping","params":{"a":' + "[" * 50000 + "]" * 50000 + "}}"
    ).encode()
    fuzz_host.send_raw(struct.pack("=I", len(body)) + body)
    reply = fuzz_host.read_reply(timeout=20)
    assert reply["ok"] is False and reply["error"]["code"] in ("bad_frame", "invalid_request")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=64), length=st.integers(0, 200))
def test_random_frames_end_in_a_reply_or_a_clean_exit(data, length):
    proc = HostProcess.start()
    try:
        proc.send_raw(struct.pack("=I", length) + data)
        proc.proc.stdin.close()
        replies = []
        while (reply := proc.read_reply(timeout=10)) is not None:
            replies.append(reply)
        assert len(replies) <= 1
        for reply in replies:
            assert reply["ok"] is False and reply["error"]["code"] in (
                "bad_frame",
                "invalid_request",
                "too_large",
            )
        assert proc.close() == 0
        assert "Traceback" not in proc.stderr_text()
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()


HOSTILE_IMPORTS = [
    ("site_url", "javascript:alert(1)", "invalid_url"),
    ("site_url", "file:///etc/passwd", "invalid_url"),
    ("site_url", "https://user:pw@relay.example.invalid", "invalid_url"),
    ("site_url", "https://relay.example.invalid/\r\nX-Evil: 1", "invalid_url"),
    ("site_url", "http://169.254.169.254/latest/meta-data", "forbidden_address"),
    ("base_url", "http://[fe80::1]/v1", "forbidden_address"),
    ("base_url", "ftp://relay.example.invalid", "invalid_url"),
    ("site_name", "Relay\r\nX-Evil: 1", "invalid_request"),
    ("provider_name", "Relay\x00", "invalid_request"),
    ("api_key", "sk-abc\r\nX-Evil: 1", "invalid_request"),
    ("api_key", "sk with spaces", "invalid_request"),
    ("api_key", "", "invalid_request"),
    ("proxy_url", "gopher://x", "invalid_url"),
    ("models", [{"name": "a\nb"}], "invalid_request"),
    ("models", [{"name": ""}], "invalid_request"),
    ("models", "gpt-4o", "invalid_request"),
    ("provider_type", "interactions-api-key", "invalid_request"),
    ("on_name_conflict", "overwrite", "invalid_request"),
]


@pytest.mark.parametrize(
    "field, value, code",
    HOSTILE_IMPORTS,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(HOSTILE_IMPORTS)],
)
def test_hostile_import_fields_are_refused_before_any_request(host, standin, field, value, code):
    assert host.call("settings.set", {"management_url": standin.url, "management_key": MGMT_KEY})[
        "ok"
    ]
    params = {
        "site_name": "Relay",
        "site_url": "https://relay.example.invalid",
        "api_key": "sk-good-0123456789",
        field: value,
    }
    standin.reset_requests()
    reply = host.call("import", params)
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    assert standin.requests == [], "nothing was sent to CLIProxyAPI"
    assert "sk-good-0123456789" not in json.dumps(reply)
