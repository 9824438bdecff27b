"""Start host and CLI processes for tests from a pre-imported parent (a "prefork" server).

A host or CLI process spends about 200 ms of CPU importing pydantic, httpx and the host's modules
before it reads its first frame, and the suite starts some 650 of them. This server imports all
of that once per pytest worker and then forks one child per process a test asks for. Each child
is still a process of its own: its stdin, stdout and stderr are pipes the test holds, its
environment, argv, working directory and umask are the test's, it runs ``cpa_bridge.host.main``
or ``cpa_bridge.cli.main`` and it exits with that code, so a test drives it exactly as it drives
``python -m cpa_bridge.host``. What a fork does not cover is the interpreter's start-up itself;
the tests marked ``real_exec`` (``tests/host/test_host_frames.py``, the hostile-input tests), the
browser tests and the installer tests still exec the real command, and :func:`spawn` falls back
to exec whenever the environment changes how Python starts (``PYTHON*``, ``LANG``, ``LC_*``) or
the platform has no ``os.pidfd_open``.

Wire between a test and the server (a Unix socket): the test sends one length-prefixed JSON
request with the child's three pipe ends attached (``SCM_RIGHTS``); the server answers
``pid N`` when the child runs and ``exit CODE`` (a ``Popen.returncode``) when it ends.

    python -m tests.prefork SOCKET_PATH     # serves until its stdin closes
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

ENTRY_POINTS = {"host": ("cpa_bridge.host", "main"), "cli": ("cpa_bridge.cli", "main")}
#: The environment the server starts in: this process's before any test changed it.
START_ENV = dict(os.environ)


def startup_env(env: dict[str, str]) -> dict[str, str]:
    """The variables that change how the interpreter starts (a fork cannot honour them)."""
    return {
        k: v for k, v in env.items() if k.startswith(("PYTHON", "LC_")) or k in ("LANG", "LANGUAGE")
    }


# -- the server (runs in its own process) ----------------------------------------------------


def _preload() -> None:
    """Import everything a host or CLI process may import (every handler of every route)."""
    import importlib

    from cpa_bridge.wire import dispatch

    for module_name, _fn in ENTRY_POINTS.values():
        importlib.import_module(module_name)
    for module, _fn in set(dispatch.ROUTES.values()):
        importlib.import_module(f"cpa_bridge.handlers.{module}")


def _recv_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    if len(data) < 4:
        raise ConnectionError("short request")
    (length,) = struct.unpack("=I", data[:4])
    body = data[4:]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError("short request")
        body += chunk
    return json.loads(body), list(fds)


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """Become the requested process; never returns."""
    code = 1
    try:
        if len(fds) != 3:
            raise ValueError(f"{len(fds)} fds sent, not 3")
        for fd, target in zip(fds, (0, 1, 2), strict=True):
            os.dup2(fd, target)
        os.closerange(3, 1 << 16)  # the server's socket, other children's pipes, these fds
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _fresh_std_streams()
        module_name, fn_name = ENTRY_POINTS[request["kind"]]
        module = sys.modules[module_name]
        sys.argv = [str(module.__file__), *request["argv"]]  # as ``python -m`` sets it
        code = _run(getattr(module, fn_name))
        _finalize()
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
    except BaseException as exc:
        try:
            os.write(2, f"prefork child: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _fresh_std_streams() -> None:
    """New ``sys.std*`` on fds 0-2 with the encodings this interpreter chose at its start (the
    child's start-up environment is the server's, :func:`can_fork` checks it)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        old = getattr(sys, f"__{name}__")
        stream = open(fd, mode, closefd=False, encoding=old.encoding, errors=old.errors)  # noqa: SIM115
        if old.line_buffering:
            stream.reconfigure(line_buffering=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _finalize() -> None:
    """What the interpreter does at exit: join non-daemon threads, run atexit, flush."""
    import atexit

    try:
        threading._shutdown()  # type: ignore[attr-defined]
    except Exception:
        pass
    atexit._run_exitfuncs()


def _run(main: Any) -> int:
    """``main()``'s exit code as ``sys.exit(main())`` in a fresh interpreter would give it."""
    try:
        status = main()
    except SystemExit as exc:
        status = exc.code
    except BaseException:
        import traceback

        traceback.print_exc()
        return 1
    if status is None:
        return 0
    if isinstance(status, int):
        return status & 0xFF
    print(status, file=sys.stderr)
    return 1


def serve(path: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.buffer, selectors.EVENT_READ, "stdin")
    print("ready", flush=True)
    while True:
        for key, _events in selector.select():
            if key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the test worker is gone
            elif key.data == "accept":
                conn, _ = listener.accept()
                conn.settimeout(10)
                try:
                    request, fds = _recv_request(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _child(request, fds)
                for fd in fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                selector.register(pidfd, selectors.EVENT_READ, (pid, conn))
                conn.sendall(b"pid %d\n" % pid)
            else:
                pid, conn = key.data
                selector.unregister(key.fileobj)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                try:
                    conn.sendall(b"exit %d\n" % os.waitstatus_to_exitcode(status))
                except OSError:
                    pass
                conn.close()


# -- the test side ---------------------------------------------------------------------------


class _Server:
    """This process's prefork server, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="cpa-prefork-")
        self.path = os.path.join(self.dir, "sock")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.prefork", self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env=START_ENV,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError("the prefork server did not start")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass


_server: _Server | None = None
_server_lock = threading.Lock()


def _get_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()
            import atexit

            atexit.register(_server.stop)
        return _server


class ForkedProcess:
    """The part of :class:`subprocess.Popen` the tests use, for a child of the prefork server."""

    def __init__(self, args: list[str], control: socket.socket, pipes: tuple[int, int, int]):
        self.args = args
        self._control = control
        self._buffer = b""
        self.stdin = os.fdopen(pipes[0], "wb")
        self.stdout = os.fdopen(pipes[1], "rb")
        self.stderr = os.fdopen(pipes[2], "rb")
        self.returncode: int | None = None
        self.pid = int(self._line(timeout=30).removeprefix("pid "))

    def _line(self, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._control.settimeout(left)
            try:
                chunk = self._control.recv(64)
            except (TimeoutError, BlockingIOError):
                raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
            if not chunk:
                raise RuntimeError("the prefork server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("ascii")

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = int(self._line(timeout).removeprefix("exit "))
            self._control.close()
        return self.returncode

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def can_fork(env: dict[str, str]) -> bool:
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        return False
    return startup_env(env) == startup_env(START_ENV)


def spawn(kind: str, argv: list[str], env: dict[str, str]) -> ForkedProcess:
    """A child running ``kind`` (``host`` or ``cli``) with ``argv`` and exactly ``env``."""
    server = _get_server()
    umask = os.umask(0o022)
    os.umask(umask)
    body = json.dumps(
        {"kind": kind, "argv": argv, "env": env, "cwd": os.getcwd(), "umask": umask}
    ).encode("utf-8")
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        control.connect(server.path)
        socket.send_fds(
            control, [struct.pack("=I", len(body)) + body], [stdin_r, stdout_w, stderr_w]
        )
    finally:
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)
    return ForkedProcess([kind, *argv], control, (stdin_w, stdout_r, stderr_r))


def communicate(proc: ForkedProcess, data: bytes, timeout: float | None) -> tuple[bytes, bytes]:
    """``Popen.communicate`` for a forked child: feed ``data``, collect both outputs."""
    out: list[bytes] = []
    err: list[bytes] = []

    def feed() -> None:
        try:
            if data:
                proc.stdin.write(data)
            proc.stdin.close()
        except BrokenPipeError:
            pass

    def drain(stream: Any, into: list[bytes]) -> None:
        into.append(stream.read())
        stream.close()

    threads = [
        threading.Thread(target=feed, daemon=True),
        threading.Thread(target=drain, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=drain, args=(proc.stderr, err), daemon=True),
    ]
    for thread in threads:
        thread.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(proc.args, timeout or 0)
    proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic()) + 5)
    return b"".join(out), b"".join(err)


if __name__ == "__main__":
    serve(sys.argv[1])
