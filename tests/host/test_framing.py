"""Framing on byte streams: split reads, several frames, EOF, truncation, limits, non-ASCII."""

from __future__ import annotations

import io
import struct

import nativemessaging
import pytest

from cpa_bridge.wire.framing import (
    MAX_REPLY_BYTES,
    FrameError,
    FrameTooLarge,
    encode_frame,
    read_frame,
)


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read (like a pipe)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.pos, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + min(n, self.step)]
        self.pos += len(chunk)
        return chunk


def frame(body: bytes) -> bytes:
    return struct.pack("=I", len(body)) + body


def test_reads_a_frame_delivered_in_pieces_and_two_frames_back_to_back():
    data = frame(b'{"a":1}') + frame('{"名":"値"}'.encode())
    stream = Trickle(data, step=3)
    assert read_frame(stream) == {"a": 1}
    assert read_frame(stream) == {"名": "値"}
    assert read_frame(stream) is None


def test_clean_eof_is_none():
    assert read_frame(io.BytesIO(b"")) is None


@pytest.mark.parametrize(
    "data, reason",
    [
        pytest.param(b"\x05\x00", "truncated header", id="short-header"),
        pytest.param(frame(b'{"a":1}')[:-2], "truncated message", id="short-body"),
        pytest.param(frame(b"\xff\xfe{}"), "not valid UTF-8", id="bad-utf8"),
        pytest.param(frame(b"{nope"), "not valid JSON", id="not-json"),
        pytest.param(frame(b"[1,2]"), "not a JSON object", id="array"),
        pytest.param(frame(b'"text"'), "not a JSON object", id="string"),
        pytest.param(frame(b"[" * 100000 + b"]" * 100000), "not valid JSON", id="deep-nesting"),
    ],
)
def test_bad_frames_raise_frame_error(data: bytes, reason: str):
    with pytest.raises(FrameError) as info:
        read_frame(io.BytesIO(data))
    assert reason in info.value.reason


def test_announced_length_over_the_cap_is_refused_without_reading_it():
    with pytest.raises(FrameTooLarge):
        read_frame(io.BytesIO(struct.pack("=I", 64 * 1024 * 1024 + 1)))


def test_encode_counts_bytes_not_characters_and_round_trips():
    message = {"text": "密钥 ✓ " * 10}
    data = encode_frame(message)
    (length,) = struct.unpack("=I", data[:4])
    assert length == len(data) - 4
    assert read_frame(io.BytesIO(data)) == message
    # the library's encoder (used for writing) agrees with our reader
    encoded = nativemessaging.encode_message(message)
    assert read_frame(io.BytesIO(encoded["length"] + encoded["content"])) == message


def test_reply_limit_is_one_mebibyte():
    assert MAX_REPLY_BYTES == 1024 * 1024
