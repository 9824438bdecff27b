"""Shared pieces of the benchmarks: throwaway dirs, a host driver, the stand-in, result rows.

Everything runs against 127.0.0.1 only; every loop is bounded; every process started here
is stopped here (``Host.close`` kills after a timeout, ``standin`` stops its server).
"""

from __future__ import annotations

import json
import os
import platform
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # for tests.standin (the stand-in CLIProxyAPI)
    sys.path.insert(0, str(REPO))

PYTHON = sys.executable
ORIGIN = "chrome-extension://jfnngfphkbinbcdgkkoakjbddhegofmn/"
HOST_MODULE = [PYTHON, "-m", "cpa_bridge.host", ORIGIN]
HOST_SCRIPT = [str(Path(PYTHON).parent / "cpa-bridge-host"), ORIGIN]
SECRET = "bench-mgmt-key-0123456789"
REPLY_TIMEOUT = 60.0

OPENAI = "openai-compatibility"
CLAUDE = "claude-api-key"


# ---------------------------------------------------------------------------------------------
# Result rows
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One figure, its reference and its budget. ``ok`` is None for informational rows."""

    bench: str
    metric: str
    value: float
    unit: str
    reference: str = ""
    ref_value: float | None = None
    ratio: float | None = None
    budget: str = ""
    ok: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    section: str = ""  # the bench module, set by run.py

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p99_ms(samples: list[float]) -> float:
    """Nearest-rank 99th percentile, in ms."""
    ordered = sorted(samples)
    rank = max(1, -(-99 * len(ordered) // 100))  # ceil(0.99 * n)
    return ordered[rank - 1] * 1000


# ---------------------------------------------------------------------------------------------
# Throwaway HOME / XDG dirs
# ---------------------------------------------------------------------------------------------


@contextmanager
def temp_home(log: str | None = None) -> Iterator[tuple[Path, dict[str, str]]]:
    """A throwaway HOME with XDG dirs; yields (home, env). ``log`` sets CPA_BRIDGE_LOG (None: default)."""
    home = Path(tempfile.mkdtemp(prefix="cpa-bridge-bench-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPA_BRIDGE_")}
        for name, sub in (
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_CACHE_HOME", ".cache"),
            ("XDG_STATE_HOME", ".local/state"),
        ):
            (home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(home / sub)
        env["HOME"] = str(home)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env.pop("PYTHONSTARTUP", None)
        if log is not None:
            env["CPA_BRIDGE_LOG"] = log
        yield home, env
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Host driver (native-messaging frames over pipes)
# ---------------------------------------------------------------------------------------------


def frame(obj: Any) -> bytes:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return struct.pack("=I", len(body)) + body


def request_frame(mtype: str, params: dict[str, Any] | None = None, rid: Any = 1) -> bytes:
    return frame({"v": 1, "id": rid, "type": mtype, "params": params or {}})


class Host:
    """A host process spoken to over stdin/stdout frames (the ``connectNative`` path)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self._next_id = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._in, view)
            view = view[written:]

    def _read(self, n: int, timeout: float) -> bytes:
        out = bytearray()
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise TimeoutError(f"no reply from the host within {timeout} s")
            chunk = os.read(self._out, n - len(out))
            if not chunk:
                raise EOFError("the host closed stdout")
            out += chunk
        return bytes(out)

    def read_raw(self, timeout: float = REPLY_TIMEOUT) -> bytes:
        (length,) = struct.unpack("=I", self._read(4, timeout))
        return self._read(length, timeout)

    def read_reply(self, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        return json.loads(self.read_raw(timeout))

    def call(
        self, mtype: str, params: dict[str, Any] | None = None, timeout: float = REPLY_TIMEOUT
    ) -> dict[str, Any]:
        self._next_id += 1
        self.send(request_frame(mtype, params, self._next_id))
        reply = self.read_reply(timeout)
        if reply.get("id") != self._next_id:
            raise RuntimeError(f"reply out of order: {reply!r:.300}")
        return reply

    def ok(
        self, mtype: str, params: dict[str, Any] | None = None, timeout: float = REPLY_TIMEOUT
    ) -> dict[str, Any]:
        reply = self.call(mtype, params, timeout)
        if not reply.get("ok"):
            raise RuntimeError(f"{mtype} failed: {reply.get('error')!r:.500}")
        return reply["result"]

    def status_kib(self) -> dict[str, int]:
        """VmRSS / VmHWM (KiB) of the host process, from /proc/<pid>/status."""
        values = {}
        with open(f"/proc/{self.pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, amount = line.split(":", 1)
                    values[name] = int(amount.split()[0])
        return values

    def close(self, timeout: float = 10.0) -> int:
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()  # type: ignore[union-attr]
        return code

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# The stand-in CLIProxyAPI (in-process, 127.0.0.1, ephemeral port)
# ---------------------------------------------------------------------------------------------


def openai_provider(i: int, keys: int = 5, models: int = 20) -> dict[str, Any]:
    return {
        "name": f"provider-{i}",
        "base-url": f"https://relay-{i}.example.invalid/v1",
        "api-key-entries": [
            {"api-key": f"sk-bench-{i:05d}-{k}-0123456789abcdef"} for k in range(keys)
        ],
        "models": [{"name": f"model-{m}", "alias": f"alias-{i}-{m}"} for m in range(models)],
    }


@contextmanager
def standin(config: dict[str, Any] | None = None) -> Iterator[Any]:
    """A started stand-in CLIProxyAPI on a temp config.yaml; stopped on exit."""
    import yaml

    from tests.standin.cliproxyapi import StandinCLIProxyAPI

    folder = Path(tempfile.mkdtemp(prefix="cpa-bridge-bench-cpa-"))
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config or {OPENAI: []}, sort_keys=False), encoding="utf-8")
    server = StandinCLIProxyAPI(path, secret=SECRET).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def standin_process(config: dict[str, Any] | None = None) -> Iterator[str]:
    """The stand-in as its own process (``python -m tests.standin.cliproxyapi``); yields its URL.

    Used where timings matter, so the server does not share the benchmark's GIL.
    """
    import yaml

    folder = Path(tempfile.mkdtemp(prefix="cpa-bridge-bench-cpa-"))
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config or {OPENAI: []}, sort_keys=False), encoding="utf-8")
    proc = subprocess.Popen(
        [PYTHON, "-m", "tests.standin.cliproxyapi", "--config", str(path), "--secret", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if not select.select([proc.stdout], [], [], 30)[0]:
            raise TimeoutError("the stand-in did not start within 30 s")
        line = proc.stdout.readline().strip()
        if not line.startswith("READY http://127.0.0.1:"):
            raise RuntimeError(f"unexpected stand-in output {line!r}")
        yield line.split(" ", 1)[1]
    finally:
        stop_process(proc)
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


def point_host_at(host: Host, url: str) -> None:
    """Make the stand-in at ``url`` (http://127.0.0.1:port) the host's default target."""
    host.ok("settings.set", {"management_url": url, "management_key": SECRET})


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": cores,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "pydantic": version("pydantic"),
        "httpx": version("httpx"),
        "cpa_bridge": version("cpa-bridge"),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
