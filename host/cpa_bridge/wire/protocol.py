"""Message envelopes (protocol version 1) and request validation.

Request: ``{"v":1,"id":"…","type":"…","params":{…}}``.
Reply:   ``{"v":1,"id":"…","ok":true,"result":{…}}`` or
         ``{"v":1,"id":"…","ok":false,"error":{"code","message","details"}}``.

Each message type has a pydantic params model registered in :mod:`cpa_bridge.wire.dispatch`.
Validation errors become ``invalid_request`` naming the first offending field, without
echoing the submitted value (it may be a key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cpa_bridge import PROTOCOL_VERSION
from cpa_bridge.errors import BridgeError, ErrorCode

if TYPE_CHECKING:
    from pydantic import ValidationError


_ENVELOPE_FIELDS = {"v", "id", "type", "params"}


class Envelope:
    """A checked request envelope (plain class: no pydantic on the ``ping`` path)."""

    __slots__ = ("id", "params", "type", "v")

    def __init__(self, v: int, id: str | int | None, type: str, params: dict[str, Any]) -> None:
        self.v, self.id, self.type, self.params = v, id, type, params


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


def _bad(field: str, message: str, reason: str) -> BridgeError:
    return BridgeError(ErrorCode.INVALID_REQUEST, message, field=field, reason=reason)


def parse_envelope(message: dict[str, Any]) -> Envelope:
    """Check ``{"v","id","type","params"}``; errors name the field, never echo a value."""
    for name in message:
        if name not in _ENVELOPE_FIELDS:
            return_name = str(name)[:40]
            raise _bad(return_name, f"unknown field '{return_name}'", "extra_forbidden")
    v = message.get("v", PROTOCOL_VERSION)
    if not isinstance(v, int) or isinstance(v, bool):
        raise _bad("v", "invalid field 'v': must be an integer", "int_type")
    if v != PROTOCOL_VERSION:
        raise BridgeError(
            ErrorCode.INVALID_REQUEST,
            f"unsupported protocol version {v}; this host speaks {PROTOCOL_VERSION}",
            field="v",
            supported=[PROTOCOL_VERSION],
        )
    rid = message.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (str, int))):
        raise _bad("id", "invalid field 'id': must be a string or an integer", "type")
    if "type" not in message:
        raise _bad("type", "missing field 'type'", "missing")
    mtype = message["type"]
    if not isinstance(mtype, str) or not 1 <= len(mtype) <= 64:
        raise _bad("type", "invalid field 'type': must be a message type name", "string_type")
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _bad("params", "invalid field 'params': must be an object", "dict_type")
    return Envelope(v, rid, mtype, params)


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
