"""Clocks: manual, scaled, and the Amsterdam wall clock behind Exact's dates."""

import time
from datetime import datetime, timezone

import pytest

from exact_sandbox import ManualClock, ScaledClock
from exact_sandbox.clock import amsterdam_offset, amsterdam_wall


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(start=1000.0)
    assert clock() == clock.now() == 1000.0
    assert clock.advance(5) == 1005.0
    assert clock.set(50.0) == 50.0 and clock() == 50.0


def test_scaled_clock_runs_faster():
    clock = ScaledClock(100.0)
    a = clock()
    time.sleep(0.05)
    assert clock() - a >= 4.0
    with pytest.raises(ValueError):
        ScaledClock(0)


@pytest.mark.parametrize("utc,offset", [
    ("2026-03-29T00:59:59", 3600), ("2026-03-29T01:00:00", 7200),
    ("2026-10-25T00:59:59", 7200), ("2026-10-25T01:00:00", 3600),
    ("2026-01-15T12:00:00", 3600), ("2026-07-15T12:00:00", 7200),
])
def test_amsterdam_summer_time_switches_at_01_utc_on_last_sundays(utc, offset):
    ts = datetime.fromisoformat(utc).replace(tzinfo=timezone.utc).timestamp()
    assert amsterdam_offset(ts) == offset


def test_amsterdam_wall_clock():
    ts = datetime(2026, 6, 25, 14, 31, tzinfo=timezone.utc).timestamp()
    assert amsterdam_wall(ts) == datetime(2026, 6, 25, 16, 31)
