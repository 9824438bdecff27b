"""settings.*, connection.test and models.list through host frames against the stand-ins."""

from __future__ import annotations

import os
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.conftest import MGMT_KEY
from tests.masks import hint
from tests.standin.plugin import UPSTREAM_KEY, UPSTREAM_MODELS


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(handler: type[BaseHTTPRequestHandler], wrap=None):
    """Run ``handler`` on 127.0.0.1 in a thread; yields the base URL, then shuts down."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if wrap is not None:
        server.socket = wrap(server.socket)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _set(host, **params):
    reply = host.call("settings.set", params)
    assert reply["ok"], reply
    return reply["result"]


def test_settings_round_trip_never_returns_the_key(host, isolated_home):
    result = _set(host, management_url="http://127.0.0.1:8317/", management_key=MGMT_KEY)
    assert result["management_url"] == "http://127.0.0.1:8317/v0/management"
    assert result["has_key"] is True
    assert result["key_hint"] == hint(MGMT_KEY)
    got = host.call("settings.get")["result"]
    assert got["management_url"] == result["management_url"] and got["has_key"]
    assert MGMT_KEY not in str(got) and MGMT_KEY not in str(result)
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "cpa-bridge" / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert MGMT_KEY in path.read_text()


@pytest.mark.parametrize(
    "pasted, normalised, warning",
    [
        ("http://127.0.0.1:8317", "http://127.0.0.1:8317/v0/management", None),
        ("http://127.0.0.1:8317/v0/management/", "http://127.0.0.1:8317/v0/management", None),
        (
            "http://127.0.0.1:8317/v0/management/openai-compatibility",
            "http://127.0.0.1:8317/v0/management",
            "/openai-compatibility",
        ),
        (
            "http://localhost:8317/management.html",
            "http://localhost:8317/v0/management",
            "/management.html",
        ),
        (
            "https://cpa.example.invalid/v0/management/claude-api-key/",
            "https://cpa.example.invalid/v0/management",
            "/claude-api-key",
        ),
    ],
)
def test_management_url_is_normalised_with_a_warning(host, pasted, normalised, warning):
    result = _set(host, management_url=pasted)
    assert result["management_url"] == normalised
    if warning:
        assert any(warning in w for w in result["warnings"])
    else:
        assert result["warnings"] == []


@pytest.mark.parametrize(
    "url, code",
    [
        ("ftp://127.0.0.1/v0/management", "invalid_url"),
        ("javascript:alert(1)", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("http://user:s3cr3tpw@127.0.0.1:8317", "invalid_url"),
        ("http://", "invalid_url"),
        ("localhost:8317", "invalid_url"),
        ("http://cpa.example.invalid:8317", "insecure_url"),
        ("http://169.254.169.254/latest", "forbidden_address"),
    ],
)
def test_bad_management_urls_are_refused(host, url, code):
    reply = host.call("settings.set", {"management_url": url})
    assert reply["error"]["code"] == code
    assert "s3cr3tpw" not in str(reply)
    assert host.call("settings.get")["result"]["management_url"] == ""


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_url_never_replaces_a_stored_one(host, blank):
    stored = _set(host, management_url="http://127.0.0.1:8317")["management_url"]
    reply = host.call(
        "settings.set", {"management_url": blank, "management_key": "another-key-0123456"}
    )
    assert reply["error"]["code"] == "invalid_url"
    assert reply["error"]["details"]["field"] == "params.management_url"
    after = host.call("settings.get")["result"]
    assert (
        after["management_url"] == stored and after["has_key"] is False
    )  # nothing of the change was kept


def test_insecure_http_is_allowed_when_the_user_says_so(host):
    result = _set(host, management_url="http://cpa.example.invalid:8317", allow_insecure_http=True)
    assert result["management_url"] == "http://cpa.example.invalid:8317/v0/management"
    assert result["allow_insecure_http"] is True


def test_connection_test_not_configured(host):
    assert host.call("connection.test")["error"]["code"] == "not_configured"


def test_connection_test_ok_reports_version_and_counts(host, cpa_factory):
    server = cpa_factory(
        initial_yaml=(
            "openai-compatibility:\n"
            "  - name: a\n    base-url: https://a.example.invalid/v1\n    api-key-entries: [{api-key: sk-a}]\n"
            "  - name: b\n    base-url: https://b.example.invalid/v1\n"
            "claude-api-key:\n  - api-key: sk-c\n"
        )
    )
    _set(host, management_url=server.url, management_key=MGMT_KEY)
    result = host.call("connection.test")["result"]
    assert result["server_version"] == getattr(server, "announced_version", "v7.2.140")
    assert result["lists"]["openai-compatibility"] == 2
    assert result["lists"]["claude-api-key"] == 1
    assert result["lists"]["gemini-api-key"] == 0


def test_management_disabled_when_no_secret(host, cpa_factory):
    server = cpa_factory(secret=None)
    _set(host, management_url=server.url, management_key=MGMT_KEY)
    error = host.call("connection.test")["error"]
    assert error["code"] == "management_disabled"


@pytest.mark.parametrize("key, reason", [(" ", "missing"), ("wrong-key-0000000000", "invalid")])
def test_unauthorized_says_which_and_then_stops_trying(host, cpa, key, reason):
    standin = cpa
    _set(host, management_url=standin.url, management_key=key)
    error = host.call("connection.test")["error"]
    if reason == "missing":  # an empty key is never sent: nothing is configured
        assert error["code"] == "not_configured"
        return
    assert error["code"] == "unauthorized"
    assert error["details"]["reason"] == reason
    assert error["details"]["ban_failures"] == 5 and error["details"]["ban_minutes"] == 30
    assert error["details"]["failures_seen"] == 1
    assert "attempts_left" not in error["details"] and "tries are left" not in error["message"]
    assert "30 minutes" in error["message"]
    sent = len(standin.requests)
    for _ in range(6):
        again = host.call("connection.test")["error"]
        assert again["code"] == "auth_blocked"
    assert len(standin.requests) == sent, "no further attempt reaches CLIProxyAPI"
    assert host.call("settings.get")["result"]["key_rejected"] is True
    # a new key unblocks it
    _set(host, management_key=MGMT_KEY)
    assert host.call("connection.test")["ok"]


def reverse_proxy(
    target_url: str, *, drop_authorization: bool = False, forwarded_for: str | None = None
):
    """A reverse proxy on 127.0.0.1 in front of ``target_url``, as users put nginx before CLIProxyAPI."""
    import httpx

    class Handler(QuietHandler):
        def do_GET(self):
            dropped = ("host", "authorization") if drop_authorization else ("host",)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            if forwarded_for:
                headers["X-Forwarded-For"] = forwarded_for
            upstream = httpx.get(target_url + self.path, headers=headers)
            kept = {
                n: upstream.headers[n]
                for n in ("Content-Type", "X-CPA-VERSION")
                if n in upstream.headers
            }
            self.reply(upstream.status_code, upstream.content, kept)

    yield from serve(Handler)


@pytest.fixture
def header_stripping_proxy(cpa):
    """A proxy that drops the Authorization header (a real misconfiguration)."""
    yield from reverse_proxy(cpa.url, drop_authorization=True)


@pytest.fixture
def remote_client_proxy(cpa):
    """A proxy that tells CLIProxyAPI the client is remote (X-Forwarded-For), as any reverse proxy does."""
    yield from reverse_proxy(cpa.url, forwarded_for="203.0.113.9")


def test_missing_key_behind_a_proxy_that_drops_the_header(host, header_stripping_proxy):
    _set(host, management_url=header_stripping_proxy, management_key=MGMT_KEY)
    error = host.call("connection.test")["error"]
    assert error["code"] == "unauthorized" and error["details"]["reason"] == "missing"
    assert "reverse proxy" in error["message"]
    assert host.call("connection.test")["error"]["code"] == "auth_blocked"


@pytest.mark.parametrize("key", ["ключ-0123456789", "key with space", "key\twith-tab"])
def test_keys_that_cannot_travel_in_a_header_are_refused(host, key):
    reply = host.call("settings.set", {"management_key": key.replace("\\t", "\t")})
    assert reply["error"]["code"] == "invalid_request"
    assert reply["error"]["details"]["field"] == "params.management_key"
    assert key not in str(reply)


def test_remote_management_disabled(host, remote_client_proxy):
    _set(host, management_url=remote_client_proxy, management_key=MGMT_KEY)
    error = host.call("connection.test")["error"]
    assert error["code"] == "remote_disabled"
    assert "allow-remote" in error["message"]


def test_banned_after_five_failures(host, cpa):
    # someone else (not us) burned the attempts from this IP
    import httpx

    standin = cpa
    for _ in range(5):
        httpx.get(standin.management_url + "/config", headers={"Authorization": "Bearer nope"})
    _set(host, management_url=standin.url, management_key=MGMT_KEY)
    error = host.call("connection.test")["error"]
    assert error["code"] == "banned"
    assert error["details"]["ban_minutes"] == 30
    assert "30 minutes" in error["message"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_port(host):
    _set(host, management_url=f"http://127.0.0.1:{_free_port()}", management_key=MGMT_KEY)
    assert host.call("connection.test")["error"]["code"] == "unreachable"


def test_slow_server_past_the_timeout(host_factory, standin):
    proc = host_factory(env={"CPA_BRIDGE_TIMEOUT": "0.5"})
    _set(proc, management_url=standin.url, management_key=MGMT_KEY)
    standin.faults.delay_seconds = 2.0
    error = proc.call("connection.test")["error"]
    assert error["code"] == "timeout"


@pytest.fixture
def html_server():
    class Handler(QuietHandler):
        def do_GET(self):
            self.reply(
                200, b"<html><body>Please log in</body></html>", {"Content-Type": "text/html"}
            )

    yield from serve(Handler)


def test_non_json_body_is_bad_response(host, html_server):
    _set(host, management_url=html_server, management_key=MGMT_KEY)
    assert host.call("connection.test")["error"]["code"] == "bad_response"


def test_models_list_from_the_upstream(host, upstream):
    reply = host.call("models.list", {"base_url": upstream.url, "api_key": UPSTREAM_KEY})
    assert reply["ok"], reply
    assert reply["result"]["models"] == sorted(UPSTREAM_MODELS)
    assert reply["result"]["source"].endswith("/v1/models")


def test_models_list_for_a_provider_in_cliproxyapi_uses_its_key_without_showing_it(
    host, standin_factory, upstream
):
    from tests.standin.plugin import DEFAULT_YAML

    cpa = standin_factory(
        secret=MGMT_KEY,
        initial_yaml=DEFAULT_YAML.replace(
            "openai-compatibility: []",
            f"""\
openai-compatibility:
  - name: Live
    base-url: {upstream.url}/v1
    api-key-entries:
      - api-key: {UPSTREAM_KEY}
  - name: Keyless
    base-url: {upstream.url}/v1
""",
        ),
    )
    _set(host, management_url=cpa.url, management_key=MGMT_KEY)
    listing = host.call("providers.list", {"list": "openai-compatibility"})["result"]["lists"][
        "openai-compatibility"
    ]
    ids = {p["name"]: p["entry_id"] for p in listing}
    reply = host.call("models.list", {"entry_id": ids["Live"]})
    assert reply["ok"], reply
    assert reply["result"]["models"] == sorted(UPSTREAM_MODELS)
    assert UPSTREAM_KEY not in str(reply)
    assert host.call("models.list", {"entry_id": "000000000000"})["error"]["code"] == "not_found"
    keyless = host.call("models.list", {"entry_id": ids["Keyless"]})
    assert (
        keyless["error"]["code"] == "invalid_request"
        and keyless["error"]["details"]["field"] == "params.entry_id"
    )


def test_models_list_falls_back_to_models_for_versioned_bases(host, upstream_factory):
    up = upstream_factory(models=["glm-4"], api_key=UPSTREAM_KEY, paths=("/api/paas/v4/models",))
    reply = host.call("models.list", {"base_url": up.url + "/api/paas/v4", "api_key": UPSTREAM_KEY})
    assert reply["result"]["models"] == ["glm-4"]


def test_models_list_wrong_key_is_upstream_error_without_the_key(host, upstream):
    reply = host.call(
        "models.list", {"base_url": upstream.url, "api_key": "sk-wrong-key-abcdef123456"}
    )
    assert reply["error"]["code"] == "upstream_error"
    assert reply["error"]["details"]["status"] == 401
    assert "sk-wrong-key-abcdef123456" not in str(reply)


@pytest.fixture
def self_signed_https(tmp_path):
    """An https server on 127.0.0.1 with a self-signed certificate (not trusted)."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )

    class Handler(QuietHandler):
        def do_GET(self):
            self.reply(200, b"{}")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from serve(Handler, wrap=lambda sock: context.wrap_socket(sock, server_side=True))


def test_untrusted_certificate_is_tls_error(host, self_signed_https):
    _set(host, management_url=self_signed_https, management_key=MGMT_KEY)
    error = host.call("connection.test")["error"]
    assert error["code"] == "tls_error"
