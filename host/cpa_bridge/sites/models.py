"""The relay site's model list: ``GET <base>/v1/models``, then ``<base>/models``.

The relay API key is sent only to the URL given, never across a redirect, with TLS
verification on and a timeout. Failures map to ``upstream_error`` / ``unreachable`` /
``timeout`` / ``tls_error`` / ``bad_response``; messages never carry the key.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any

import httpx

from cpa_bridge.core.urls import check_address, display_url, has_version_tail, parse_http_url
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.net import http
from cpa_bridge.sites.http import site_client


def candidate_urls(base_url: str) -> list[str]:
    base = base_url.strip().rstrip("/")
    path = parse_http_url(base, "base URL").path
    if has_version_tail(path):
        return [f"{base}/models"]
    return [f"{base}/v1/models", f"{base}/models"]


def _ids(data: Any) -> list[str] | None:
    items = data.get("data") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None:
        items = data.get("models")
    if not isinstance(items, list):
        return None
    ids: list[str] = []
    for item in items:
        if isinstance(item, dict):
            value = item.get("id") or item.get("name")
        else:
            value = item
        if isinstance(value, str) and value.strip():
            ids.append(value.strip().removeprefix("models/"))
    return sorted(dict.fromkeys(ids))


def fetch_models(
    base_url: str,
    api_key: str,
    *,
    timeout: float,
    allow_link_local: bool = False,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """The site's model ids. ``client`` (from :func:`cpa_bridge.sites.http.site_client`, with the
    same ``allow_link_local``) is used and left open; without one, a client is made for this
    fetch. One client can serve many fetches (a batch's sites)."""
    parts = parse_http_url(base_url, "base URL")
    check_address(parts, allow_link_local, base_url)
    last: BridgeError | None = None
    with (
        site_client(timeout, allow_link_local=allow_link_local, https=http.is_https(base_url))
        if client is None
        else nullcontext(client)
    ) as client:
        for url in candidate_urls(base_url):
            shown = display_url(url)
            try:
                with client.stream(
                    "GET",
                    url,
                    headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
                ) as resp:
                    body = http.read_capped(resp, f"the model list at {shown}")
                    status = resp.status_code
            except httpx.HTTPError as exc:
                raise http.map_error(
                    exc, url, who="the site", timeout=timeout, sent=False
                ) from None
            if status in (404, 405):
                last = BridgeError(
                    ErrorCode.UPSTREAM_ERROR, f"{shown} answered {status}", status=status, url=shown
                )
                continue
            if status in (401, 403):
                raise BridgeError(
                    ErrorCode.UPSTREAM_ERROR,
                    f"the site rejected the API key when listing models ({status})",
                    status=status,
                    url=shown,
                )
            if not 200 <= status < 300:
                raise BridgeError(
                    ErrorCode.UPSTREAM_ERROR, f"{shown} answered {status}", status=status, url=shown
                )
            try:
                ids = _ids(json.loads(body.decode("utf-8")))
            except (ValueError, UnicodeDecodeError, RecursionError):
                ids = None
            if ids is None:
                raise BridgeError(
                    ErrorCode.BAD_RESPONSE, f"{shown} did not return a model list", url=shown
                )
            return {"models": ids, "source": shown}
    assert last is not None
    raise last
