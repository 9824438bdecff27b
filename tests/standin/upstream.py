"""A stand-in for an upstream OpenAI-compatible relay: just the model list, behind a Bearer key.

``GET <path>`` answers ``{"object":"list","data":[{"id":...,"object":"model",...}]}`` when the
request carries ``Authorization: Bearer <api_key>``, 401 JSON otherwise; any other path is 404.
``paths`` picks where the list is served: ``("/v1/models",)`` (default), ``("/models",)``, or a
prefixed path such as ``("/api/paas/v4/models",)`` for base URLs whose models sit at ``<base>/models``.

As a process::

    python -m tests.standin.upstream --api-key-env VAR --model gpt-4o-mini --model gpt-4.1 [--path /v1/models]

prints ``READY http://127.0.0.1:<port>`` and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

try:
    from tests.standin.serving import BackgroundServer, QuietHandler, QuietServer
except ImportError:  # run as a script: python tests/standin/upstream.py
    from serving import BackgroundServer, QuietHandler, QuietServer  # type: ignore[import-not-found,no-redef]

JSON_TYPE = "application/json; charset=utf-8"


class StandinUpstream(BackgroundServer):
    """The relay stand-in. ``models``, ``api_key``, ``delay_seconds`` and ``garbage`` may change at run time.

    ``requests`` logs ``(method, path, status)`` of every request, in order (never headers or keys);
    ``spans`` the ``(start, end)`` of each (``time.monotonic()``, end before the answer is sent).
    """

    def __init__(
        self,
        models: Iterable[str] = ("gpt-4o-mini",),
        api_key: str = "sk-upstream-test",
        paths: Iterable[str] = ("/v1/models",),
        host: str = "127.0.0.1",
        port: int = 0,
        delay_seconds: float = 0.0,
        garbage: bool = False,
    ) -> None:
        self.models = list(models)
        self.api_key = api_key
        self.paths = tuple(paths)
        self.delay_seconds = delay_seconds
        self.garbage = garbage
        self.requests: list[tuple[str, str, int]] = []
        self.spans: list[tuple[float, float]] = []
        super().__init__(host, port)
        self._lock = threading.Lock()

    _thread_name = "standin-upstream"

    def _make_server(self) -> _Server:
        return _Server((self._host, self._port), _Handler)

    def _attach(self, server: _Server) -> None:
        server.upstream = self

    def reset_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()
            self.spans.clear()

    def answer(self, method: str, path: str, authorization: str) -> tuple[int, bytes, str]:
        """Status, body and content type for one request."""
        if method not in ("GET", "HEAD") or path not in self.paths:
            return (
                404,
                _json({"error": {"message": "not found", "type": "invalid_request_error"}}),
                JSON_TYPE,
            )
        if not _bearer_matches(authorization, self.api_key):
            return (
                401,
                _json(
                    {
                        "error": {
                            "message": "Invalid API key",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    }
                ),
                JSON_TYPE,
            )
        if self.garbage:
            return (
                200,
                b"<html><body>502 Bad Gateway (not JSON)</body></html>",
                "text/html; charset=utf-8",
            )
        data = [
            {"id": model, "object": "model", "created": 1700000000, "owned_by": "standin-upstream"}
            for model in self.models
        ]
        return 200, _json({"object": "list", "data": data}), JSON_TYPE

    def log(self, method: str, path: str, status: int, started: float) -> None:
        """Append to :attr:`requests` and :attr:`spans`."""
        with self._lock:
            self.requests.append((method, path, status))
            self.spans.append((started, time.monotonic()))


def _bearer_matches(authorization: str, api_key: str) -> bool:
    """``Authorization: Bearer <api_key>`` (scheme case-insensitive, constant-time compare)."""
    scheme, _, token = authorization.partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(api_key)
        and hmac.compare_digest(token.encode(), api_key.encode())
    )


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class _Server(QuietServer):
    upstream: StandinUpstream


class _Handler(QuietHandler):
    """HTTP/1.1, Content-Length on every answer, silent."""

    server: _Server

    def version_string(self) -> str:
        return "upstream-standin"

    def do_GET(self) -> None:
        started = time.monotonic()
        upstream = self.server.upstream
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)
        if upstream.delay_seconds > 0:
            time.sleep(upstream.delay_seconds)
        path = urlsplit(self.path).path
        status, body, content_type = upstream.answer(
            self.command, path, self.headers.get("Authorization") or ""
        )
        upstream.log(self.command, path, status, started)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT after printing ``READY <url>``."""
    parser = argparse.ArgumentParser(description="Upstream relay stand-in (tests only)")
    parser.add_argument(
        "--model", action="append", dest="models", default=None, help="model id (repeatable)"
    )
    parser.add_argument(
        "--api-key", default=None, help="expected Bearer key (prefer --api-key-env)"
    )
    parser.add_argument(
        "--api-key-env", default=None, help="read the expected key from this env variable"
    )
    parser.add_argument(
        "--path", action="append", dest="paths", default=None, help="model-list path (repeatable)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-seconds", type=float, default=0.0)
    parser.add_argument("--garbage", action="store_true")
    args = parser.parse_args(argv)
    api_key = (
        os.environ.get(args.api_key_env, "")
        if args.api_key_env
        else (args.api_key or "sk-upstream-test")
    )
    upstream = StandinUpstream(
        args.models or ["gpt-4o-mini"],
        api_key,
        args.paths or ["/v1/models"],
        args.host,
        args.port,
        args.delay_seconds,
        args.garbage,
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    upstream.start()
    print(f"READY {upstream.url}", flush=True)
    while not stopping.wait(0.2):
        pass
    upstream.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
