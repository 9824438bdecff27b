"""Message envelopes (protocol version 1) and request validation.

Request: ``{"v":1,"id":"…","type":"…","params":{…}}``.
Reply:   ``{"v":1,"id":"…","ok":true,"result":{…}}`` or
         ``{"v":1,"id":"…","ok":false,"error":{"code","message","details"}}``.

Each message type has a pydantic params model registered in :mod:`cpa_bridge.dispatch`.
Validation errors become ``invalid_request`` naming the first offending field, without
echoing the submitted value (it may be a key).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import PROTOCOL_VERSION
from .errors import BridgeError, ErrorCode


class Params(BaseModel):
    """Base for every ``params`` model: unknown fields are an error, strings are stripped of nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: int = Field(PROTOCOL_VERSION)
    id: str | int | None = Field(default=None)
    type: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


def field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def invalid_request(exc: ValidationError, prefix: str = "") -> BridgeError:
    """Turn a pydantic error into ``invalid_request`` naming the field, never the value."""
    first = exc.errors(include_url=False, include_input=False)[0]
    field = field_path(((prefix,) if prefix else ()) + tuple(first["loc"]))
    kind = first["type"]
    if kind == "missing":
        message = f"missing field '{field}'"
    elif kind == "extra_forbidden":
        message = f"unknown field '{field}'"
    else:
        message = f"invalid field '{field}': {first['msg']}"
    return BridgeError(ErrorCode.INVALID_REQUEST, message, field=field, reason=kind)


def parse_envelope(message: dict[str, Any]) -> Envelope:
    try:
        envelope = Envelope.model_validate(message)
    except ValidationError as exc:
        raise invalid_request(exc) from None
    if envelope.v != PROTOCOL_VERSION:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"unsupported protocol version {envelope.v}; this host speaks {PROTOCOL_VERSION}",
            field="v",
            supported=[PROTOCOL_VERSION],
        )
    return envelope


def request_id(message: Any) -> str | int | None:
    """The ``id`` of a raw message if it is usable, so even a bad request gets a matching reply."""
    if isinstance(message, dict):
        rid = message.get("id")
        if isinstance(rid, (str, int)) and not isinstance(rid, bool):
            return rid if not isinstance(rid, str) or len(rid) <= 200 else None
    return None


def ok_reply(rid: str | int | None, result: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": rid, "ok": True, "result": result}


def error_reply(rid: str | int | None, error: BridgeError) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": rid, "ok": False, "error": error.to_dict()}
