"""Fault injection: ``METHOD PATH-GLOB ACTION [p=0.1 | n=3 | every=10] [times=N] [seconds=S]``.

PATH-GLOB is matched (``fnmatch``, case-sensitive) against the path after
``/api/v1/{division}/`` (``crm/Accounts``, ``salesentry/SalesEntries(guid'...')``),
``current/Me``, or ``oauth2/token`` / ``oauth2/auth`` for the OAuth endpoints.

Selection: ``n=N`` only the Nth matching request, ``every=N`` every Nth, ``p=X`` with
probability X (seeded RNG); default every matching request. ``times=N`` caps how often
the rule fires (default unlimited). Action ``429`` answers a burst of ``times`` (default
3) consecutive 429s each time it is selected; with the default selection the rule is
spent after one burst.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field

ACTIONS = ("html500", "503", "delay", "drop", "store-and-hang", "429", "expire-token")
METHODS = ("GET", "POST", "PUT", "DELETE", "*")
DEFAULT_SECONDS = {"delay": 5.0, "store-and-hang": 120.0}


class SandboxDrop(Exception):
    """The connection is closed without an answer (in-process: requests.ConnectionError)."""


class SandboxHang(Exception):
    """The request was applied but no answer comes (in-process: requests.ReadTimeout)."""

    def __init__(self, seconds: float):
        super().__init__(f"store-and-hang for {seconds} s")
        self.seconds = seconds


@dataclass
class FaultRule:
    id: int
    text: str
    method: str
    glob: str
    action: str
    p: float | None = None
    n: int | None = None
    every: int | None = None
    times: int | None = None
    seconds: float | None = None
    matched: int = 0
    fired: int = 0
    burst_left: int = 0
    spent: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "rule": self.text,
            "method": self.method,
            "glob": self.glob,
            "action": self.action,
            "p": self.p,
            "n": self.n,
            "every": self.every,
            "times": self.times,
            "seconds": self.seconds,
            "matched": self.matched,
            "fired": self.fired,
            "spent": self.spent,
        }


def parse_rule(text: str, rule_id: int = 0) -> FaultRule:
    parts = text.split()
    if len(parts) < 3:
        raise ValueError(f"fault rule needs METHOD PATH-GLOB ACTION: {text!r}")
    method, glob, action = parts[0].upper(), parts[1], parts[2].lower()
    if method not in METHODS:
        raise ValueError(f"unknown method {parts[0]!r} in fault rule (GET POST PUT DELETE *)")
    if action not in ACTIONS:
        raise ValueError(f"unknown fault action {parts[2]!r} (one of {', '.join(ACTIONS)})")
    rule = FaultRule(rule_id, text, method, glob.lstrip("/"), action)
    for opt in parts[3:]:
        key, sep, value = opt.partition("=")
        if not sep:
            raise ValueError(f"fault option {opt!r} is not key=value")
        try:
            if key == "p":
                rule.p = float(value)
                if not 0 <= rule.p <= 1:
                    raise ValueError
            elif key in ("n", "every", "times"):
                number = int(value)
                if number < 1:
                    raise ValueError
                setattr(rule, key, number)
            elif key == "seconds":
                rule.seconds = float(value)
                if rule.seconds < 0:
                    raise ValueError
            else:
                raise KeyError(key)
        except KeyError:
            raise ValueError(f"unknown fault option {key!r} (p n every times seconds)") from None
        except ValueError:
            raise ValueError(f"bad value in fault option {opt!r}") from None
    if sum(x is not None for x in (rule.p, rule.n, rule.every)) > 1:
        raise ValueError("use only one of p=, n=, every=")
    if rule.seconds is None:
        rule.seconds = DEFAULT_SECONDS.get(action)
    return rule


class FaultSet:
    def __init__(self, rng_seed: int | None = None):
        self.rules: list[FaultRule] = []
        self.rng = random.Random(rng_seed)
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, text: str) -> int:
        with self._lock:
            rule = parse_rule(text, self._next_id)
            self._next_id += 1
            self.rules.append(rule)
            return rule.id

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.id != rule_id]
            return len(self.rules) != before

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def to_list(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self.rules]

    def match(self, method: str, path: str) -> FaultRule | None:
        """The first rule that fires for this request (counting matches on every rule)."""
        with self._lock:
            hit = None
            for rule in self.rules:
                if rule.spent:
                    continue
                if rule.method not in ("*", method) or not fnmatch.fnmatchcase(path, rule.glob):
                    continue
                rule.matched += 1
                if hit is None and self._fires(rule):
                    rule.fired += 1
                    hit = rule
            return hit

    def _selected(self, rule: FaultRule) -> bool:
        if rule.n is not None:
            return rule.matched == rule.n
        if rule.every is not None:
            return rule.matched % rule.every == 0
        if rule.p is not None:
            return self.rng.random() < rule.p
        return True

    def _fires(self, rule: FaultRule) -> bool:
        if rule.action == "429":
            if rule.burst_left > 0:
                rule.burst_left -= 1
                if rule.burst_left == 0 and (_default_selection(rule) or rule.n is not None):
                    rule.spent = True
                return True
            if not self._selected(rule):
                return False
            burst = rule.times or 3
            rule.burst_left = burst - 1
            if rule.burst_left == 0 and (_default_selection(rule) or rule.n is not None):
                rule.spent = True
            return True
        if not self._selected(rule):
            return False
        if rule.times is not None and rule.fired + 1 >= rule.times:
            rule.spent = True
        if rule.n is not None:
            rule.spent = True
        return True


def _default_selection(rule: FaultRule) -> bool:
    return rule.p is None and rule.n is None and rule.every is None
