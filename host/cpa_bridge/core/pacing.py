"""When a write may be sent to CLIProxyAPI without landing in its config reload (pure).

CLIProxyAPI (v6.10.9 and v7.2.140, ``internal/watcher/config_reload.go``) reloads
config.yaml :data:`DEBOUNCE` (150 ms) after the last file event: it reads and parses the
file, swaps the parsed config in (the management handler's too), then takes the hash that
later events are compared with from a *second* read of the file. A management write saved
between the reload's read and its swap is reverted in memory, and since that second read
already saw it, the write's own file event is skipped as "unchanged": the server keeps the
older config, and its next write saves it over the file, losing the earlier write on disk
too.

A write saved *before* the reload fires is safe (its file event restarts the timer), and so
is one saved after the swap. The rule, with ``previous`` the last write to the server
(saved, if at all, between its send and its answer):

* early: if the write surely lands before the earliest moment the reload can fire
  (``previous.sent + DEBOUNCE``, less :data:`EARLY_MARGIN`, the request counted at twice the
  previous write's duration plus :data:`DURATION_SLACK`), send now;
* late: from ``previous.done + DEBOUNCE + RELOAD_GUARD`` on, the reload is over: send now;
* in between, wait for the late moment.

A write that failed (or whose answer never came) may or may not have saved: it widens the
window (the reload may fire after the earlier saved write, or after this one) instead of
moving it. :data:`RELOAD_GUARD` covers the reload itself (read, parse, client rebuild, swap:
milliseconds on an ordinary config) and timer and file-event latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: CLIProxyAPI's ``configReloadDebounce`` (internal/watcher/watcher.go, v6.10.9 and v7.2.140).
DEBOUNCE = 0.150
#: From the debounce's end until the reload has surely swapped its config in.
RELOAD_GUARD = 0.100
#: How much earlier than the earliest possible reload an early write must have landed.
EARLY_MARGIN = 0.020
#: Added to twice the previous write's duration when guessing how long the next one takes.
DURATION_SLACK = 0.010
#: Never wait longer than this (a clock step must not stall a write).
MAX_WAIT = DEBOUNCE + RELOAD_GUARD + 0.050


@dataclass(frozen=True)
class LastWrite:
    """The last write to one server, in wall-clock seconds (shared by processes).

    ``earliest``/``latest`` bound when the server last saved config.yaml because of it;
    ``duration`` is how long that request took."""

    earliest: float
    latest: float
    duration: float

    @property
    def reload_over(self) -> float:
        """From when the server's reload after this write is surely over."""
        return self.latest + DEBOUNCE + RELOAD_GUARD

    def to_json(self) -> dict[str, float]:
        return {"earliest": self.earliest, "latest": self.latest, "duration": self.duration}

    @staticmethod
    def from_json(data: Any) -> LastWrite | None:
        """A :class:`LastWrite` from its JSON, or ``None`` for anything else."""
        if not isinstance(data, dict):
            return None
        values = [data.get(name) for name in ("earliest", "latest", "duration")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return None
        earliest, latest, duration = (float(v) for v in values)  # type: ignore[arg-type]
        if not (earliest <= latest and duration >= 0):
            return None
        return LastWrite(earliest, latest, duration)


def wait_before_write(last: LastWrite | None, now: float) -> float:
    """Seconds to wait before sending a write at ``now`` (0: send now)."""
    if last is None:
        return 0.0
    if now >= last.reload_over:
        return 0.0
    if now < last.latest:  # the clock stepped back: nothing is known, wait the longest
        return MAX_WAIT
    lands_by = now + 2 * last.duration + DURATION_SLACK
    if lands_by <= last.earliest + DEBOUNCE - EARLY_MARGIN:
        return 0.0
    return min(last.reload_over - now, MAX_WAIT)


def reload_may_have_caught(last: LastWrite | None, sent: float, done: float) -> float | None:
    """After a write sent at ``sent`` and answered at ``done``: ``None`` when it surely did not
    land in the reload that ``last`` set off, else the moment that reload is surely over.

    A write sent early (before ``last.reload_over``, as :func:`wait_before_write` allows) was
    meant to land before the reload can start; on a busy machine or server it can still land
    later than that guess. Its answer tells: answered before the reload could start, it saved
    before it too. Otherwise a read-back before the returned moment could see the write the
    swap is about to revert."""
    if last is None or sent >= last.reload_over:
        return None
    if done <= last.earliest + DEBOUNCE - EARLY_MARGIN:
        return None
    return last.reload_over


def after_write(last: LastWrite | None, sent: float, done: float, saved: bool) -> LastWrite:
    """The :class:`LastWrite` once a write sent at ``sent`` ended at ``done``: ``saved`` when
    the server answered that it saved; otherwise the window only widens."""
    duration = max(done - sent, 0.0)
    if saved or last is None or last.reload_over <= sent:
        return LastWrite(sent, max(done, sent), duration)
    return LastWrite(min(last.earliest, sent), max(last.latest, done), max(duration, last.duration))
