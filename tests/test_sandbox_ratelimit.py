"""Rate limits per app and division: fixed minute, UTC day, headers in epoch ms, 429."""

try:
    from tests.sandbox_fixtures import DIV, DIV2, T0, make_env
except ImportError:
    from sandbox_fixtures import DIV, DIV2, T0, make_env

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
           "X-RateLimit-Minutely-Limit", "X-RateLimit-Minutely-Remaining",
           "X-RateLimit-Minutely-Reset")


def test_six_headers_on_every_division_call_in_epoch_ms():
    env = make_env()
    r = env.get("financial/Journals")
    for h in HEADERS:
        assert h in r.headers
    assert r.headers["X-RateLimit-Limit"] == "5000"
    assert r.headers["X-RateLimit-Remaining"] == "4999"
    assert r.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert r.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert int(r.headers["X-RateLimit-Minutely-Reset"]) == (T0 + 60) * 1000
    day_end = (T0 // 86400 + 1) * 86400
    assert int(r.headers["X-RateLimit-Reset"]) == day_end * 1000


def test_errors_count_too():
    env = make_env()
    env.get("crm/Accounts")                       # 400 mandatory filter
    env.post("crm/Accounts", json={})             # 500 business rule
    r = env.get("financial/Journals")
    assert r.headers["X-RateLimit-Minutely-Remaining"] == "57"
    assert env.get("crm/Accounts").headers["X-RateLimit-Remaining"] == "4996"


def test_minutely_limit_gives_429_empty_with_only_minutely_headers():
    env = make_env(minutely_limit=3)
    for _ in range(3):
        assert env.get("financial/Journals").status_code == 200
    r = env.get("financial/Journals")
    assert r.status_code == 429 and r.content == b""
    assert r.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in r.headers and "X-RateLimit-Reset" not in r.headers
    env.clock.advance(60)
    assert env.get("financial/Journals").status_code == 200


def test_minute_window_is_a_fixed_clock_minute():
    env = make_env(minutely_limit=2)
    env.clock.set(T0 + 58)
    env.tokens = env.sb.issue_tokens()
    env.get("financial/Journals")
    env.get("financial/Journals")
    assert env.get("financial/Journals").status_code == 429
    env.clock.advance(2)          # T0 + 60: a new clock minute
    assert env.get("financial/Journals").status_code == 200


def test_daily_limit_gives_429_with_only_daily_headers_and_resets_at_utc_midnight():
    env = make_env(daily_limit=2)
    env.get("financial/Journals")
    env.clock.advance(61)
    env.get("financial/Journals")
    env.clock.advance(61)
    r = env.get("financial/Journals")
    assert r.status_code == 429 and r.content == b""
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Remaining" not in r.headers
    env.clock.set((T0 // 86400 + 1) * 86400)
    env.tokens = env.sb.issue_tokens()
    assert env.get("financial/Journals").status_code == 200


def test_limits_are_per_division():
    env = make_env(minutely_limit=1)
    assert env.get("financial/Journals").status_code == 200
    assert env.get("financial/Journals").status_code == 429
    assert env.get("financial/Journals", division=DIV2).status_code == 200


def test_me_and_token_calls_do_not_count():
    env = make_env(minutely_limit=1)
    for _ in range(3):
        assert env.get("current/Me", division=None).status_code == 200
    assert env.get("financial/Journals").status_code == 200
    assert env.sb.limits.usage(env.sb.client_id, DIV, env.clock())["minute_used"] == 1


def test_limits_changed_at_run_time():
    env = make_env()
    env.sb.configure(minutely_limit=100)
    assert env.get("financial/Journals", division=DIV).headers[
        "X-RateLimit-Minutely-Limit"] == "100"
