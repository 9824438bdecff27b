"""Provider base-URL rules per list type, and URL checks.

The base-URL table (tests/fixtures/url_cases.json) is shared: the host's rule runs on it here, the
extension's (lib/urls.js) in tests/js/urls.test.js under node's test runner, which
tests/tooling/test_js_tools.py runs and checks for every case of the table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpa_bridge.core.urls import (
    explicit_base_url,
    origin,
    provider_base_url,
    same_base_url,
    validate_proxy_url,
)
from cpa_bridge.errors import BridgeError

CASES = json.loads(
    (Path(__file__).parent / "fixtures" / "url_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    "case", CASES["provider_base_url"], ids=lambda c: f"{c['provider_type']}:{c['site_url']}"
)
def test_provider_base_url(case):
    assert provider_base_url(case["provider_type"], case["site_url"]) == case["base_url"]


def test_explicit_base_url_is_kept_as_given():
    assert (
        explicit_base_url("https://x.example.invalid/custom/path/")
        == "https://x.example.invalid/custom/path"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://u:p@x.example.invalid",
        "https://x.example.invalid/\r\nX-Injected: 1",
        "relay.example.invalid",
        "http://169.254.169.254/v1",
        "http://[fe80::1]/v1",
        "http://metadata.google.internal/",
    ],
)
def test_bad_site_urls(bad):
    with pytest.raises(BridgeError):
        provider_base_url("openai-compatibility", bad)


def test_link_local_allowed_when_asked():
    assert (
        provider_base_url("openai-compatibility", "http://169.254.1.2", allow_link_local=True)
        == "http://169.254.1.2/v1"
    )


def test_same_base_url_ignores_case_of_host_default_port_and_trailing_slash():
    assert same_base_url("https://X.example.invalid:443/v1/", "https://x.example.invalid/v1")
    assert not same_base_url("https://x.example.invalid/v1", "https://x.example.invalid/v2")


@pytest.mark.parametrize(
    "ok", ["", "direct", "socks5://127.0.0.1:1080", "http://proxy.example.invalid:3128"]
)
def test_proxy_urls(ok):
    assert validate_proxy_url(ok) == ok


@pytest.mark.parametrize("bad", ["ftp://x", "socks5://", "http://x y", "javascript:1"])
def test_bad_proxy_urls(bad):
    with pytest.raises(BridgeError):
        validate_proxy_url(bad)


@pytest.mark.parametrize(
    "spelling",
    [
        "2852039166",
        "0xa9.0xfe.0xa9.0xfe",
        "0251.0376.0251.0376",
        "169.254.43518",
        "0xa9fea9fe",
        "[::ffff:169.254.169.254]",
    ],
)
def test_numeric_spellings_of_link_local_addresses_are_refused(spelling):
    # the resolver turns each of these into 169.254.169.254 (a metadata service)
    for url in (f"http://{spelling}/", f"https://{spelling}/v1"):
        with pytest.raises(BridgeError) as caught:
            provider_base_url("openai-compatibility", url)
        assert caught.value.code.value == "forbidden_address"
        with pytest.raises(BridgeError) as caught:
            explicit_base_url(url)
        assert caught.value.code.value == "forbidden_address"


def test_origin_names_one_server_whatever_the_path_or_case():
    assert origin("https://Relay.Example.invalid/v1") == "https://relay.example.invalid:443"
    assert origin("http://127.0.0.1:8317/a/v1") == origin("http://127.0.0.1:8317/b")
    assert origin("http://127.0.0.1/v1") == "http://127.0.0.1:80"
    assert origin("http://127.0.0.1:1/v1") != origin("http://127.0.0.1:2/v1")
