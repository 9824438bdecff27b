"""The address actually connected to is checked, not the URL's spelling: a name that resolves to a
forbidden address is refused before anything (the key) is sent."""

from __future__ import annotations

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
