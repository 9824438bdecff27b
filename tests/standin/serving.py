"""What both stand-ins share: a quiet threading HTTP server and its start/stop lifecycle."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    """Daemon threads, address reuse, and no traceback on a client disconnect (expected in tests)."""

    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet."""


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (every answer carries Content-Length), a read timeout, no access log."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as Go's net/http sets it: without it a kept-alive client waits out the
    # 40 ms delayed ACK between the header and body writes of each answer.
    disable_nagle_algorithm = True
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


class BackgroundServer:
    """Serves ``_handler`` in a daemon thread. Subclasses set ``_server_class``, ``_handler``,
    ``_thread_name`` and may override :meth:`_attach` (link the server to its owner) and
    :meth:`_before_close` (e.g. cut keep-alive connections)."""

    _server_class: type[ThreadingHTTPServer]
    _handler: type[BaseHTTPRequestHandler]
    _thread_name = "standin"

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> ThreadingHTTPServer:
        return self._server_class((self._host, self._port), self._handler)

    def _attach(self, server: Any) -> None:
        """Give the server a reference to its owner (handlers reach state through it)."""

    def _before_close(self, server: Any) -> None:
        """Called after the server stopped accepting, before the thread is joined."""

    def start(self) -> Self:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = self._make_server()
        self._attach(self._server)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=self._thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        self._before_close(server)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` (no path)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"
