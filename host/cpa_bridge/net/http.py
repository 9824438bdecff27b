"""The one HTTP setup of the host, shared by the CLIProxyAPI client and the relay-site fetches.

* :func:`new_client`: one ``httpx.Client`` per use, TLS verified against certifi's CAs
  (one context per process, loaded only for a client of an https URL), redirects never
  followed, no proxy from the environment, and every connection checked *after* it is
  made: the address actually connected to must not be link-local or a metadata address
  (whatever spelling or DNS name led there), unless the user allowed it.
* :func:`read_capped`: a body read in chunks, refused past a size cap.
* :func:`map_error`: every httpx exception → one :class:`BridgeError` (``timeout``,
  ``tls_error``, ``unreachable``); httpx's text is never forwarded (it can hold URLs).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import certifi
import httpcore
import httpx

from cpa_bridge.core.urls import display_url, is_forbidden_ip
from cpa_bridge.errors import BridgeError, ErrorCode

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle costs 15-30 ms each time)."""
    return ssl.create_default_context(cafile=certifi.where())


def no_trust_context() -> ssl.SSLContext:
    """The context of a client for http:// URLs only: it verifies like :func:`tls_context` but
    trusts no certificate, so an https URL sent to such a client fails closed (``tls_error``)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, hostname checked, no CAs


def is_https(url: str) -> bool:
    return url.strip()[:8].lower() == "https://"


class _CheckedBackend(httpcore.NetworkBackend):
    """Connects as httpcore does, then refuses a connection whose peer is a forbidden address."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        sock = stream.get_extra_info("socket")
        peer = sock.getpeername()[0] if sock is not None else None
        if peer is None or is_forbidden_ip(str(peer)):
            stream.close()
            raise BridgeError(
                ErrorCode.FORBIDDEN_ADDRESS,
                f"{host} leads to a link-local or cloud metadata address; refused (nothing was sent)",
                host=host[:200],
            )
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:  # pragma: no cover
        raise BridgeError(ErrorCode.INVALID_URL, "unix sockets are not supported")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def new_client(
    *,
    connect_timeout: float,
    total_timeout: float,
    allow_link_local: bool = False,
    headers: dict[str, str] | None = None,
    https: bool = True,
) -> httpx.Client:
    """``https=False`` when every URL the client is for is http:// (a loopback CLIProxyAPI, most
    often): the CA bundle is then not loaded, which a short-lived CLI or host process feels."""
    transport = httpx.HTTPTransport(
        verify=tls_context() if https else no_trust_context(), trust_env=False
    )
    if not allow_link_local:
        pool = transport._pool  # httpx has no public hook for httpcore's network backend
        pool._network_backend = _CheckedBackend(pool._network_backend)
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(
            connect=connect_timeout, read=total_timeout, write=total_timeout, pool=connect_timeout
        ),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "cpa-bridge", **(headers or {})},
    )


def read_capped(resp: httpx.Response, what: str, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise BridgeError(
                ErrorCode.BAD_RESPONSE,
                f"{what} is larger than {limit // (1024 * 1024)} MiB; nothing was written",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        text = str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def map_error(
    exc: httpx.HTTPError, url: str, *, who: str, timeout: float, sent: bool
) -> BridgeError:
    """The one mapping of httpx failures. ``who`` names the other side in messages
    ("CLIProxyAPI", "the site"); ``sent`` says whether a write may have reached it."""
    shown = display_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return BridgeError(
            ErrorCode.TIMEOUT,
            f"{who} at {shown} did not answer within {timeout:g} s",
            url=shown,
            sent=sent,
        )
    if is_tls(exc):
        return BridgeError(
            ErrorCode.TLS_ERROR,
            f"TLS to {shown} failed (certificate not trusted, or the server does not speak https)",
            url=shown,
        )
    if isinstance(exc, httpx.ConnectError):
        return BridgeError(
            ErrorCode.UNREACHABLE,
            f"cannot connect to {who} at {shown}: is it running?",
            url=shown,
            sent=False,
        )
    return BridgeError(
        ErrorCode.UNREACHABLE,
        f"the connection to {who} at {shown} broke before an answer arrived",
        url=shown,
        sent=sent,
    )
