"""The address actually connected to is checked, not the URL's spelling: a name that resolves to a
forbidden address is refused before anything (the key) is sent."""

from __future__ import annotations

import ssl

from cpa_bridge.errors import BridgeError
from cpa_bridge.net import http
from cpa_bridge.wire import dispatch


def models_list(base_url):
    try:
        return dispatch.call("models.list", {"base_url": base_url, "api_key": "sk-upstream-test"})
    except BridgeError as exc:
        return exc.to_dict()


def test_a_name_leading_to_a_forbidden_address_sends_nothing(upstream_factory, monkeypatch):
    upstream = upstream_factory(api_key="sk-upstream-test")
    url = upstream.url.replace("127.0.0.1", "localhost") + "/v1"
    assert models_list(url)["models"], "reachable as is"
    upstream.reset_requests()
    # pretend loopback were link-local: the name "localhost" does not say so, the connection does
    monkeypatch.setattr(
        http, "is_forbidden_ip", lambda address: address.startswith("127.") or address == "::1"
    )
    error = models_list(url)
    assert error["code"] == "forbidden_address", error
    assert upstream.requests == [], "no request (no key) reached the server"


def test_allow_link_local_turns_the_check_off(upstream_factory, monkeypatch):
    upstream = upstream_factory(api_key="sk-upstream-test")
    monkeypatch.setattr(http, "is_forbidden_ip", lambda address: True)
    with http.new_client(connect_timeout=5, total_timeout=5, allow_link_local=True) as client:
        assert (
            client.get(
                upstream.url + "/v1/models", headers={"Authorization": "Bearer sk-upstream-test"}
            ).status_code
            == 200
        )


def test_a_client_for_http_urls_loads_no_ca_bundle_and_trusts_no_certificate(monkeypatch):
    """An http-only client skips certifi's bundle; were an https URL sent to it anyway, no
    certificate would verify (fail closed, never open)."""
    loaded = []
    monkeypatch.setattr(
        http, "tls_context", lambda: loaded.append(1) or ssl.create_default_context()
    )
    with http.new_client(connect_timeout=5, total_timeout=5, https=False) as client:
        context = client._transport._pool._ssl_context
    assert loaded == []
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
    with http.new_client(connect_timeout=5, total_timeout=5, https=True) as client:
        assert client._transport._pool._ssl_context.cert_store_stats()["x509_ca"] > 0
    assert loaded == [1]


def test_https_is_recognised_in_any_case():
    assert http.is_https(" HTTPS://cpa.example.invalid") and http.is_https("https://x.invalid")
    assert not http.is_https("http://127.0.0.1:8317") and not http.is_https("httpsx://x.invalid")
