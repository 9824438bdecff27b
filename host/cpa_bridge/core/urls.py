"""URL rules: the management URL, provider base URLs, and what a URL may point at.

Pure functions; each raises :class:`BridgeError` (``invalid_url``, ``insecure_url``,
``forbidden_address``) with the URL shown without credentials, query or fragment.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit, urlunsplit

from cpa_bridge.core.lists import CLAUDE, CODEX, COUNTED_LISTS, GEMINI, OPENAI, XAI
from cpa_bridge.core.notices import Notice
from cpa_bridge.core.notices import WarningCode as W
from cpa_bridge.errors import BridgeError, ErrorCode

MANAGEMENT_PATH = "/v0/management"

#: Paths a user may paste after ``/v0/management`` (a list, or another management route).
MANAGEMENT_SUFFIXES = (
    *COUNTED_LISTS,
    "api-keys",
    "config",
    "config.yaml",
    "management.html",
)

#: Request paths a user may paste after an OpenAI-style base URL.
_REQUEST_SUFFIXES = (
    "/chat/completions",
    "/completions",
    "/responses",
    "/models",
    "/embeddings",
    "/moderations",
    "/images/generations",
    "/audio/speech",
    "/audio/transcriptions",
)

#: A trailing version segment: /v1, /v4, /v1beta, /v2alpha1, /v1beta/openai …
_VERSION_TAIL = re.compile(r"/v\d+(?:[a-z]+\d*)?(?:/openai)?$", re.IGNORECASE)

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


@dataclass
class ManagementURL:
    url: str
    warnings: list[str] = field(default_factory=list)


def _reject(code: ErrorCode, message: str, url: str) -> BridgeError:
    return BridgeError(code, message, url=display_url(url))


def display_url(url: str) -> str:
    """The URL without user info, query or fragment: safe to show and log."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        if ":" in (parts.hostname or "") and not host.startswith("["):
            host = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unparsable URL)"


def parse_http_url(raw: str, what: str = "URL") -> SplitResult:
    """Parse and check an absolute http(s) URL with a host and no credentials."""
    if not isinstance(raw, str) or not raw.strip():
        raise BridgeError(ErrorCode.INVALID_URL, f"{what} is empty")
    text = raw.strip()
    if any(ord(c) < 0x20 or c == "\x7f" for c in text) or " " in text:
        raise _reject(ErrorCode.INVALID_URL, f"{what} contains spaces or control characters", text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise BridgeError(ErrorCode.INVALID_URL, f"{what} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if not parts.netloc and "://" not in text:
            raise BridgeError(ErrorCode.INVALID_URL, f"{what} must start with http:// or https://")
        raise BridgeError(
            ErrorCode.INVALID_URL, f"{what} must use http or https, not '{scheme or '(none)'}'"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BridgeError(ErrorCode.INVALID_URL, f"{what} must not contain a user name or password")
    if not parts.hostname:
        raise BridgeError(ErrorCode.INVALID_URL, f"{what} has no host")
    del port
    return parts


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address of every numeric IPv4 spelling the resolver accepts: ``2852039166``,
    ``0xa9.0xfe.0xa9.0xfe``, ``0251.0376.0251.0376``, ``169.254.43518`` (inet_aton rules)."""
    if not host or not all(c in "0123456789abcdefx." for c in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_forbidden_ip(address: str) -> bool:
    """Link-local (169.254.0.0/16, fe80::/10, also IPv4-mapped) and the IPv6 metadata address."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_link_local or str(ip) == "fd00:ec2::254"


def is_forbidden_address(host: str) -> bool:
    """Link-local and metadata hosts, however the address is spelled (the resolver's view,
    not the text). A DNS name is checked again on connect (:mod:`cpa_bridge.net.http`)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in _METADATA_HOSTS:
        return True
    numeric = _numeric_ipv4(host)
    if numeric is not None:
        return is_forbidden_ip(str(numeric))
    return is_forbidden_ip(host)


def check_address(parts: SplitResult, allow_link_local: bool, url: str) -> None:
    if not allow_link_local and is_forbidden_address(parts.hostname or ""):
        raise _reject(
            ErrorCode.FORBIDDEN_ADDRESS,
            "URL points at a link-local or cloud metadata address; refused",
            url,
        )


def _clean(parts: SplitResult, path: str) -> str:
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    for default in ((":80", "http"), (":443", "https")):
        if netloc.endswith(default[0]) and scheme == default[1]:
            netloc = netloc[: -len(default[0])]
    return urlunsplit((scheme, netloc, path, "", ""))


def normalize_management_url(
    raw: str, *, allow_insecure_http: bool = False, allow_link_local: bool = False
) -> ManagementURL:
    """Turn what a user pasted into the management base URL ``…/v0/management``.

    Accepts the deployment root, strips a trailing ``/``, ``/management.html`` and a
    pasted list suffix such as ``/openai-compatibility`` (each with a warning).
    """
    parts = parse_http_url(raw, "management URL")
    check_address(parts, allow_link_local, raw)
    warnings: list[str] = []
    if parts.query or parts.fragment:
        warnings.append(
            Notice(W.URL_QUERY_REMOVED, "removed the query string or fragment from the URL")
        )
    path = parts.path.rstrip("/")
    while True:
        tail = path.rsplit("/", 1)[-1] if "/" in path else ""
        if tail.lower() in MANAGEMENT_SUFFIXES:
            warnings.append(
                Notice(
                    W.URL_SUFFIX_REMOVED, f"removed '/{tail}' from the end of the URL", suffix=tail
                )
            )
            path = path[: -(len(tail) + 1)].rstrip("/")
            continue
        break
    if not path.lower().endswith(MANAGEMENT_PATH):
        if path:
            warnings.append(
                Notice(
                    W.URL_PATH_ADDED,
                    f"added '{MANAGEMENT_PATH}' after '{path}'",
                    added=MANAGEMENT_PATH,
                    path=path,
                )
            )
        path = path + MANAGEMENT_PATH
    else:
        path = path[: -len(MANAGEMENT_PATH)] + MANAGEMENT_PATH
    url = _clean(parts, path)
    if (
        parts.scheme.lower() == "http"
        and not is_loopback(parts.hostname or "")
        and not allow_insecure_http
    ):
        raise BridgeError(
            ErrorCode.INSECURE_URL,
            "plain http:// to a host that is not this machine would send the management key "
            "unencrypted; use https:// or turn on 'allow insecure http'",
            url=url,
        )
    return ManagementURL(url=url, warnings=warnings)


def strip_request_suffix(path: str) -> str:
    for suffix in _REQUEST_SUFFIXES:
        if path.lower().endswith(suffix):
            return path[: -len(suffix)].rstrip("/")
    return path


def has_version_tail(path: str) -> bool:
    return bool(_VERSION_TAIL.search(path.rstrip("/")))


def provider_base_url(provider_type: str, site_url: str, *, allow_link_local: bool = False) -> str:
    """The provider ``base-url`` CLIProxyAPI needs for a relay site, per list type.

    * openai-compatibility, codex: CLIProxyAPI appends ``/chat/completions`` or
      ``/responses``, so the URL must carry its version: ``/v1`` is appended only when
      the path does not already end in a version segment (``/v1``, ``/api/paas/v4``,
      ``/v1beta/openai``).
    * claude: CLIProxyAPI appends ``/v1/messages``: a pasted ``/v1/messages`` or ``/v1``
      is removed.
    * gemini: CLIProxyAPI appends ``/<version>/models/…``: a pasted version and
      ``/models…`` tail is removed.
    * xai: as openai-compatibility (an OpenAI-style API under ``/v1``).
    * vertex: a Vertex-compatible endpoint, kept as given (no version rule).
    """
    parts = parse_http_url(site_url, "site URL")
    check_address(parts, allow_link_local, site_url)
    path = parts.path.rstrip("/")
    if provider_type in (OPENAI, CODEX, XAI):
        if provider_type == CODEX and "/backend-api/codex" in path:
            path = path.split("/backend-api/codex", 1)[0] + "/backend-api/codex"
        else:
            path = strip_request_suffix(path)
            if not has_version_tail(path):
                path += "/v1"
    elif provider_type == CLAUDE:
        lowered = path.lower()
        if lowered.endswith("/v1/messages"):
            path = path[: -len("/v1/messages")]
        elif lowered.endswith("/v1"):
            path = path[: -len("/v1")]
    elif provider_type == GEMINI:
        path = re.sub(
            r"/v\d+(?:beta|alpha)?\d*(?:/models(?:/[^/]*)?)?$", "", path, flags=re.IGNORECASE
        )
    return _clean(parts, path.rstrip("/"))


def explicit_base_url(raw: str, *, allow_link_local: bool = False) -> str:
    """An explicit base URL: validated and kept as given (only a trailing ``/`` is dropped)."""
    parts = parse_http_url(raw, "base URL")
    check_address(parts, allow_link_local, raw)
    if parts.query or parts.fragment:
        raise _reject(
            ErrorCode.INVALID_URL, "base URL must not have a query string or fragment", raw
        )
    return _clean(parts, parts.path.rstrip("/"))


def same_base_url(a: str, b: str) -> bool:
    """Compare two base URLs as CLIProxyAPI would use them (case of scheme/host, default port, trailing '/')."""
    return comparable_url(a) == comparable_url(b)


@functools.lru_cache(maxsize=4096)
def comparable_url(url: str) -> str:
    """``url`` in the form two base URLs are compared in. Memoised (a pure function): a merge
    compares every draft's URL with every provider's, an import.batch of 50 new providers into
    70 runs it thousands of times on the same few strings."""
    try:
        parts = urlsplit((url or "").strip())
        if not parts.scheme or not parts.netloc:
            return (url or "").strip().rstrip("/")
        return _clean(parts, parts.path.rstrip("/"))
    except ValueError:
        return (url or "").strip().rstrip("/")


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` (lower case, the port always given): one server."""
    parts = urlsplit((url or "").strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{(parts.hostname or '').lower()}:{port or default}"


def validate_proxy_url(raw: str) -> str:
    """A per-key proxy URL: http, https, socks5 or socks5h with a host, or ``direct``."""
    text = raw.strip()
    if text in ("", "direct"):
        return text
    if any(ord(c) < 0x20 for c in text) or " " in text:
        raise BridgeError(ErrorCode.INVALID_URL, "proxy URL contains spaces or control characters")
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise BridgeError(ErrorCode.INVALID_URL, "proxy URL is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise BridgeError(
            ErrorCode.INVALID_URL,
            "proxy URL must be http://, https://, socks5:// or socks5h:// with a host, or 'direct'",
        )
    return text
