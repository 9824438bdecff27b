"""Run a real CLIProxyAPI server on loopback for a test, with the same inspection API as the stand-in.

    server = RealCLIProxyAPI(binary, config_path, initial_yaml=..., secret=MGMT_KEY).start()
    server.url            # what the host is pointed at
    server.config()       # the YAML file as parsed now
    server.requests       # [(method, path), ...] of the management requests it was sent
    server.stop()         # SIGTERM to its PID, then SIGKILL

The test writes the config (``minimal_config`` adds what a server needs to start: host, port,
auth-dir, a client api key and the management block). The server is started with
``-config FILE`` at a free port and is ready once ``GET /healthz`` answers 200.

The real server keeps no request log a test can read, so ``url`` points at a recorder: a
pass-through HTTP forwarder on 127.0.0.1 that notes each management request's method and path and
relays bytes unchanged both ways (status, headers, body). The server still sees a loopback client.
``direct_url`` is the server itself.

The management secret goes into the config already bcrypt-hashed at cost 4 (``secret_hash``),
not as plaintext: the server then checks each request against a cheap hash (about 2 ms) instead
of the one it makes itself from plaintext at bcrypt's default cost (about 60 ms a request, which
made a real-server test ten times slower than its stand-in twin). The server accepts a ready hash
by design (it only hashes a value that is not one) and the client still sends the plaintext key,
so the path a request takes is the same; ``plaintext_secret=True`` keeps the server's own hashing,
for the test that covers it.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import yaml

from tests.standin.serving import BackgroundServer

MANAGEMENT_PREFIX = "/v0/management"
START_TIMEOUT = 30.0
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "content-length",
    }
)


def secret_hash(secret: str) -> str:
    """A bcrypt hash of ``secret`` at the lowest cost, in the form the server keeps in its config."""
    return bcrypt.hashpw(secret.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode("ascii")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def minimal_config(
    initial_yaml: str, *, port: int, auth_dir: Path, secret: str | None, allow_remote: bool = False
) -> str:
    """``initial_yaml`` with the settings a test server needs put in front of it.

    Keys the test's YAML sets itself win (it is appended after ours, and YAML's last key wins in
    the Go decoder too), so a test can still set e.g. ``remote-management`` on its own.
    """
    head = [
        "# written by tests/real/server.py",
        'host: "127.0.0.1"',
        f"port: {port}",
        f'auth-dir: "{auth_dir}"',
    ]
    if not any(line.startswith("api-keys:") for line in initial_yaml.splitlines()):
        head.append('api-keys: ["test-client-key-not-a-template"]')
    if "remote-management:" not in initial_yaml:
        head += [
            "remote-management:",
            f"  allow-remote: {'true' if allow_remote else 'false'}",
            f'  secret-key: "{secret or ""}"',
            "  disable-control-panel: true",
        ]
    body = "\n".join(
        line
        for line in initial_yaml.splitlines()
        if not line.startswith(("host:", "port:", "auth-dir:"))
    )
    return "\n".join(head) + "\n" + body.rstrip("\n") + "\n"


class RealCLIProxyAPI:
    """One real server process plus its request recorder."""

    def __init__(
        self,
        binary: Path,
        config_path: Path,
        *,
        initial_yaml: str,
        secret: str | None,
        allow_remote: bool = False,
        env_password: str | None = None,
        version: str = "",
        plaintext_secret: bool = False,
    ) -> None:
        self.binary = Path(binary)
        self.config_path = Path(config_path)
        self.announced_version = version
        self._initial_yaml = initial_yaml
        self._secret = secret if plaintext_secret or not secret else secret_hash(secret)
        self._allow_remote = allow_remote
        self._env_password = env_password
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.config_path.with_name("server.log")
        self.port = 0
        self.recorder = _Recorder(self)
        self.requests: list[tuple[str, str]] = []
        self._requests_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> RealCLIProxyAPI:
        last_error = ""
        for _attempt in range(5):  # a free port can be taken by another process before we bind it
            self.port = free_port()
            auth_dir = self.config_path.parent / "auths"
            auth_dir.mkdir(parents=True, exist_ok=True)
            self.config_path.write_text(
                minimal_config(
                    self._initial_yaml,
                    port=self.port,
                    auth_dir=auth_dir,
                    secret=self._secret,
                    allow_remote=self._allow_remote,
                ),
                encoding="utf-8",
            )
            self._spawn()
            if self._wait_ready():
                self.recorder.start()
                return self
            last_error = self._log_tail()
            self._kill()
        raise RuntimeError(f"{self.binary} did not start: {last_error}")

    def _spawn(self) -> None:
        """Start the binary on the config file, its output appended to ``server.log``."""
        env = {k: v for k, v in os.environ.items() if k != "MANAGEMENT_PASSWORD"}
        if self._env_password:
            env["MANAGEMENT_PASSWORD"] = self._env_password
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.binary), "-config", str(self.config_path)],
                cwd=self.config_path.parent,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return True
                connection.close()
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def _log_tail(self) -> str:
        try:
            return " | ".join(self._log_path.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "(no log)"

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the recorder, then the server by its PID."""
        self.recorder.stop()
        self._kill()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    # -- what tests look at -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.recorder.url

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def management_url(self) -> str:
        return self.url + MANAGEMENT_PREFIX

    def yaml_text(self) -> str:
        return self.config_path.read_text(encoding="utf-8")

    def reloads(self) -> int:
        """How many config reloads the server has finished (its log's "successfully reloaded")."""
        try:
            return self._log_path.read_text(errors="replace").count("config successfully reloaded")
        except OSError:
            return 0

    def config(self) -> dict[str, Any]:
        loaded = yaml.safe_load(self.yaml_text())
        return loaded if isinstance(loaded, dict) else {}

    def reset_requests(self) -> None:
        with self._requests_lock:
            self.requests.clear()

    def _record(self, method: str, path: str) -> None:
        if path == MANAGEMENT_PREFIX or path.startswith(MANAGEMENT_PREFIX + "/"):
            with self._requests_lock:
                self.requests.append((method, path))


class _Recorder(BackgroundServer):
    """The pass-through forwarder in front of a real server."""

    _thread_name = "real-cpa-recorder"

    def __init__(self, owner: RealCLIProxyAPI) -> None:
        super().__init__("127.0.0.1", 0)
        self.owner = owner

    def _make_server(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((self._host, self._port), _ForwardHandler)
        server.daemon_threads = True
        return server

    def _attach(self, server: Any) -> None:
        server.owner = self.owner


class _ForwardHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        owner: RealCLIProxyAPI = self.server.owner  # type: ignore[attr-defined]
        owner._record(self.command, urlsplit(self.path).path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", owner.port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        except OSError:
            self.close_connection = True
            return
        finally:
            upstream.close()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = do_OPTIONS = _forward
