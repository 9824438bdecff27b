"""Which CLIProxyAPI *server* a target is, and what this host knows of its key failures.

Two targets can name one server (``127.0.0.1`` and ``localhost``, a name and its
address): writes to them share one lock, and they share the server's failure count.
CLIProxyAPI bans a client IP for :data:`BAN_MINUTES` minutes after :data:`BAN_FAILURES`
failed management keys, so:

* every 401 is recorded per server (``<data>/servers/<digest>.json``); replies carry
  ``failures_seen``, how many this host itself received in the last 30 minutes (other
  clients' failures are unknown, so no "attempts left" is ever claimed);
* within one operation (one message, including a fan-out over targets) the first
  request with each key to a server goes alone, and after one 401 or ``banned`` from a
  server nothing more is sent to it: one operation spends at most one of the 5 failures.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cpa_bridge import operation
from cpa_bridge.core import pacing
from cpa_bridge.errors import BridgeError, ErrorCode
from cpa_bridge.store import paths, storage

BAN_FAILURES = 5
BAN_MINUTES = 30
LOCK_TIMEOUT = 60.0


def ban_details(server_id: str | None) -> dict[str, int]:
    """The ``details`` every ``unauthorized`` and ``banned`` error carries."""
    details = {"ban_failures": BAN_FAILURES, "ban_minutes": BAN_MINUTES}
    seen = failures_seen(server_id) if server_id else 0
    if seen > 0:
        details["failures_seen"] = seen
    return details


# -- identity -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _addresses(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(sorted({str(info[4][0]) for info in infos}))


def identity(management_url: str) -> str:
    """``scheme://address:port`` of the server behind a management URL: the resolved address
    (every loopback name and address is ``loopback``), not the spelling of the URL."""
    parts = urlsplit(management_url)
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    found = _addresses(host, port) if host else ()
    if found and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found):
        address = "loopback"
    elif found:
        address = found[0]
    else:
        address = host
    return f"{scheme}://{address}:{port}"


def _digest(server_id: str) -> str:
    return hashlib.sha256(server_id.encode("utf-8")).hexdigest()[:16]


# -- the write lock -----------------------------------------------------------------------
@contextmanager
def lock(server_id: str, timeout: float | None = None) -> Iterator[None]:
    """Serialise writes to one server across host processes and the CLI; ``busy`` after
    ``timeout`` (default :data:`LOCK_TIMEOUT`)."""
    from filelock import FileLock, Timeout  # noqa: PLC0415 (start-up: filelock loads only for a write)

    timeout = LOCK_TIMEOUT if timeout is None else timeout
    folder = paths.locks_dir()
    storage.ensure_private_dir(folder)
    path = folder / f"{_digest(server_id)}.lock"
    file_lock = FileLock(str(path), timeout=timeout, mode=0o600)
    try:
        file_lock.acquire()
    except Timeout:
        raise BridgeError(
            ErrorCode.BUSY,
            f"another write to this CLIProxyAPI is still running after {timeout:g} s; nothing was written. "
            "Try again when it has finished.",
            waited_s=timeout,
        ) from None
    except OSError as exc:
        raise storage.storage_error("create the lock file in", folder, exc) from None
    try:
        yield
    finally:
        file_lock.release()


# -- pacing writes around the server's config reload (cpa_bridge.core.pacing) -------------------
def _last_write_file(server_id: str) -> Path:
    return paths.locks_dir() / f"{_digest(server_id)}.last-write.json"


def last_write(server_id: str) -> pacing.LastWrite | None:
    """The last write to the server by any cpa-bridge process (read under :func:`lock`)."""
    try:
        return pacing.LastWrite.from_json(storage.read_json(_last_write_file(server_id), None))
    except BridgeError:
        return None


def paced_write(server_id: str, send: Callable[[], None]) -> float | None:
    """Run ``send`` (one PUT, PATCH or DELETE; the caller holds :func:`lock`) once it cannot
    land in the server's config reload after the previous write, and record when it ran.

    Returns ``None``, or (:func:`pacing.reload_may_have_caught`) the moment after which a
    read-back shows whether the previous write's reload reverted this one."""
    last = last_write(server_id)
    wait = pacing.wait_before_write(last, time.time())
    if wait > 0:
        time.sleep(wait)
    sent = time.time()
    saved = False
    try:
        send()
        saved = True
    finally:
        done = time.time()
        mark = pacing.after_write(last, sent, done, saved)
        try:
            # advice, not data: no fsync (a crash loses at most one pacing mark)
            storage.write_json_atomic(_last_write_file(server_id), mark.to_json(), durable=False)
        except BridgeError:
            pass  # pacing is advice; a full disk must not hide the write's own outcome
    return pacing.reload_may_have_caught(last, sent, done)


def sleep_until(moment: float) -> None:
    """Wait until ``moment`` (``time.time()``, the clock of the pacing marks)."""
    time.sleep(max(0.0, moment - time.time()))


# -- failures this host has seen ------------------------------------------------------------
def _failures_file(server_id: str) -> Path:
    return paths.servers_dir() / f"{_digest(server_id)}.json"


def _recent(server_id: str) -> list[float]:
    try:
        data = storage.read_json(_failures_file(server_id), default={})
    except BridgeError:
        return []
    stamps = data.get("failures") if isinstance(data, dict) else None
    cutoff = time.time() - BAN_MINUTES * 60
    return (
        [s for s in stamps if isinstance(s, (int, float)) and s > cutoff]
        if isinstance(stamps, list)
        else []
    )


def failures_seen(server_id: str) -> int:
    """How many 401s this host received from the server in the last 30 minutes."""
    return len(_recent(server_id))


def record_failure(server_id: str) -> int:
    """Record one 401 from the server; returns :func:`failures_seen` including it."""
    stamps = [*_recent(server_id), time.time()]
    try:
        storage.write_json_atomic(
            _failures_file(server_id), {"server": server_id, "failures": stamps[-50:]}
        )
    except BridgeError:
        pass  # the count is advice; a full disk must not hide the 401 itself
    return len(stamps)


# -- one operation, at most one failure per server -------------------------------------------
@dataclass
class Operation:
    """What one message has learnt about servers so far (shared by the threads of a fan-out)."""

    failed: set[str] = field(default_factory=set)
    confirmed: set[tuple[str, str]] = field(default_factory=set)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _lock_for(self, server_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(server_id, threading.Lock())

    @contextmanager
    def sending(self, server_id: str, key: str) -> Iterator[None]:
        """Around one request with ``key``: refuse after a failure on this server in this
        operation; the first request with a key goes alone (others wait for its answer)."""
        key_id = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        if (server_id, key_id) in self.confirmed:
            yield
            return
        with self._lock_for(server_id):
            if server_id in self.failed:
                raise BridgeError(
                    ErrorCode.AUTH_BLOCKED,
                    "CLIProxyAPI at this address already rejected a management key in this operation; "
                    f"nothing more is sent to it now ({BAN_FAILURES} failures ban this IP for {BAN_MINUTES} "
                    "minutes). Check the keys and try again.",
                    **ban_details(server_id),
                )
            try:
                yield
            except BridgeError as exc:
                if exc.code in (ErrorCode.UNAUTHORIZED, ErrorCode.BANNED):
                    self.failed.add(server_id)
                raise
            self.confirmed.add((server_id, key_id))


def current() -> Operation:
    """The running message's :class:`Operation` (a fresh one outside a message)."""
    return operation.state("servers", Operation)
