"""Start the host the way a browser does and send it one ``ping`` frame.

Frame = 4-byte unsigned length in native byte order + UTF-8 JSON (reference A1).
Like ``sendNativeMessage``, we close the host's stdin after the request, so a
well-behaved host answers and exits.
"""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Mapping
from pathlib import Path

PING_ID = "install-check"
PING = {"v": 1, "id": PING_ID, "type": "ping", "params": {}}


class PingError(Exception):
    """The host could not be started or did not give a good answer; str() says why."""


def encode(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return struct.pack("=I", len(body)) + body


def decode_first(data: bytes):
    """The first complete frame in ``data`` as JSON, or None if there is none."""
    if len(data) < 4:
        return None
    (length,) = struct.unpack("=I", data[:4])
    if len(data) < 4 + length:
        return None
    try:
        return json.loads(data[4 : 4 + length].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PingError(f"reply is not valid JSON ({exc})") from None


def _tail(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return f": {lines[-1][:200]}" if lines else ""


def ping(
    launcher: Path, argv: list[str], environ: Mapping[str, str], timeout: float = 10.0
) -> dict:
    """Return the ping ``result`` ({"host_version", "protocol", ...}) or raise PingError."""
    try:
        proc = subprocess.Popen(
            [str(launcher), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(launcher.parent),  # browsers start hosts in the host's directory
            env=dict(environ),
        )
    except OSError as exc:
        raise PingError(f"cannot start {launcher}: {exc.strerror or exc}") from None
    timed_out = False
    try:
        out, err = proc.communicate(encode(PING), timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        out, err = proc.communicate()
    reply = decode_first(out)
    if reply is None:
        if timed_out:
            raise PingError(f"no reply within {timeout:g} s")
        if out:
            raise PingError(
                f"host wrote {len(out)} bytes that are not a complete frame (a stray print()?)"
            )
        raise PingError(f"host exited with code {proc.returncode} without answering{_tail(err)}")
    return _result(reply)


def _result(reply) -> dict:
    if not isinstance(reply, dict) or reply.get("id") != PING_ID:
        raise PingError(f"unexpected reply {json.dumps(reply)[:200]}")
    if reply.get("ok") is not True:
        error = reply.get("error")
        error = error if isinstance(error, dict) else {}
        raise PingError(
            f"host answered with error {error.get('code', '?')}: {error.get('message', '')}".rstrip(
                ": "
            )
        )
    result = reply.get("result")
    if (
        reply.get("v") != 1
        or not isinstance(result, dict)
        or "host_version" not in result
        or "protocol" not in result
    ):
        raise PingError(
            f"reply lacks v=1 or result.host_version/protocol: {json.dumps(reply)[:200]}"
        )
    return result
