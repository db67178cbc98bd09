"""Fault rules: grammar, selection and what a client sees (in-process)."""

import time

import pytest
import requests

from exact_sandbox.faults import FaultSet, parse_rule

try:
    from tests.sandbox_fixtures import DIV, make_env
except ImportError:
    from sandbox_fixtures import DIV, make_env


@pytest.fixture
def env():
    return make_env(minutely_limit=10000)


def test_rule_grammar():
    rule = parse_rule("POST salesentry/SalesEntries* store-and-hang n=2 seconds=3")
    assert (rule.method, rule.glob, rule.action, rule.n, rule.seconds) == (
        "POST", "salesentry/SalesEntries*", "store-and-hang", 2, 3.0)
    assert parse_rule("* * delay").seconds == 5.0
    assert parse_rule("GET x store-and-hang").seconds == 120.0
    for bad in ("GET x", "FETCH x 503", "GET x explode", "GET x 503 p=2", "GET x 503 q=1",
                "GET x 503 n=1 every=2", "GET x 503 n=0"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_selection_n_every_p_and_times():
    fs = FaultSet(rng_seed=1)
    fs.add("GET a 503 n=3")
    hits = [bool(fs.match("GET", "a")) for _ in range(6)]
    assert hits == [False, False, True, False, False, False]
    fs = FaultSet()
    fs.add("GET a 503 every=2")
    assert [bool(fs.match("GET", "a")) for _ in range(6)] == [False, True] * 3
    fs = FaultSet()
    fs.add("* a 503 times=2")
    assert [bool(fs.match("PUT", "a")) for _ in range(4)] == [True, True, False, False]
    fs = FaultSet(rng_seed=7)
    fs.add("GET a 503 p=0.5")
    n = sum(bool(fs.match("GET", "a")) for _ in range(400))
    assert 150 < n < 250
    assert fs.match("POST", "a") is None and fs.match("GET", "b") is None


def test_html500_is_html_not_exact_json(env):
    env.sb.add_fault("GET financial/Journals html500")
    r = env.get("financial/Journals")
    assert r.status_code == 500
    assert r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()


def test_503(env):
    env.sb.add_fault("* financial/* 503 n=1")
    assert env.get("financial/Journals").status_code == 503
    assert env.get("financial/Journals").status_code == 200


def test_drop_raises_connection_error_and_stores_nothing(env):
    env.sb.add_fault("POST crm/Accounts drop")
    with pytest.raises(requests.ConnectionError):
        env.post("crm/Accounts", json={"Name": "Lost B.V."})
    assert [a["Name"] for a in env.sb.records(DIV, "Accounts")] == ["Van Dijk Bouw B.V."]


def test_store_and_hang_stores_then_times_out(env):
    env.sb.add_fault("POST salesentry/SalesEntries store-and-hang n=1")
    eid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    with pytest.raises(requests.ReadTimeout):
        env.entry(EntryID=eid)
    assert [e["EntryID"] for e in env.sb.records(DIV, "SalesEntries")] == [eid]
    assert env.get(f"salesentry/SalesEntries(guid'{eid}')").status_code == 200
    assert env.entry(EntryID=eid).status_code == 500   # the retry sees it exists


def test_429_burst_of_times_with_minutely_headers(env):
    env.sb.add_fault("GET financial/Journals 429 times=2")
    first, second, third = (env.get("financial/Journals") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.content == b""
    assert first.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in first.headers


def test_429_default_burst_is_three(env):
    env.sb.add_fault("GET * 429")
    codes = [env.get("financial/Journals").status_code for _ in range(5)]
    assert codes == [429, 429, 429, 200, 200]


def test_expire_token_makes_the_token_dead_and_refresh_allowed(env):
    env.sb.add_fault("GET financial/Journals expire-token n=1")
    r = env.get("financial/Journals")
    assert r.status_code == 401 and r.content == b""
    assert env.get("financial/GLAccounts").status_code == 401
    r = env.refresh()          # only 0 s after issue, but the access token is dead
    assert r.status_code == 200
    env.tokens = r.json()
    assert env.get("financial/Journals").status_code == 200


def test_fault_on_token_endpoint(env):
    env.sb.add_fault("POST oauth2/token 503 n=1")
    env.clock.advance(600)
    assert env.refresh().status_code == 503
    assert env.refresh().status_code == 200


def test_delay_longer_than_timeout_is_read_timeout_after_the_request_landed():
    env = make_env(sleep=lambda s: None)
    slept = []
    env.sb.sleep = slept.append
    env.sb.add_fault("POST crm/Accounts delay seconds=7")
    assert env.post("crm/Accounts", json={"Name": "Slow B.V."}).status_code == 201
    assert slept == [7.0]
    env.sb.sleep = time.sleep
    env.sb.clear_faults()
    env.sb.add_fault("POST crm/Accounts delay seconds=0.3")
    with pytest.raises(requests.ReadTimeout):
        env.post("crm/Accounts", json={"Name": "Slower B.V."}, timeout=(1, 0.1))
    names = [a["Name"] for a in env.sb.records(DIV, "Accounts")]
    assert "Slower B.V." in names


def test_faults_are_logged_and_cleared(env):
    env.sb.add_fault("GET financial/Journals 503")
    env.get("financial/Journals")
    assert env.sb.requests_log[-1]["status"] == 503
    assert env.sb.requests_log[-1]["fault"] == "503"
    env.sb.clear_faults()
    assert env.get("financial/Journals").status_code == 200
