"""Per-division quota state from Exact's X-RateLimit-* headers."""

import pytest

from chainwise_exact_connector.exact import RateLimited, RateLimiter, RateLimitState

try:
    from tests.exact_fixtures import T0, FakeClock
except ImportError:
    from exact_fixtures import T0, FakeClock

MS = 1000

BOTH = {
    "X-RateLimit-Limit": "5000",
    "X-RateLimit-Remaining": "4990",
    "X-RateLimit-Reset": str(int((T0 + 3600) * MS)),
    "X-RateLimit-Minutely-Limit": "60",
    "X-RateLimit-Minutely-Remaining": "59",
    "X-RateLimit-Minutely-Reset": str(int((T0 + 30) * MS)),
}


def test_both_families_parsed_with_ms_resets():
    state = RateLimitState()
    assert state.update_from_headers(BOTH) is True
    assert state == RateLimitState(60, 59, T0 + 30, 5000, 4990, T0 + 3600)


def test_one_family_alone_keeps_the_other():
    state = RateLimitState()
    state.update_from_headers(BOTH)
    state.update_from_headers(
        {
            "x-ratelimit-minutely-limit": "60",
            "x-ratelimit-minutely-remaining": "0",
            "x-ratelimit-minutely-reset": str(int((T0 + 45) * MS)),
        }
    )
    assert (state.minutely_remaining, state.minutely_reset) == (0, T0 + 45)
    assert (state.daily_remaining, state.daily_reset) == (4990, T0 + 3600)


def test_missing_or_malformed_headers_are_ignored():
    state = RateLimitState(daily_remaining=7)
    assert state.update_from_headers({"Content-Type": "x"}) is False
    assert state.update_from_headers({"X-RateLimit-Remaining": "lots"}) is False
    assert state.update_from_headers({"X-RateLimit-Remaining": " "}) is False
    assert state.update_from_headers(None) is False
    assert state.daily_remaining == 7


def test_state_dict_round_trip_ignores_unknown_keys():
    state = RateLimitState(60, 1, T0, 5000, 10, T0 + 9)
    data = state.to_dict()
    assert RateLimitState.from_dict({**data, "future_key": 1}) == state
    assert RateLimitState.from_dict(None) == RateLimitState()


def test_limiter_keeps_state_per_division_and_snapshots():
    limiter = RateLimiter(clock=FakeClock())
    limiter.update(1, BOTH)
    assert limiter.state("1").daily_remaining == 4990
    assert limiter.state(2).daily_remaining is None
    snap = limiter.snapshot(1)
    other = RateLimiter(clock=FakeClock())
    other.restore(1, snap)
    assert other.state(1) == limiter.state(1)
    assert other.daily_reset(1) == T0 + 3600
    assert sorted(limiter.known_divisions()) == ["1", "2"]


def test_before_request_waits_for_the_minute_reset():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleeper=clock.sleep)
    limiter.update(1, {**BOTH, "X-RateLimit-Minutely-Remaining": "0"})
    limiter.before_request(1)
    assert clock.sleeps == [pytest.approx(30.5)]
    limiter.before_request(1)  # the new minute: no second wait
    assert len(clock.sleeps) == 1


def test_before_request_does_not_wait_when_reset_passed_or_quota_left():
    clock = FakeClock(T0 + 31)
    limiter = RateLimiter(clock=clock, sleeper=clock.sleep)
    limiter.update(1, {**BOTH, "X-RateLimit-Minutely-Remaining": "0"})
    limiter.before_request(1)
    limiter.update(2, BOTH)
    limiter.before_request(2)
    limiter.before_request(3)
    assert clock.sleeps == []


def test_spent_day_refuses_without_calling():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleeper=clock.sleep)
    limiter.update(1, {**BOTH, "X-RateLimit-Remaining": "0"})
    with pytest.raises(RateLimited) as info:
        limiter.before_request(1)
    assert info.value.family == "daily" and info.value.reset_at == T0 + 3600
    assert clock.sleeps == []
    clock.now = T0 + 3601  # the day turned over
    limiter.before_request(1)
    assert limiter.daily_remaining(1) == 5000


def test_daily_remaining_and_exhausted():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.daily_remaining(1) is None
    assert limiter.daily_exhausted(1) is False
    limiter.update(1, {**BOTH, "X-RateLimit-Remaining": "501"})
    assert limiter.daily_remaining(1) == 501
    assert limiter.daily_exhausted(1) is False
    limiter.update(1, {"X-RateLimit-Remaining": "500"})
    assert limiter.daily_exhausted(1) is True
    assert limiter.daily_exhausted(1, reserve_fraction=0.05) is False
    limiter.restore(2, {"daily_remaining": 0})
    assert limiter.daily_exhausted(2) is True
