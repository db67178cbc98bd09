"""Limits around the API: URL length, body size, Expect, the error block, delay scaling and
parallel requests per division."""

import threading

import pytest
import requests

from exact_sandbox import ManualClock, Sandbox, ScaledClock
from exact_sandbox.cli import build_parser
from exact_sandbox.testing import sandbox_session, serve_in_thread

try:
    from tests.sandbox_fixtures import DIV, DIV2, T0, error_text, make_env
except ImportError:
    from sandbox_fixtures import DIV, DIV2, T0, error_text, make_env

TEN_MB = 10 * 1024 * 1024


def _url_of_length(env, length):
    """A GET URL on financial/Journals exactly ``length`` characters long."""
    url = env.url("financial/Journals") + "?$filter=Description%20ne%20'"
    url += "x" * (length - len(url) - 1) + "'"
    assert len(requests.Request("GET", url).prepare().url) == length   # as sent
    return url


# ---------------------------------------------------------------- URL length, body size

def test_url_of_6000_characters_is_served_and_6001_is_414_html():
    env = make_env()
    url = _url_of_length(env, 6000)
    assert len(url) == 6000
    auth = {"Authorization": f"Bearer {env.tokens['access_token']}"}
    assert env.session.get(url, headers=auth).status_code == 200
    r = env.session.get(_url_of_length(env, 6001), headers=auth)
    assert r.status_code == 414
    assert r.headers["Content-Type"].startswith("text/html")
    assert "6000" in r.text
    # refused in front of the API: no rate-limit headers, not counted
    assert "X-RateLimit-Remaining" not in r.headers
    assert env.get("financial/Journals").headers["X-RateLimit-Minutely-Remaining"] == "58"
    assert env.sb.requests_log[-2]["status"] == 414


def test_long_url_over_a_socket_is_414():
    env = make_env()
    with serve_in_thread(env.sb) as server:
        url = _url_of_length(env, 6001)
        assert url.startswith(server.base_url)
        r = requests.get(url, headers={"Authorization": f"Bearer {env.tokens['access_token']}"},
                         timeout=5)
        assert r.status_code == 414 and "<html" in r.text.lower()


def test_body_over_10_mb_is_413_and_nothing_is_stored():
    env = make_env()
    body = b'{"Name": "' + b"x" * (TEN_MB - 11) + b'"}'
    assert len(body) == TEN_MB + 1
    r = env.request("POST", "crm/Accounts", data=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["Content-Type"].startswith("text/html")
    assert len(env.sb.records(DIV, "Accounts")) == 1
    # exactly 10 MB passes the server in front (a long Name is no rule the sandbox knows)
    body = b'{"Name": "' + b"x" * (TEN_MB - 12) + b'"}'
    assert len(body) == TEN_MB
    r = env.request("POST", "crm/Accounts", data=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 201


def test_body_over_10_mb_over_a_socket_gets_a_clean_413():
    env = make_env()
    body = b"{" + b" " * TEN_MB + b"}"
    with serve_in_thread(env.sb) as server:
        r = requests.post(f"{server.base_url}/api/v1/{DIV}/documents/DocumentAttachments",
                          data=body, timeout=30, headers={
                              "Authorization": f"Bearer {env.tokens['access_token']}",
                              "Content-Type": "application/json"})
        assert r.status_code == 413
        # the server still answers afterwards
        assert requests.get(f"{server.base_url}/api/v1/{DIV}/financial/Journals", timeout=5,
                            headers={"Authorization": f"Bearer {env.tokens['access_token']}"}
                            ).status_code == 200


def test_expect_100_continue_is_refused_with_417():
    env = make_env()
    r = env.post("crm/Accounts", json={"Name": "Verwacht B.V."},
                 headers={"Expect": "100-continue"})
    assert r.status_code == 417 and r.headers["Content-Type"].startswith("text/html")
    assert len(env.sb.records(DIV, "Accounts")) == 1


# ---------------------------------------------------------------- error block

def _blocked_env(threshold=10, **options):
    env = make_env(minutely_limit=10000, error_block_threshold=threshold, **options)
    return env


def test_error_block_is_off_by_default_in_the_sandbox_and_the_cli():
    env = make_env(minutely_limit=10000)
    assert env.sb.error_block_threshold == 0
    for _ in range(30):
        assert env.get("crm/Accounts").status_code == 400       # mandatory filtering
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 200
    assert build_parser().parse_args([]).error_block == 0
    assert build_parser().parse_args(["--error-block", "10"]).error_block == 10


def test_more_than_threshold_errors_block_the_endpoint_for_an_hour():
    env = _blocked_env(10)
    for _ in range(11):                                   # the 11th error is still answered
        r = env.get("crm/Accounts")
        assert r.status_code == 400 and "mandatory filtering" in error_text(r)
    r = env.get("crm/Accounts", params={"$filter": "Code eq '1'"})   # a good call now
    assert r.status_code == 403
    assert "blocked" in error_text(r) and "crm/accounts" in error_text(r)
    assert "X-RateLimit-Remaining" not in r.headers                  # not counted
    assert "Reason" not in r.headers
    # only that endpoint, only that division
    assert env.get("financial/Journals").status_code == 200
    assert env.get("crm/Accounts", division=DIV2,
                   params={"$filter": "Code eq '1'"}).status_code == 200
    # a key or a query is the same endpoint
    assert env.get("crm/Accounts(guid'00000000-0000-0000-0000-000000000001')").status_code == 403
    env.clock.advance(3599)
    env.tokens = env.sb.issue_tokens()
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 403
    env.clock.advance(1)
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 200


def test_error_block_counts_business_rule_500s_404s_and_403s_not_429s():
    env = _blocked_env(3)
    for _ in range(4):
        assert env.post("crm/Accounts", json={}).status_code == 500     # Verplicht: Naam
    assert env.post("crm/Accounts", json={"Name": "Goed"}).status_code == 403
    env.sb.configure(error_block_threshold=2)
    missing = "salesentry/SalesEntries(guid'00000000-0000-0000-0000-000000000001')"
    assert [env.get(missing).status_code for _ in range(3)] == [404, 404, 404]
    assert env.get("salesentry/SalesEntries").status_code == 403
    env.sb.add_fault("GET financial/Journals 429 times=5")
    assert [env.get("financial/Journals").status_code for _ in range(6)] == [429] * 5 + [200]


def test_errors_older_than_an_hour_drop_out():
    env = _blocked_env(2)
    env.get("crm/Accounts")
    env.get("crm/Accounts")
    env.clock.advance(3601)
    env.tokens = env.sb.issue_tokens()
    env.get("crm/Accounts")
    env.get("crm/Accounts")                                  # 2 within the hour: fine
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 200
    env.get("crm/Accounts")                                  # the 3rd within the hour
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 403


def test_expired_token_401s_count_unknown_tokens_do_not():
    env = _blocked_env(2)
    env.clock.advance(600)                                   # the access token expired
    assert [env.get("financial/Journals").status_code for _ in range(3)] == [401] * 3
    env.tokens = env.sb.issue_tokens()
    assert env.get("financial/Journals").status_code == 403
    other = _blocked_env(2)
    other.tokens = {"access_token": "never-issued"}
    assert [other.get("financial/Journals").status_code for _ in range(5)] == [401] * 5
    other.tokens = other.sb.issue_tokens()
    assert other.get("financial/Journals").status_code == 200


def test_error_block_on_current_me_and_set_over_http():
    env = make_env()
    r = env.session.post(env.url("/sandbox/api/config"), json={"error_block_threshold": 1})
    assert r.status_code == 200 and r.json()["error_block_threshold"] == 1
    assert env.sb.state()["config"]["error_block_threshold"] == 1
    dead = {"Authorization": f"Bearer {env.tokens['access_token']}"}
    env.sb.add_fault("GET current/Me expire-token n=1")
    me = env.url("current/Me", division=None)
    assert env.session.get(me, headers=dead).status_code == 401
    assert env.session.get(me, headers=dead).status_code == 401
    env.tokens = env.sb.issue_tokens()
    assert env.get("current/Me", division=None).status_code == 403
    assert env.get("financial/Journals").status_code == 200
    bad = env.session.post(env.url("/sandbox/api/config"), json={"error_block_threshold": -1})
    assert bad.status_code == 400


def test_reset_lifts_error_blocks():
    env = _blocked_env(1)
    env.get("crm/Accounts")
    env.get("crm/Accounts")
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 403
    env.sb.reset()
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1'"}).status_code == 200


# ---------------------------------------------------------------- delay and the time scale

def test_delay_is_divided_by_the_time_scale_of_a_scaled_clock():
    slept = []
    sb = Sandbox(clock=ScaledClock(60, start=T0), client_id="cid", client_secret="secret",
                 sleep=slept.append, minutely_limit=10000)
    tokens = sb.issue_tokens()
    sb.add_fault("GET financial/Journals delay seconds=120")
    r = sandbox_session(sb).get(f"{sb.base_url}/api/v1/{DIV}/financial/Journals",
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200
    assert slept == [2.0]


def test_delay_keeps_real_seconds_with_a_manual_or_the_real_clock():
    for clock in (ManualClock(start=T0), None):
        slept = []
        sb = Sandbox(clock=clock, client_id="cid", client_secret="secret", sleep=slept.append)
        tokens = sb.issue_tokens()
        sb.add_fault("* * delay seconds=7")
        sandbox_session(sb).get(f"{sb.base_url}/api/v1/{DIV}/financial/Journals",
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert slept == [7.0]


# ---------------------------------------------------------------- parallel requests

def test_parallel_requests_per_division_are_recorded():
    env = make_env(minutely_limit=10000)
    env.get("financial/Journals")
    env.get("financial/Journals")
    assert env.sb.parallel_peak == {DIV: 1}
    env.sb.add_fault("GET financial/Journals delay seconds=0.4")
    auth = {"Authorization": f"Bearer {env.tokens['access_token']}"}
    with serve_in_thread(env.sb) as server:
        url = f"{server.base_url}/api/v1/{DIV}/financial/Journals"
        codes = []
        threads = [threading.Thread(target=lambda: codes.append(
            requests.get(url, headers=auth, timeout=10).status_code)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert codes == [200, 200]
    assert env.sb.parallel_peak[DIV] == 2
    assert env.sb.state()["parallel_peak"] == {str(DIV): 2}


@pytest.mark.parametrize("value", ["0", "25"])
def test_cli_passes_error_block_and_save_interval(value):
    args = build_parser().parse_args(["--error-block", value, "--save-interval", "2"])
    assert args.error_block == int(value) and args.save_interval == 2.0
