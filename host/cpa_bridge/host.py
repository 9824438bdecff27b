"""The native-messaging host: read frames from stdin, answer each on stdout.

Serves one request (``sendNativeMessage``) or many (``connectNative``) until EOF.
Only frames are written to stdout: ``sys.stdout`` is pointed at stderr while the host
runs, so a stray ``print`` cannot corrupt the stream. Exit code 0 on EOF and after a
bad frame (which first gets one ``bad_frame`` / ``too_large`` reply).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.wire import dispatch
from cpa_bridge.wire.framing import (
    MAX_REPLY_BYTES,
    FrameError,
    FrameTooLarge,
    encode_frame,
    frame_body_size,
    read_frame,
    write_frame,
)
from cpa_bridge.wire.identity import allowed_origins
from cpa_bridge.wire.log import logger, safe, setup
from cpa_bridge.wire.protocol import error_reply, ok_reply, parse_envelope, request_id


def caller_from_argv(argv: list[str]) -> str | None:
    """The caller origin: ``chrome-extension://<id>/`` (Chromium) or the add-on id (Firefox).

    Chromium passes the origin (Windows adds ``--parent-window=N``); Firefox passes the
    manifest path and the add-on id. Unknown arguments are ignored.
    """
    args = [a for a in argv[1:] if not a.startswith("--")]
    for arg in args:
        if arg.startswith(("chrome-extension://", "moz-extension://")):
            return arg if arg.endswith("/") else arg + "/"
    if len(args) >= 2 and args[0].endswith(".json"):
        return args[1]
    return None


def check_origin(origin: str | None) -> BridgeError | None:
    if origin is None:
        return None

    if origin in allowed_origins():
        return None
    return BridgeError(
        ErrorCode.FORBIDDEN_ORIGIN,
        "this native host only answers the cpa-bridge extension",
        origin=origin[:120],
    )


def handle(
    message: dict[str, Any], origin: str | None, refused: BridgeError | None
) -> dict[str, Any]:
    """One request → one reply dict. Never raises."""
    rid = request_id(message)
    started = time.monotonic()
    mtype = "?"
    try:
        if refused is not None:
            raise refused
        envelope = parse_envelope(message)
        mtype = envelope.type
        result = dispatch.call(envelope.type, envelope.params)
        reply = ok_reply(envelope.id, result)
        logger.info(
            "ok type=%s id=%s ms=%.1f",
            safe(mtype),
            safe(rid, 40),
            (time.monotonic() - started) * 1000,
        )
        return reply
    except BridgeError as exc:
        logger.info("error type=%s id=%s code=%s", safe(mtype), safe(rid, 40), exc.code.value)
        return error_reply(rid, exc)
    except Exception as exc:  # a bug: report it, never a traceback on stdout
        logger.error(
            "internal error type=%s id=%s exc=%s", safe(mtype), safe(rid, 40), type(exc).__name__
        )
        return error_reply(
            rid,
            BridgeError(
                ErrorCode.INTERNAL_ERROR, f"the host hit an unexpected error ({type(exc).__name__})"
            ),
        )


def encode_reply(reply: dict[str, Any]) -> bytes:
    """Encode a reply; one larger than 1 MiB becomes a ``too_large`` error reply."""
    frame = encode_frame(reply)
    size = frame_body_size(frame)
    if size <= MAX_REPLY_BYTES:
        return frame
    error = BridgeError(
        ErrorCode.TOO_LARGE,
        f"the reply would be {size} bytes, over the browser's 1 MiB limit; ask for less (filter or page)",
        size=size,
        limit=MAX_REPLY_BYTES,
    )
    return encode_frame(error_reply(reply.get("id"), error))


#: Messages answered at once, even while earlier ones are still running (a write waiting for a
#: slow server): they read only local state. The reads wait their turn when a message that
#: changes that local state is still pending, so a reply never shows a state older than one
#: asked for before it.
IMMEDIATE = frozenset({"ping", "settings.get", "keys.list", "history.list"})
_LOCAL_WRITE_PREFIXES = ("settings.", "keys.", "sites.")


class _Replies:
    """Writes reply frames from several threads, one frame at a time."""

    def __init__(self, stdout: BinaryIO) -> None:
        self._stdout = stdout
        self._lock = threading.Lock()

    def send(self, frame: bytes) -> None:
        with self._lock:
            write_frame(self._stdout, frame)


class _InOrder:
    """One worker thread that runs messages in the order they came (started on first use)."""

    def __init__(
        self, run: Callable[[dict[str, Any]], bytes], send: Callable[[bytes], None]
    ) -> None:
        self._run = run
        self._send = send
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pending: list[str] = []
        self._lock = threading.Lock()

    def submit(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(_type_of(message))
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="cpa-bridge-worker", daemon=True
            )
            self._thread.start()
        self._queue.put(message)

    def local_write_pending(self) -> bool:
        with self._lock:
            return any(
                t.startswith(_LOCAL_WRITE_PREFIXES) and t not in IMMEDIATE for t in self._pending
            )

    def _loop(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                frame = self._run(message)
            finally:  # done before its reply goes out: a read sent after that reply must not wait
                with self._lock:
                    self._pending.pop(0)
            self._send(frame)

    def drain(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()


def _type_of(message: Any) -> str:
    mtype = message.get("type") if isinstance(message, dict) else None
    return mtype if isinstance(mtype, str) else ""


def serve(stdin: BinaryIO, stdout: BinaryIO, origin: str | None) -> int:
    """Answer frames until EOF. Messages run in order on a worker thread; :data:`IMMEDIATE`
    ones are answered at once, so ``ping`` and local reads never wait behind a slow write."""
    refused = check_origin(origin)
    replies = _Replies(stdout)

    def reply_to(message: dict[str, Any]) -> bytes:
        return encode_reply(handle(message, origin, refused))

    def send(frame: bytes) -> None:
        try:
            replies.send(frame)
        except OSError:  # the browser went away (broken pipe): nobody is left to answer
            pass

    worker = _InOrder(reply_to, send)
    try:
        while True:
            try:
                message = read_frame(stdin)
            except FrameTooLarge as exc:
                worker.drain()
                replies.send(
                    encode_reply(error_reply(None, BridgeError(ErrorCode.TOO_LARGE, exc.reason)))
                )
                return 0
            except FrameError as exc:
                worker.drain()
                replies.send(
                    encode_reply(error_reply(None, BridgeError(ErrorCode.BAD_FRAME, exc.reason)))
                )
                return 0
            if message is None:
                return 0
            if _type_of(message) in IMMEDIATE and not worker.local_write_pending():
                send(reply_to(message))
            else:
                worker.submit(message)
    finally:
        worker.drain()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the real stdout

    setup()
    try:
        return serve(stdin, stdout, caller_from_argv(argv))
    except (BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())
