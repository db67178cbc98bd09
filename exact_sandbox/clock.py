"""Clocks for the sandbox: real time, real time sped up, and a manual clock for tests.

A clock is any callable returning epoch seconds (float). Everything time-based in
the sandbox (token lifetimes, rate-limit windows, authorization codes, dates
written on records) reads the clock it was given, never ``time.time`` directly.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc


class ManualClock:
    """A clock that only moves when told to. ``clock()`` returns epoch seconds."""

    def __init__(self, start: float | None = None):
        self._now = float(time.time() if start is None else start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    __call__ = now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, ts: float) -> float:
        with self._lock:
            self._now = float(ts)
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self.now()!r})"


class ScaledClock:
    """Real time running ``scale`` times faster, starting at the real time of creation."""

    def __init__(self, scale: float = 1.0, start: float | None = None):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = float(scale)
        self._real_start = time.time()
        self._start = self._real_start if start is None else float(start)

    def now(self) -> float:
        return self._start + (time.time() - self._real_start) * self.scale

    __call__ = now


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def amsterdam_offset(ts: float) -> int:
    """UTC offset of Europe/Amsterdam in seconds at epoch ``ts`` (EU summer-time rule)."""
    utc = datetime.fromtimestamp(ts, UTC)
    start = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), UTC)
    end = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), UTC)
    start += timedelta(hours=1)
    end += timedelta(hours=1)
    return 7200 if start <= utc < end else 3600


def amsterdam_wall(ts: float) -> datetime:
    """Naive datetime of the Amsterdam wall clock at epoch ``ts``."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None) + timedelta(
        seconds=amsterdam_offset(ts)
    )


def to_amsterdam_wall(dt: datetime) -> datetime:
    """An aware datetime converted to naive Amsterdam wall-clock time (naive stays as is)."""
    if dt.tzinfo is None:
        return dt
    return amsterdam_wall(dt.timestamp())
