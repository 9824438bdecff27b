"""Relay-site requests (token lists, key reveals) over the host's one HTTP setup (:mod:`cpa_bridge.net.http`).

TLS verified, redirects never followed (a key or token must not travel to another URL), no
proxy from the environment, every connected address checked, bodies capped; httpx failures
map to ``timeout`` / ``tls_error`` / ``unreachable`` through :func:`cpa_bridge.net.http.map_error`.
Messages name the URL without credentials and never a key or token.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from cpa_bridge.core.urls import display_url
from cpa_bridge.errors import BridgeError
from cpa_bridge.net import http as net


def site_client(
    timeout: float, *, allow_link_local: bool = False, https: bool = True
) -> httpx.Client:
    return net.new_client(
        connect_timeout=min(timeout, 5.0),
        total_timeout=timeout,
        allow_link_local=allow_link_local,
        https=https,
    )


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json_body: Any = None,
    what: str = "answer",
) -> tuple[int, bytes]:
    """One request: ``(status, body)``; transport failures and oversized bodies raise BridgeError."""
    content = None
    if json_body is not None:
        content = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        headers = {**headers, "Content-Type": "application/json"}
    try:
        with http.stream(method, url, headers=headers, content=content) as resp:
            return resp.status_code, net.read_capped(resp, f"the {what} from {display_url(url)}")
    except BridgeError:
        raise
    except httpx.HTTPError as exc:
        raise net.map_error(
            exc, url, who="the site", timeout=http.timeout.read or 0.0, sent=method != "GET"
        ) from None


def json_body(body: bytes) -> Any:
    """Parsed JSON, or None when the body is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
