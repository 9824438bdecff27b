"""Provider base-URL rules per list type, and URL checks."""

from __future__ import annotations

import pytest

from cpa_bridge.errors import BridgeError
from cpa_bridge.core.urls import explicit_base_url, provider_base_url, same_base_url, validate_proxy_url


@pytest.mark.parametrize(
    "kind, site, expected",
    [
        ("openai-compatibility", "https://relay.example.invalid", "https://relay.example.invalid/v1"),
        ("openai-compatibility", "https://relay.example.invalid/", "https://relay.example.invalid/v1"),
        ("openai-compatibility", "https://relay.example.invalid/v1/", "https://relay.example.invalid/v1"),
        ("openai-compatibility", "https://relay.example.invalid/api", "https://relay.example.invalid/api/v1"),
        ("openai-compatibility", "https://open.example.invalid/api/paas/v4", "https://open.example.invalid/api/paas/v4"),
        ("openai-compatibility", "https://g.example.invalid/v1beta/openai", "https://g.example.invalid/v1beta/openai"),
        ("openai-compatibility", "https://x.example.invalid/V1", "https://x.example.invalid/V1"),
        ("openai-compatibility", "https://x.example.invalid/api/v3", "https://x.example.invalid/api/v3"),
        ("openai-compatibility", "https://x.example.invalid/v1/chat/completions", "https://x.example.invalid/v1"),
        ("openai-compatibility", "HTTPS://X.Example.invalid:443/v1", "https://x.example.invalid/v1"),
        ("codex-api-key", "https://x.example.invalid", "https://x.example.invalid/v1"),
        ("claude-api-key", "https://x.example.invalid/proxy/v1/messages", "https://x.example.invalid/proxy"),
        ("claude-api-key", "https://x.example.invalid/v1", "https://x.example.invalid"),
        ("claude-api-key", "https://x.example.invalid", "https://x.example.invalid"),
        ("gemini-api-key", "https://x.example.invalid/genai/v1beta/models/gemini-2.5-pro:generateContent",
         "https://x.example.invalid/genai"),
        ("gemini-api-key", "https://x.example.invalid/genai/v1beta", "https://x.example.invalid/genai"),
    ],
)
def test_provider_base_url(kind, site, expected):
    assert provider_base_url(kind, site) == expected


def test_explicit_base_url_is_kept_as_given():
    assert explicit_base_url("https://x.example.invalid/custom/path/") == "https://x.example.invalid/custom/path"


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "file:///etc/passwd", "https://u:p@x.example.invalid",
                                 "https://x.example.invalid/\r\nX-Injected: 1", "relay.example.invalid",
                                 "http://169.254.169.254/v1", "http://[fe80::1]/v1", "http://metadata.google.internal/"])
def test_bad_site_urls(bad):
    with pytest.raises(BridgeError):
        provider_base_url("openai-compatibility", bad)


def test_link_local_allowed_when_asked():
    assert provider_base_url("openai-compatibility", "http://169.254.1.2", allow_link_local=True) == \
        "http://169.254.1.2/v1"


def test_same_base_url_ignores_case_of_host_default_port_and_trailing_slash():
    assert same_base_url("https://X.example.invalid:443/v1/", "https://x.example.invalid/v1")
    assert not same_base_url("https://x.example.invalid/v1", "https://x.example.invalid/v2")


@pytest.mark.parametrize("ok", ["", "direct", "socks5://127.0.0.1:1080", "http://proxy.example.invalid:3128"])
def test_proxy_urls(ok):
    assert validate_proxy_url(ok) == ok


@pytest.mark.parametrize("bad", ["ftp://x", "socks5://", "http://x y", "javascript:1"])
def test_bad_proxy_urls(bad):
    with pytest.raises(BridgeError):
        validate_proxy_url(bad)
