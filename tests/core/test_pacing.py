"""The pacing rule for writes around CLIProxyAPI's debounced config reload (pure)."""

from __future__ import annotations

import pytest

from cpa_bridge.core.pacing import (
    DEBOUNCE,
    MAX_WAIT,
    RELOAD_GUARD,
    LastWrite,
    after_write,
    reload_may_have_caught,
    wait_before_write,
)

FAST = LastWrite(earliest=100.0, latest=100.002, duration=0.002)  # a 2 ms write at t=100
SLOW = LastWrite(earliest=100.0, latest=100.060, duration=0.060)  # a 60 ms write at t=100


def test_no_previous_write_sends_at_once():
    assert wait_before_write(None, 5.0) == 0.0


def test_a_write_long_after_the_previous_one_sends_at_once():
    assert wait_before_write(FAST, 100.002 + DEBOUNCE + RELOAD_GUARD) == 0.0
    assert wait_before_write(SLOW, 101.0) == 0.0


def test_a_quick_write_on_a_fast_server_lands_before_the_reload_and_sends_at_once():
    assert wait_before_write(FAST, 100.006) == 0.0
    assert wait_before_write(FAST, 100.100) == 0.0


def test_a_write_that_could_land_in_the_reload_waits_until_it_is_over():
    now = 100.125  # lands by 100.139: too close to the reload at 100.150
    assert wait_before_write(FAST, now) == pytest.approx(100.002 + DEBOUNCE + RELOAD_GUARD - now)
    now = 100.200  # the reload may be running
    assert wait_before_write(FAST, now) == pytest.approx(100.002 + DEBOUNCE + RELOAD_GUARD - now)


def test_on_a_slow_server_the_request_time_counts_toward_when_it_lands():
    # 30 ms after a 60 ms write: the next one may land at 100.090 + 2 x 60 ms, past the reload
    now = 100.090
    assert wait_before_write(SLOW, now) == pytest.approx(100.060 + DEBOUNCE + RELOAD_GUARD - now)
    # the same moment after a fast write is early enough
    assert wait_before_write(FAST, now) == 0.0


def test_back_to_back_imports_on_a_slow_server_wait_past_the_reload():
    # GET + PATCH + read-back GET + next GET at 60 ms each: the next PATCH is ready at 100.180
    wait = wait_before_write(SLOW, 100.180)
    assert 100.180 + wait >= 100.060 + DEBOUNCE + RELOAD_GUARD


def test_a_clock_step_back_never_waits_longer_than_the_cap():
    assert wait_before_write(FAST, 50.0) == MAX_WAIT


def test_a_saved_write_moves_the_window():
    assert after_write(FAST, 100.3, 100.302, saved=True) == LastWrite(
        100.3, 100.302, pytest.approx(0.002)
    )
    assert after_write(None, 7.0, 7.5, saved=True) == LastWrite(7.0, 7.5, 0.5)


def test_a_write_that_may_not_have_saved_widens_the_window():
    mark = after_write(FAST, 100.1, 100.2, saved=False)
    assert mark == LastWrite(100.0, 100.2, pytest.approx(0.1))
    # the reload may fire 150 ms after the first write's save: an early write is no longer early
    assert wait_before_write(mark, 100.21) > 0


def test_an_unsaved_write_after_the_previous_reload_starts_a_fresh_window():
    assert after_write(FAST, 101.0, 101.01, saved=False) == LastWrite(
        101.0, 101.01, pytest.approx(0.01)
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"earliest": 1.0, "latest": 2.0},
        {"earliest": 3.0, "latest": 2.0, "duration": 0.1},
        {"earliest": 1.0, "latest": 2.0, "duration": -1},
        {"earliest": True, "latest": 2.0, "duration": 0.1},
        {"earliest": "1", "latest": 2.0, "duration": 0.1},
    ],
)
def test_a_damaged_mark_is_no_mark(data):
    assert LastWrite.from_json(data) is None


def test_a_mark_round_trips():
    assert LastWrite.from_json(SLOW.to_json()) == SLOW


def test_an_early_write_answered_before_the_reload_can_start_was_not_caught():
    assert reload_may_have_caught(None, 5.0, 5.01) is None
    assert reload_may_have_caught(FAST, 100.006, 100.010) is None
    # sent after the reload was over: nothing to catch it
    assert reload_may_have_caught(FAST, 100.002 + DEBOUNCE + RELOAD_GUARD, 200.0) is None


def test_an_early_write_answered_late_may_have_landed_in_the_reload():
    # sent early, but answered only when the reload may already have read the file
    assert reload_may_have_caught(FAST, 100.006, 100.140) == pytest.approx(FAST.reload_over)
    assert reload_may_have_caught(FAST, 100.006, 100.400) == pytest.approx(FAST.reload_over)
