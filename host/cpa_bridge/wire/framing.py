"""Native-messaging framing: a 4-byte native-endian length, then that many bytes of UTF-8 JSON.

See MDN "Native messaging" (App side) and Chromium's ``native_message_process_host.cc``.
Limits: the browser sends at most 64 MiB (``MAX_REQUEST_BYTES``); the browser drops the
port when a host sends more than 1 MiB (``MAX_REPLY_BYTES``), so a reply is checked
before it is written. Only bytes live here: no logging, no protocol knowledge.

Reading is our own code: ``nativemessaging.get_message`` calls ``sys.exit`` on EOF and
crashes on a truncated frame. Encoding uses ``nativemessaging.encode_message``, which is
correct (it measures bytes, not characters).
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

import nativemessaging

MAX_REQUEST_BYTES = 64 * 1024 * 1024
MAX_REPLY_BYTES = 1024 * 1024
_HEADER = struct.Struct("@I")


class FrameError(Exception):
    """A frame could not be read. ``reason`` is a short, secret-free explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameTooLarge(FrameError):
    """The announced length is above :data:`MAX_REQUEST_BYTES`."""


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks: list[bytes] = []
    remaining = n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, max_bytes: int = MAX_REQUEST_BYTES) -> dict[str, Any] | None:
    """Read one message. Returns ``None`` on a clean EOF between frames.

    Raises :class:`FrameError` for a truncated header or body, bad UTF-8, text that is
    not JSON, or JSON that is not an object; :class:`FrameTooLarge` above ``max_bytes``.
    """
    header = _read_exact(stream, _HEADER.size)
    if not header:
        return None
    if len(header) < _HEADER.size:
        raise FrameError(f"truncated header ({len(header)} of 4 bytes)")
    (length,) = _HEADER.unpack(header)
    if length > max_bytes:
        raise FrameTooLarge(f"message of {length} bytes exceeds the {max_bytes}-byte limit")
    body = _read_exact(stream, length)
    if len(body) < length:
        raise FrameError(f"truncated message ({len(body)} of {length} bytes)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("message is not valid UTF-8") from None
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise FrameError("message is not valid JSON") from None
    if not isinstance(message, dict):
        raise FrameError("message is not a JSON object")
    return message


def encode_frame(message: dict[str, Any]) -> bytes:
    """Encode a message as one frame (header + body)."""
    encoded: dict[str, bytes] = nativemessaging.encode_message(message)
    return encoded["length"] + encoded["content"]


def frame_body_size(frame: bytes) -> int:
    return len(frame) - _HEADER.size


def write_frame(stream: BinaryIO, frame: bytes) -> None:
    """Write an encoded frame in one call and flush."""
    stream.write(frame)
    stream.flush()
