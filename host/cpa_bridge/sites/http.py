"""The one HTTP setup for calls to relay sites (model lists, token lists, key reveals).

TLS verification on (the host's one TLS context), redirects never followed (a key must not
travel to another URL), no proxy from the environment, a timeout, bodies capped. Transport
failures map to ``timeout`` / ``tls_error`` / ``unreachable`` here, once; messages name the
URL without credentials and never a key or token.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..client import MAX_RESPONSE_BYTES, _is_tls, tls_context
from ..errors import BridgeError, ErrorCode
from ..urls import display_url


def site_client(timeout: float) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False, trust_env=False,
        verify=tls_context(), headers={"User-Agent": "cpa-bridge"},
    )


def send(http: httpx.Client, method: str, url: str, *, headers: dict[str, str],
         json_body: Any = None, what: str = "answer") -> tuple[int, bytes]:
    """One request: ``(status, body)``; transport failures and oversized bodies raise BridgeError."""
    shown = display_url(url)
    content = None
    if json_body is not None:
        content = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        headers = {**headers, "Content-Type": "application/json"}
    try:
        with http.stream(method, url, headers=headers, content=content) as resp:
            body = b""
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise BridgeError(ErrorCode.BAD_RESPONSE, f"the {what} from {shown} is too large", url=shown)
            return resp.status_code, body
    except httpx.TimeoutException:
        timeout = http.timeout.read
        raise BridgeError(ErrorCode.TIMEOUT, f"{shown} did not answer within {timeout:g} s", url=shown) from None
    except httpx.HTTPError as exc:
        if _is_tls(exc):
            raise BridgeError(ErrorCode.TLS_ERROR, f"TLS to {shown} failed", url=shown) from None
        raise BridgeError(ErrorCode.UNREACHABLE, f"cannot reach {shown}", url=shown) from None


def json_body(body: bytes) -> Any:
    """Parsed JSON, or None when the body is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
