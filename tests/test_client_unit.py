"""Unit tests (respx) of the management client: every status and transport failure maps to a code."""

from __future__ import annotations

import httpx
import pytest
import respx

from cpa_bridge.cliproxyapi.client import ManagementClient
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store.settings import Target

BASE = "https://cpa.example.invalid/v0/management"
KEY = "mgmt-unit-key-abcdef0123456789"


def client(**kw) -> ManagementClient:
    return ManagementClient(Target(management_url=BASE, management_key=KEY), **kw)


@pytest.mark.parametrize(
    "status, body, code, detail",
    [
        (401, {"error": "missing management key"}, ErrorCode.UNAUTHORIZED, ("reason", "missing")),
        (401, {"error": "invalid management key"}, ErrorCode.UNAUTHORIZED, ("reason", "invalid")),
        (403, {"error": "remote management disabled"}, ErrorCode.REMOTE_DISABLED, None),
        (403, {"error": "remote management key not set"}, ErrorCode.REMOTE_DISABLED, None),
        (
            403,
            {"error": "IP banned due to too many failed attempts. Try again in 29m58s"},
            ErrorCode.BANNED,
            ("retry_in", "29m58s"),
        ),
        (404, None, ErrorCode.MANAGEMENT_DISABLED, None),
        (
            500,
            {"error": "failed to save config: disk full"},
            ErrorCode.SERVER_ERROR,
            ("status", 500),
        ),
        (400, {"error": "invalid body"}, ErrorCode.REJECTED, ("server_error", "invalid body")),
        (301, None, ErrorCode.BAD_RESPONSE, ("status", 301)),
    ],
)
@respx.mock
def test_status_mapping(status, body, code, detail):
    kwargs = {"json": body} if body is not None else {}
    respx.get(f"{BASE}/config").mock(return_value=httpx.Response(status, **kwargs))
    with pytest.raises(BridgeError) as info:
        client().get_config()
    assert info.value.code == code
    if detail:
        assert info.value.details[detail[0]] == detail[1]
    assert KEY not in str(info.value.to_dict())


@respx.mock
def test_unauthorized_runs_the_lockout_hook_once():
    calls = []
    respx.get(f"{BASE}/config").mock(
        return_value=httpx.Response(401, json={"error": "invalid management key"})
    )
    with pytest.raises(BridgeError):
        client(on_unauthorized=lambda: calls.append(1)).get_config()
    assert calls == [1]


@pytest.mark.parametrize(
    "exc, code",
    [
        (httpx.ConnectError("refused"), ErrorCode.UNREACHABLE),
        (httpx.ReadTimeout("slow"), ErrorCode.TIMEOUT),
        (httpx.ConnectTimeout("slow"), ErrorCode.TIMEOUT),
        (httpx.RemoteProtocolError("dropped"), ErrorCode.UNREACHABLE),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            ErrorCode.TLS_ERROR,
        ),
    ],
)
@respx.mock
def test_transport_failures_map_to_codes(exc, code):
    respx.get(f"{BASE}/config").mock(side_effect=exc)
    with pytest.raises(BridgeError) as info:
        client().get_config()
    assert info.value.code == code


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"<html>login</html>", "not JSON"),
        (b'{"something": "else"}', "no 'openai-compatibility' list"),
        (b'{"openai-compatibility": {"a": 1}}', "not a list of objects"),
        (b'{"openai-compatibility": [1, 2]}', "not a list of objects"),
        (b'{"openai-compatibility": null}', "not a list of objects"),
        (b"[]", "not a JSON object"),
    ],
)
@respx.mock
def test_unexpected_list_shapes_are_bad_response(body, fragment):
    respx.get(f"{BASE}/openai-compatibility").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(BridgeError) as info:
        client().get_list("openai-compatibility")
    assert info.value.code == ErrorCode.BAD_RESPONSE
    assert fragment in info.value.message


@respx.mock
def test_get_list_strips_auth_index_and_sends_bearer():
    route = respx.get(f"{BASE}/openai-compatibility").mock(
        return_value=httpx.Response(
            200,
            json={
                "openai-compatibility": [
                    {
                        "name": "a",
                        "auth-index": "x",
                        "api-key-entries": [{"api-key": "k", "auth-index": "y"}],
                    }
                ]
            },
            headers={"X-CPA-VERSION": "v7.2.140"},
        )
    )
    c = client()
    assert c.get_list("openai-compatibility") == [
        {"name": "a", "api-key-entries": [{"api-key": "k"}]}
    ]
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"
    assert c.server_version == "v7.2.140"


@respx.mock
def test_write_must_be_confirmed_with_status_ok():
    respx.put(f"{BASE}/openai-compatibility").mock(
        return_value=httpx.Response(200, json={"weird": True})
    )
    with pytest.raises(BridgeError) as info:
        client().put_list("openai-compatibility", [])
    assert info.value.code == ErrorCode.BAD_RESPONSE


@pytest.mark.parametrize(
    "status, body, has_v8",
    [
        (200, b'{"host":""}', True),
        (404, b"", False),  # v7: the route is not there (empty 404)
        (404, b"404 page not found", False),  # v6: gin's own 404
    ],
)
@respx.mock
def test_v8_api_probe_uses_the_v8_base(status, body, has_v8):
    route = respx.get("https://cpa.example.invalid/v8/management/config").mock(
        return_value=httpx.Response(status, content=body)
    )
    assert client().has_v8_api() is has_v8
    assert route.called and route.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "version, line",
    [
        ("v7.2.140", "v7"),
        ("8.0.20", "v8"),
        ("v6.10.9", "v6"),
        ("dev", None),
        (None, None),
        ("", None),
        ("v7", None),
    ],
)
def test_release_line_from_the_version_header(version, line):
    from cpa_bridge.handlers.connection import release_line

    assert release_line(version) == line


def test_list_hash_treats_empty_fields_as_absent():
    """The real server reads a PUT's ``models: null`` back as ``null``, then as ``[]`` after its reload."""
    from cpa_bridge.core.merge import list_hash

    entry = {"api-key": "sk-a", "base-url": "https://x.example.invalid"}
    assert (
        list_hash([{**entry, "models": None}])
        == list_hash([{**entry, "models": []}])
        == list_hash([entry])
    )
    assert list_hash([{**entry, "proxy-url": ""}]) == list_hash([entry])
    assert list_hash([{**entry, "models": [{"name": "m"}]}]) != list_hash([entry])
    assert list_hash([{**entry, "disabled": False}]) != list_hash([entry]), (
        "false is a value, not an empty field"
    )
