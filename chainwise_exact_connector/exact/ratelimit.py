"""Exact's per-division quotas, read from the X-RateLimit-* response headers.

Exact counts per app and division: about 60 calls a (clock) minute and 5,000 a day.
Every response whose URL holds a division reports what is left; a 429 carries only the
family that ran out. Resets come in epoch milliseconds; we keep epoch seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, fields

from .errors import RateLimited

_HEADERS = {
    "daily_limit": "x-ratelimit-limit",
    "daily_remaining": "x-ratelimit-remaining",
    "daily_reset": "x-ratelimit-reset",
    "minutely_limit": "x-ratelimit-minutely-limit",
    "minutely_remaining": "x-ratelimit-minutely-remaining",
    "minutely_reset": "x-ratelimit-minutely-reset",
}


def _lower_headers(headers) -> dict[str, str]:
    return {str(k).lower(): v for k, v in dict(headers or {}).items()}


@dataclass
class RateLimitState:
    """What Exact last reported for one division. Resets are epoch seconds."""

    minutely_limit: int | None = None
    minutely_remaining: int | None = None
    minutely_reset: float | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: float | None = None

    def update_from_headers(self, headers) -> bool:
        """Take whatever headers are present (either family alone is fine).

        Returns True when at least one header was understood; malformed values are ignored.
        """
        lowered = _lower_headers(headers)
        seen = False
        for name, header in _HEADERS.items():
            raw = lowered.get(header)
            if raw is None or str(raw).strip() == "":
                continue
            try:
                number = int(float(str(raw).strip()))
            except ValueError:
                continue
            setattr(self, name, number / 1000.0 if name.endswith("_reset") else number)
            seen = True
        return seen

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> RateLimitState:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


class RateLimiter:
    """Keeps a RateLimitState per division and waits when the minute is spent.

    ``clock`` and ``sleeper`` are injectable so tests take no real time. The state can be
    snapshotted to a dict and restored, so workers can share it through the database.
    """

    def __init__(self, clock=time.time, sleeper=time.sleep, margin: float = 0.5):
        self.clock = clock
        self.sleeper = sleeper
        self.margin = margin
        self._states: dict[str, RateLimitState] = {}
        self._lock = threading.Lock()

    def state(self, division) -> RateLimitState:
        key = str(division)
        with self._lock:
            if key not in self._states:
                self._states[key] = RateLimitState()
            return self._states[key]

    def restore(self, division, data: dict | None) -> None:
        with self._lock:
            self._states[str(division)] = RateLimitState.from_dict(data)

    def known_divisions(self) -> list[str]:
        """The divisions (as strings) this limiter holds a state for, e.g. to snapshot all."""
        with self._lock:
            return list(self._states)

    def snapshot(self, division) -> dict:
        return self.state(division).to_dict()

    def update(self, division, headers) -> bool:
        """Record the headers of a response for ``division``."""
        return self.state(division).update_from_headers(headers)

    def before_request(self, division) -> None:
        """Wait until the minute resets when it is spent; refuse when the day is spent.

        A spent day raises RateLimited(family="daily") instead of calling Exact: that call
        would only get a 429, and the reset may be hours away.
        """
        state = self.state(division)
        now = self.clock()
        if (
            state.daily_remaining is not None
            and state.daily_remaining <= 0
            and state.daily_reset is not None
            and state.daily_reset > now
        ):
            raise RateLimited(
                "The daily Exact Online API quota of this division is spent.",
                reset_at=state.daily_reset,
                family="daily",
            )
        if (
            state.minutely_remaining is not None
            and state.minutely_remaining <= 0
            and state.minutely_reset is not None
            and state.minutely_reset > now
        ):
            self.sleeper(state.minutely_reset - now + self.margin)
            # The new minute's count is unknown until the next response reports it.
            state.minutely_remaining = None

    def daily_remaining(self, division) -> int | None:
        state = self.state(division)
        if state.daily_reset is not None and state.daily_reset <= self.clock():
            return state.daily_limit  # the day has turned over since Exact last reported
        return state.daily_remaining

    def daily_reset(self, division) -> float | None:
        return self.state(division).daily_reset

    def daily_exhausted(self, division, reserve_fraction: float = 0.10) -> bool:
        """True when less than ``reserve_fraction`` of the daily quota is left.

        The reserve keeps room for people working in Exact through other apps' calls
        and for our own interactive actions when a batch stops.
        """
        remaining = self.daily_remaining(division)
        if remaining is None:
            return False
        limit = self.state(division).daily_limit or 0
        return remaining <= max(0, int(limit * reserve_fraction))
