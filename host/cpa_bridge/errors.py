"""Stable error codes and the one exception type handlers raise.

Hierarchy::

    BridgeError            every failure a caller sees: a code, a human message, details
      (no subclasses: the code says what happened)

Codes are append-only: never rename or reuse one (``host/PROTOCOL.md`` section 4 lists
them, and a test checks that every code is documented there and in every locale).
Each code maps to a CLI exit code so scripts can branch on the class of failure.
Messages and details never contain a secret: callers pass masked values only.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    """A stable, snake_case error code. The value is what goes on the wire."""

    #: The request is malformed: unknown type, missing or wrong field (``details.field``).
    INVALID_REQUEST = "invalid_request"
    #: A native-messaging frame could not be read (truncated, bad UTF-8, not a JSON object).
    BAD_FRAME = "bad_frame"
    #: A reply would exceed the 1 MiB browser limit, or a request the 64 MiB read limit.
    TOO_LARGE = "too_large"
    #: No CLIProxyAPI management URL or key is configured.
    NOT_CONFIGURED = "not_configured"
    #: A URL is not an absolute http(s) URL, carries credentials, or has no host.
    INVALID_URL = "invalid_url"
    #: Plain http:// to a non-loopback host without ``allow_insecure_http``.
    INSECURE_URL = "insecure_url"
    #: The server could not be reached (connection refused, DNS failure, reset).
    UNREACHABLE = "unreachable"
    #: The server did not answer in time.
    TIMEOUT = "timeout"
    #: TLS handshake or certificate verification failed.
    TLS_ERROR = "tls_error"
    #: 404 on the management root: no management secret is set on the server.
    MANAGEMENT_DISABLED = "management_disabled"
    #: 401: the management key is missing or invalid (``details.reason``).
    UNAUTHORIZED = "unauthorized"
    #: 403 "remote management disabled" (or "remote management key not set").
    REMOTE_DISABLED = "remote_disabled"
    #: 403 after 5 failed attempts: this IP is locked out for 30 minutes.
    BANNED = "banned"
    #: The server answered with something that is not the expected JSON shape.
    BAD_RESPONSE = "bad_response"
    #: The server answered 5xx, or an unexpected status.
    SERVER_ERROR = "server_error"
    #: A provider with that name exists at a different base URL.
    NAME_CONFLICT = "name_conflict"
    #: The list changed since it was read (preview or backup), so nothing was written.
    CONFLICT = "conflict"
    #: The thing named (backup, site, key, provider, target) does not exist.
    NOT_FOUND = "not_found"
    #: The caller's origin is not an allowed extension.
    FORBIDDEN_ORIGIN = "forbidden_origin"
    #: The host's own settings or data files could not be read or written.
    STORAGE_ERROR = "storage_error"
    #: The upstream relay site (model list) failed: ``details.status``.
    UPSTREAM_ERROR = "upstream_error"
    #: The server refused the write (4xx on PUT/PATCH/DELETE): nothing was applied.
    REJECTED = "rejected"
    #: A previous 401 for this management key: the host will not try it again until it changes.
    AUTH_BLOCKED = "auth_blocked"
    #: A URL points at a link-local or cloud metadata address.
    FORBIDDEN_ADDRESS = "forbidden_address"
    #: A bug: the host caught an unexpected exception (logged without secrets).
    INTERNAL_ERROR = "internal_error"
    #: Another write to the same CLIProxyAPI server held the lock for too long: ``details.waited_s``.
    BUSY = "busy"


#: CLI exit code per error class (0 is success, 1 is reserved for "some items failed").
EXIT_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 2,
    ErrorCode.BAD_FRAME: 2,
    ErrorCode.TOO_LARGE: 2,
    ErrorCode.INVALID_URL: 2,
    ErrorCode.INSECURE_URL: 2,
    ErrorCode.FORBIDDEN_ADDRESS: 2,
    ErrorCode.NOT_CONFIGURED: 3,
    ErrorCode.UNREACHABLE: 4,
    ErrorCode.TIMEOUT: 4,
    ErrorCode.TLS_ERROR: 4,
    ErrorCode.MANAGEMENT_DISABLED: 5,
    ErrorCode.UNAUTHORIZED: 5,
    ErrorCode.REMOTE_DISABLED: 5,
    ErrorCode.BANNED: 5,
    ErrorCode.AUTH_BLOCKED: 5,
    ErrorCode.FORBIDDEN_ORIGIN: 5,
    ErrorCode.BAD_RESPONSE: 6,
    ErrorCode.SERVER_ERROR: 6,
    ErrorCode.UPSTREAM_ERROR: 6,
    ErrorCode.REJECTED: 6,
    ErrorCode.NAME_CONFLICT: 7,
    ErrorCode.CONFLICT: 7,
    ErrorCode.NOT_FOUND: 8,
    ErrorCode.STORAGE_ERROR: 9,
    ErrorCode.INTERNAL_ERROR: 10,
    ErrorCode.BUSY: 4,
}


class BridgeError(Exception):
    """A failure with a stable :class:`ErrorCode`, a human message and JSON-safe details.

    The message and details must never contain a secret (pass masked keys only).
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "details": self.details}

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.code, 10)

    def __repr__(self) -> str:
        return f"BridgeError({self.code.value}: {self.message})"
