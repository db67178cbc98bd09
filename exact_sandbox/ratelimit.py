"""Exact's rate limits: per app and division, a fixed clock minute and a UTC day.

Every call whose URL holds a division counts, whatever its outcome. Headers carry
the limits, what remains and the resets as epoch milliseconds.
"""

from __future__ import annotations

import math


def minute_reset_ms(now: float) -> int:
    return int((math.floor(now / 60) + 1) * 60 * 1000)


def day_reset_ms(now: float) -> int:
    return int((math.floor(now / 86400) + 1) * 86400 * 1000)


class RateLimits:
    """Counters live in ``data`` (a JSON-able dict, persisted with the sandbox state)."""

    def __init__(self, data: dict, minutely_limit: int = 60, daily_limit: int = 5000):
        self.data = data
        self.minutely_limit = minutely_limit
        self.daily_limit = daily_limit

    def _counter(self, client_id: str, division: int, now: float) -> dict:
        c = self.data.setdefault(f"{client_id}|{division}", {})
        minute, day = int(now // 60), int(now // 86400)
        if c.get("minute") != minute:
            c["minute"], c["minute_used"] = minute, 0
        if c.get("day") != day:
            c["day"], c["day_used"] = day, 0
        return c

    def hit(self, client_id: str, division: int, now: float) -> tuple[str | None, dict]:
        """Count one call. Returns (exhausted family or None, headers to send)."""
        c = self._counter(client_id, division, now)
        c["minute_used"] += 1
        c["day_used"] += 1
        daily = self._daily(c, now)
        minutely = self._minutely(c, now)
        if c["minute_used"] > self.minutely_limit:
            return "minutely", minutely
        if c["day_used"] > self.daily_limit:
            return "daily", daily
        return None, {**daily, **minutely}

    def _daily(self, c: dict, now: float) -> dict:
        return {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(max(0, self.daily_limit - c["day_used"])),
            "X-RateLimit-Reset": str(day_reset_ms(now)),
        }

    def _minutely(self, c: dict, now: float) -> dict:
        return {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(max(0, self.minutely_limit - c["minute_used"])),
            "X-RateLimit-Minutely-Reset": str(minute_reset_ms(now)),
        }

    def exhausted_minutely_headers(self, now: float) -> dict:
        """Headers of a (fault-injected) 429 of the minutely family."""
        return {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": "0",
            "X-RateLimit-Minutely-Reset": str(minute_reset_ms(now)),
        }

    def usage(self, client_id: str, division: int, now: float) -> dict:
        c = self._counter(client_id, division, now)
        return {"minute_used": c["minute_used"], "day_used": c["day_used"]}
