"""Exact's error block: too many failing calls on one endpoint block the app for an hour.

EXACT_API.md: "More than 10 errors (400/401/403/404 count) per endpoint per hour blocks
the app key for a while". Exact's announcement (July 2021) says per API key, user,
division, endpoint and hour, that business-rule errors count as well, and that the block
is lifted after an hour. Exact's answer to a blocked call is not public: the sandbox
answers 403 with Exact's JSON error body and a text saying the app is blocked
(*unverified*; see README).

The sandbox's reading, all configurable by the threshold only: errors are counted per
app, division (None for ``current/Me``) and endpoint (``crm/Accounts``, whatever the key
or query) over the last 3,600 seconds of the sandbox clock; the error that makes the
count exceed the threshold is still answered normally, every further call to that
endpoint is then refused for 3,600 seconds. Blocked calls do not count as errors or
against the rate limits. Threshold 0 switches it off (the default).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

WINDOW = 3600
COUNTED = frozenset((400, 401, 403, 404, 500))
_ENDPOINT_RE = re.compile(r"^([A-Za-z]+/[A-Za-z]+)")


def endpoint_of(rest: str) -> str:
    """``salesentry/SalesEntries(guid'...')/SalesEntryLines`` -> ``salesentry/salesentries``."""
    m = _ENDPOINT_RE.match(rest)
    return (m.group(1) if m else rest.split("(")[0].split("?")[0]).lower()


def blocked_text(threshold: int, endpoint: str, until: float) -> str:
    when = datetime.fromtimestamp(until, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"This app is blocked for endpoint {endpoint}: more than {threshold} failed calls "
        f"within an hour. The block is lifted at {when}."
    )


class ErrorBlocks:
    """Counters live in ``data`` (JSON-able, persisted with the sandbox state)."""

    def __init__(self, data: dict):
        self.data = data

    @staticmethod
    def _key(app: str, division, endpoint: str) -> str:
        return f"{app}|{'' if division is None else division}|{endpoint}"

    def blocked_until(self, app: str, division, endpoint: str, now: float) -> float | None:
        entry = self.data.get(self._key(app, division, endpoint))
        until = entry and entry.get("until")
        return until if until and now < until else None

    def record(self, app: str, division, endpoint: str, now: float, threshold: int) -> None:
        """Count one failed call; block the endpoint when the count exceeds ``threshold``."""
        entry = self.data.setdefault(
            self._key(app, division, endpoint), {"errors": [], "until": None}
        )
        if entry.get("until") and now >= entry["until"]:
            entry["until"] = None
        errors = [t for t in entry["errors"] if t > now - WINDOW]
        errors.append(now)
        if len(errors) > threshold:
            entry["until"] = now + WINDOW
            errors = []
        entry["errors"] = errors

    def count(self, app: str, division, endpoint: str, now: float) -> int:
        entry = self.data.get(self._key(app, division, endpoint)) or {}
        return sum(1 for t in entry.get("errors", ()) if t > now - WINDOW)
