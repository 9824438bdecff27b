"""Drive a real ``cpa-bridge-host`` process over native-messaging frames (and the CLI)."""

from __future__ import annotations

import itertools
import json
import os
import select
import struct
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from tests import prefork

EXTENSION_ORIGIN = "chrome-extension://jfnngfphkbinbcdgkkoakjbddhegofmn/"


def frame(obj: Any) -> bytes:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return struct.pack("=I", len(body)) + body


class HostProcess:
    """A host subprocess. ``call`` sends one request and returns its reply frame."""

    def __init__(self, proc: subprocess.Popen[bytes] | prefork.ForkedProcess) -> None:
        self.proc = proc
        self._ids = itertools.count(1)
        self.replies: list[dict[str, Any]] = []

    @classmethod
    def start(
        cls, *argv: str, env: dict[str, str] | None = None, real_exec: bool = False
    ) -> HostProcess:
        """A host with ``argv`` (default: the extension's origin) and ``os.environ`` + ``env``,
        forked from the prefork server unless ``real_exec`` (see :mod:`tests.prefork`)."""
        args = list(argv) if argv else [EXTENSION_ORIGIN]
        full_env = {**os.environ, **(env or {})}
        if not real_exec and prefork.can_fork(full_env):
            return cls(prefork.spawn("host", args, full_env))
        proc = subprocess.Popen(
            [sys.executable, "-m", "cpa_bridge.host", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
        )
        return cls(proc)

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read(self, n: int, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        out = b""
        while len(out) < n:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise TimeoutError(f"host sent no reply within {timeout} s")
            chunk = os.read(fd, n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def read_reply(self, timeout: float = 30.0) -> dict[str, Any] | None:
        header = self._read(4, timeout)
        if not header:
            return None
        assert len(header) == 4, f"short header {header!r}"
        (length,) = struct.unpack("=I", header)
        body = self._read(length, timeout)
        assert len(body) == length, "short reply body"
        reply = json.loads(body.decode("utf-8"))
        reply["_size"] = length
        self.replies.append(reply)
        return reply

    def request(self, message: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        self.send_raw(frame(message))
        reply = self.read_reply(timeout)
        assert reply is not None, "host closed stdout without replying"
        return reply

    def call(
        self, mtype: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        rid = f"t{next(self._ids)}"
        reply = self.request({"v": 1, "id": rid, "type": mtype, "params": params or {}}, timeout)
        assert reply["id"] == rid, reply
        return reply

    def close(self, timeout: float = 10.0) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def stderr_text(self) -> str:
        self.close()
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")

    def stdout_rest(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


@dataclass
class CLIResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    timeout: float = 60,
    real_exec: bool = False,
) -> CLIResult:
    """``cpa-bridge ARGS`` with ``stdin`` and ``os.environ`` + ``env``, forked from the prefork
    server unless ``real_exec`` (see :mod:`tests.prefork`)."""
    full_env = {**os.environ, **(env or {})}
    data = stdin.encode("utf-8")
    if not real_exec and prefork.can_fork(full_env):
        forked = prefork.spawn("cli", list(args), full_env)
        out, err = prefork.communicate(forked, data, timeout)
        code = forked.wait()
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "cpa_bridge.cli", *args],
            input=data,
            capture_output=True,
            env=full_env,
            timeout=timeout,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    return CLIResult(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
