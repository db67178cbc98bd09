"""ExactClient against recorded-shape responses (no network, no real time)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chainwise_exact_connector.exact import (
    AccessDenied,
    AuthError,
    ExactClient,
    FunctionalError,
    NotFound,
    RateLimited,
    RateLimiter,
    RefreshTooEarly,
    TransientError,
    sanitize_body,
)

try:
    from tests.exact_fixtures import (
        API,
        BASE,
        CLIENT_SECRET,
        DIVISION,
        GUID_A,
        GUID_B,
        GUID_C,
        T0,
        FakeClock,
        exact_error,
        results,
    )
except ImportError:
    from exact_fixtures import (
        API,
        BASE,
        CLIENT_SECRET,
        DIVISION,
        GUID_A,
        GUID_B,
        GUID_C,
        T0,
        FakeClock,
        exact_error,
        results,
    )

ACCOUNTS = f"{API}/{DIVISION}/crm/Accounts"
ENTRIES = f"{API}/{DIVISION}/salesentry/SalesEntries"
DUTCH_TWO = "Verplicht: Betalingsconditie\r\nOngeldige referentie: Btw-code"


class Provider:
    """token_provider stand-in: hands out access-1, and access-2 after a forced refresh."""

    def __init__(self, error=None):
        self.calls = []
        self.current = "access-1"
        self.error = error

    def __call__(self, force=False, stale=None):
        self.calls.append((force, stale))
        if force:
            if self.error:
                raise self.error
            self.current = "access-2"
        return self.current


def make_client(**kwargs):
    clock = kwargs.pop("clock", None) or FakeClock()
    provider = kwargs.pop("provider", None) or Provider()
    records = []
    client = ExactClient(
        BASE,
        provider,
        clock=clock,
        sleeper=clock.sleep,
        on_call=records.append,
        **kwargs,
    )
    return client, clock, provider, records


def query(call) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# --- happy paths -----------------------------------------------------------------------


@responses.activate
def test_headers_timeout_and_one_reused_session():
    responses.get(ACCOUNTS, json=results({"ID": GUID_A}))
    client, *_ = make_client(timeout=12.5)
    session = client.session
    client.get(DIVISION, "crm/Accounts", filter="Name eq 'x'")
    client.get(DIVISION, "/crm/Accounts/", filter="Name eq 'y'")
    assert client.session is session
    for call in responses.calls:
        headers = call.request.headers
        assert headers["Accept"] == "application/json"
        assert headers["Content-Type"] == "application/json"
        assert headers["Authorization"] == "Bearer access-1"
        assert "Expect" not in headers
        assert call.request.req_kwargs["timeout"] == 12.5


def test_given_session_is_used_and_expect_removed():
    session = requests.Session()
    session.headers["Expect"] = "100-continue"
    client, *_ = make_client(session=session)
    assert client.session is session and "Expect" not in session.headers


@responses.activate
def test_get_encodes_query_options_and_non_ascii_filter():
    responses.get(ACCOUNTS, json=results({"ID": GUID_A, "Name": "Bäckerei O'Brien"}))
    client, *_ = make_client()
    flt = "Name eq 'Bäckerei O''Brien'"
    records = client.get(
        DIVISION,
        "crm/Accounts",
        filter=flt,
        select=["ID", "Name"],
        top=5,
        expand="BankAccounts",
        orderby=["Name"],
    )
    assert records == [{"ID": GUID_A, "Name": "Bäckerei O'Brien"}]
    sent = query(responses.calls[0])
    assert sent == {
        "$filter": flt,
        "$select": "ID,Name",
        "$top": "5",
        "$expand": "BankAccounts",
        "$orderby": "Name",
    }
    assert "%C3%A4" in responses.calls[0].request.url


@responses.activate
def test_three_pages_follow_absolute_next_links_as_given():
    page2 = f"{ACCOUNTS}?$filter=Status%20eq%20'C'&$select=ID&$skiptoken=guid'{GUID_A}'"
    page3 = f"{ACCOUNTS}?$filter=Status%20eq%20'C'&$select=ID&$skiptoken=guid'{GUID_B}'"
    responses.get(ACCOUNTS, json=results({"ID": "1"}, {"ID": "2"}, next_url=page2))
    client, *_ = make_client()
    # later pages are matched on their exact query string
    responses.get(
        page2,
        json=results({"ID": "3"}, next_url=page3),
        match=[responses.matchers.query_string_matcher(urlsplit(page2).query)],
    )
    responses.get(
        page3,
        json={"d": [{"ID": "4"}]},
        match=[responses.matchers.query_string_matcher(urlsplit(page3).query)],
    )
    records = client.get(DIVISION, "crm/Accounts", filter="Status eq 'C'", select="ID")
    assert [r["ID"] for r in records] == ["1", "2", "3", "4"]
    assert len(responses.calls) == 3
    assert query(responses.calls[1])["$skiptoken"] == f"guid'{GUID_A}'"
    # the __next URL is used as is: no second $filter appended
    assert responses.calls[2].request.url.count("filter") == 1


@responses.activate
def test_top_stops_paging_and_repeated_next_is_refused():
    responses.get(ACCOUNTS, json=results({"ID": "1"}, {"ID": "2"}, next_url=f"{ACCOUNTS}?p=2"))
    client, *_ = make_client()
    assert client.get(DIVISION, "crm/Accounts", top=2) == [{"ID": "1"}, {"ID": "2"}]
    assert len(responses.calls) == 1
    responses.replace(responses.GET, ACCOUNTS, json=results({"ID": "1"}, next_url=ACCOUNTS))
    with pytest.raises(TransientError, match="same __next"):
        client.get(DIVISION, "crm/Accounts", filter="x")


@responses.activate
def test_get_one_by_guid():
    url = f"{ENTRIES}(guid'{GUID_A}')"
    responses.get(url, json={"d": {"EntryID": GUID_A, "EntryNumber": 7}})
    client, *_ = make_client()
    record = client.get_one(DIVISION, "salesentry/SalesEntries", GUID_A, select=["EntryID"])
    assert record == {"EntryID": GUID_A, "EntryNumber": 7}
    assert urlsplit(responses.calls[0].request.url).path.endswith(f"SalesEntries(guid'{GUID_A}')")
    assert query(responses.calls[0]) == {"$select": "EntryID"}


@responses.activate
@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"status": 404, "body": ""}, None),
        ({"json": {"d": {"results": []}}}, None),
        ({"json": {"d": {"results": [{"ID": "x"}]}}}, {"ID": "x"}),
        ({"json": {"d": {}}}, None),
        ({"status": 200, "body": ""}, None),
    ],
)
def test_get_one_absent_shapes(kwargs, expected):
    responses.get(f"{ENTRIES}(guid'{GUID_B}')", **kwargs)
    client, *_ = make_client()
    assert client.get_one(DIVISION, "salesentry/SalesEntries", GUID_B, expand="X") == expected


@responses.activate
def test_post_prefers_representation_and_returns_the_record():
    responses.post(ENTRIES, status=201, json={"d": {"EntryID": GUID_A, "EntryNumber": 42}})
    client, *_ = make_client()
    payload = {"EntryID": GUID_A, "Journal": "70"}
    assert client.post(DIVISION, "salesentry/SalesEntries", payload)["EntryNumber"] == 42
    request = responses.calls[0].request
    assert request.headers["Prefer"] == "return=representation"
    assert json.loads(request.body) == payload


@responses.activate
@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"json": {"d": [{"ID": "x"}]}}, {"ID": "x"}),
        ({"json": {"d": []}}, {}),
        ({"body": ""}, {}),
    ],
)
def test_post_other_shapes(kwargs, expected):
    responses.post(ACCOUNTS, status=201, **kwargs)
    client, *_ = make_client()
    assert client.post(DIVISION, "crm/Accounts", {"Name": "x"}) == expected


@responses.activate
def test_put_and_delete_expect_204():
    url = f"{ACCOUNTS}(guid'{GUID_C}')"
    responses.put(url, status=204)
    responses.delete(url, status=204)
    client, *_ = make_client()
    assert client.put(DIVISION, "crm/Accounts", GUID_C, {"Name": "New"}) is None
    assert client.delete(DIVISION, "crm/Accounts", GUID_C) is None
    assert [c.request.method for c in responses.calls] == ["PUT", "DELETE"]
    assert json.loads(responses.calls[0].request.body) == {"Name": "New"}
    assert "Prefer" not in responses.calls[0].request.headers


@responses.activate
def test_me_has_no_division_and_divisions_lists():
    responses.get(
        f"{API}/current/Me", json=results({"CurrentDivision": 42, "FullName": "A"}), headers={}
    )
    responses.get(f"{API}/{DIVISION}/system/Divisions", json=results({"Code": 1}, {"Code": 2}))
    client, *_ = make_client()
    assert client.me()["CurrentDivision"] == 42
    assert [d["Code"] for d in client.divisions(DIVISION)] == [1, 2]
    responses.replace(responses.GET, f"{API}/current/Me", json={"d": {"UserID": "u"}})
    assert client.me() == {"UserID": "u"}
    responses.replace(responses.GET, f"{API}/current/Me", json={"d": {"results": []}})
    with pytest.raises(TransientError):
        client.me()


def test_url_building():
    client, *_ = make_client()
    assert client.url("123", "crm/Accounts") == f"{API}/123/crm/Accounts"
    assert client.url(None, "current/Me") == f"{API}/current/Me"
    with pytest.raises(ValueError):
        client.url(1, "/")
    with pytest.raises(ValueError):
        client.url("1; drop", "crm/Accounts")


# --- 401 -------------------------------------------------------------------------------


@responses.activate
def test_empty_401_forces_one_refresh_and_retries_with_the_new_token():
    responses.get(ACCOUNTS, status=401, body="")
    responses.get(ACCOUNTS, json=results({"ID": "1"}))
    client, _, provider, _ = make_client()
    assert client.get(DIVISION, "crm/Accounts", filter="x") == [{"ID": "1"}]
    assert provider.calls == [(False, None), (True, "access-1")]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer access-2"


@responses.activate
def test_second_401_is_an_auth_error():
    responses.post(ACCOUNTS, status=401, body="")
    client, _, provider, _ = make_client()
    with pytest.raises(AuthError) as info:
        client.post(DIVISION, "crm/Accounts", {"Name": "x"})
    assert len(responses.calls) == 2
    assert provider.calls.count((True, "access-1")) == 1
    assert "access-" not in info.value.message


@responses.activate
def test_401_while_refresh_is_too_early_propagates():
    responses.get(ACCOUNTS, status=401, body="<html>Object moved</html>")
    client, *_ = make_client(provider=Provider(error=RefreshTooEarly("wait", retry_at=T0 + 5)))
    with pytest.raises(RefreshTooEarly):
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert len(responses.calls) == 1


# --- 429 and quotas --------------------------------------------------------------------

MINUTE_SPENT = {
    "X-RateLimit-Minutely-Limit": "60",
    "X-RateLimit-Minutely-Remaining": "0",
    "X-RateLimit-Minutely-Reset": str(int((T0 + 20) * 1000)),
}


@responses.activate
def test_429_with_only_minutely_headers_waits_for_the_reset():
    responses.get(ACCOUNTS, status=429, body="", headers=MINUTE_SPENT)
    responses.get(ACCOUNTS, json=results({"ID": "1"}))
    client, clock, _, records = make_client()
    assert client.get(DIVISION, "crm/Accounts", filter="x") == [{"ID": "1"}]
    assert clock.sleeps == [pytest.approx(20.5)]
    assert [r.status for r in records] == [429, 200]
    state = client.rate_limiter.state(DIVISION)
    assert state.minutely_reset == T0 + 20 and state.daily_remaining is None


@responses.activate
def test_429_retries_are_bounded():
    responses.get(ACCOUNTS, status=429, body="", headers=MINUTE_SPENT)
    client, clock, *_ = make_client(max_429_retries=2)
    with pytest.raises(RateLimited) as info:
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.family == "minutely"
    assert len(responses.calls) == 3
    assert len(clock.sleeps) == 2


@responses.activate
def test_429_without_headers_waits_60_seconds_and_daily_family_is_named():
    responses.get(ACCOUNTS, status=429, body="")
    client, clock, *_ = make_client(max_429_retries=1)
    with pytest.raises(RateLimited):
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert clock.sleeps == [pytest.approx(60.5)]
    daily = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int((T0 + 9999) * 1000))}
    responses.replace(responses.GET, ACCOUNTS, status=429, body="", headers=daily)
    client2, *_ = make_client(max_429_retries=0)
    with pytest.raises(RateLimited) as info:
        client2.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.family == "daily" and info.value.reset_at == T0 + 9999


@responses.activate
def test_spent_minute_is_waited_out_before_the_request():
    responses.get(ACCOUNTS, json=results(), headers=MINUTE_SPENT)
    client, clock, *_ = make_client()
    client.get(DIVISION, "crm/Accounts", filter="a")
    assert clock.sleeps == []
    client.get(DIVISION, "crm/Accounts", filter="b")
    assert clock.sleeps == [pytest.approx(20.5)]
    assert len(responses.calls) == 2


@responses.activate
def test_shared_rate_limiter_with_a_spent_day_makes_no_call():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleeper=clock.sleep)
    limiter.restore(DIVISION, {"daily_remaining": 0, "daily_reset": T0 + 100})
    client, *_ = make_client(clock=clock, rate_limiter=limiter)
    with pytest.raises(RateLimited):
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert len(responses.calls) == 0


# --- functional errors -----------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_500_with_dutch_body_of_two_problems_is_functional_and_never_retried(method):
    responses.add(method, ENTRIES, status=500, body=exact_error(DUTCH_TWO))
    client, clock, *_ = make_client()
    with pytest.raises(FunctionalError) as info:
        if method == "GET":
            client.get(DIVISION, "salesentry/SalesEntries", filter="x")
        else:
            client.post(DIVISION, "salesentry/SalesEntries", {"Journal": "70"})
    error = info.value
    assert error.status == 500 and len(responses.calls) == 1 and clock.sleeps == []
    assert [(i.kind, i.field) for i in error.items] == [
        ("mandatory", "Betalingsconditie"),
        ("invalid_reference", "Btw-code"),
    ]
    assert error.exact_message == DUTCH_TWO
    assert "payment condition" in error.explanation and "VAT code" in error.explanation


@responses.activate
def test_400_mandatory_filtering_is_functional():
    text = "This endpoint has mandatory filtering applied."
    responses.get(ACCOUNTS, status=400, body=exact_error(text))
    client, *_ = make_client()
    with pytest.raises(FunctionalError) as info:
        client.get(DIVISION, "crm/Accounts")
    assert info.value.status == 400 and info.value.exact_message == text
    assert len(responses.calls) == 1


@responses.activate
def test_400_without_json_is_functional_and_never_leaks_the_token():
    responses.post(ACCOUNTS, status=400, body="<html>Bad request for Bearer access-1</html>")
    client, _, _, records = make_client()
    with pytest.raises(FunctionalError) as info:
        client.post(DIVISION, "crm/Accounts", {"Name": "x"})
    assert "access-1" not in info.value.message and "***" in info.value.message
    assert "access-1" not in records[0].response_text
    assert "access-1" not in records[0].error


@responses.activate
def test_error_body_with_a_plain_message_string():
    body = json.dumps({"error": {"code": "", "message": "Gegeven bestaat reeds"}})
    responses.post(ACCOUNTS, status=500, body=body)
    client, *_ = make_client()
    with pytest.raises(FunctionalError) as info:
        client.post(DIVISION, "crm/Accounts", {"Name": "x"})
    assert info.value.items[0].kind == "already_exists"


@responses.activate
def test_403_reason_and_404():
    responses.get(ACCOUNTS, status=403, body="", headers={"Reason": "NoDivisionAccess"})
    client, *_ = make_client()
    with pytest.raises(AccessDenied) as info:
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.reason == "NoDivisionAccess" and "NoDivisionAccess" in info.value.message
    responses.replace(responses.GET, ACCOUNTS, status=404, body="")
    with pytest.raises(NotFound):
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert len(responses.calls) == 2


# --- transient faults ------------------------------------------------------------------


@responses.activate
def test_html_500_on_get_is_retried_with_exponential_backoff():
    responses.get(ACCOUNTS, status=500, body="<html><body>Server Error</body></html>")
    client, clock, *_ = make_client(max_transient_retries=3, backoff=1.0)
    with pytest.raises(TransientError) as info:
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.ambiguous is False and info.value.status == 500
    assert len(responses.calls) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


@responses.activate
def test_html_500_then_success_on_put():
    url = f"{ACCOUNTS}(guid'{GUID_A}')"
    responses.put(url, status=503, body="")
    responses.put(url, status=204)
    client, clock, *_ = make_client(backoff=0.5)
    client.put(DIVISION, "crm/Accounts", GUID_A, {"Name": "x"})
    assert clock.sleeps == [0.5] and len(responses.calls) == 2


@responses.activate
def test_502_with_json_error_is_still_transient():
    responses.delete(f"{ACCOUNTS}(guid'{GUID_A}')", status=502, body=exact_error("Gateway"))
    client, *_ = make_client(max_transient_retries=0)
    with pytest.raises(TransientError):
        client.delete(DIVISION, "crm/Accounts", GUID_A)


@responses.activate
@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 500, "body": "<html>Runtime Error</html>"},
        {"status": 503, "body": ""},
        {"body": requests.Timeout("read timed out")},
        {"body": requests.ConnectionError("reset by peer")},
        {"status": 201, "body": "{not json"},
    ],
)
def test_post_faults_are_ambiguous_and_never_retried(kwargs):
    responses.post(ENTRIES, **kwargs)
    client, clock, *_ = make_client()
    with pytest.raises(TransientError) as info:
        client.post(DIVISION, "salesentry/SalesEntries", {"EntryID": GUID_A})
    assert info.value.ambiguous is True
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_connection_error_on_get_is_retried_then_succeeds():
    responses.get(ACCOUNTS, body=requests.ConnectionError("reset"))
    responses.get(ACCOUNTS, json=results({"ID": "1"}))
    client, clock, _, records = make_client()
    assert client.get(DIVISION, "crm/Accounts", filter="x") == [{"ID": "1"}]
    assert clock.sleeps == [1.0]
    assert records[0].status is None and "ConnectionError" in records[0].error


@responses.activate
@pytest.mark.parametrize("body", ["{broken", "[1, 2", '"just a string"'])
def test_malformed_json_on_get_is_transient(body):
    responses.get(ACCOUNTS, status=200, body=body)
    client, clock, *_ = make_client(max_transient_retries=1)
    with pytest.raises(TransientError, match="not valid JSON") as info:
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.ambiguous is False
    assert len(responses.calls) == 2


# --- call records ----------------------------------------------------------------------


@responses.activate
def test_every_call_is_recorded_without_secrets():
    responses.post(
        f"{API}/{DIVISION}/documents/DocumentAttachments",
        status=201,
        json={"d": {"ID": GUID_A}},
        headers={"X-RateLimit-Remaining": "4000"},
    )
    client, _, _, records = make_client()
    payload = {"Document": GUID_B, "FileName": "a.pdf", "Attachment": "QUJD" * 100}
    client.post(DIVISION, "documents/DocumentAttachments", payload)
    [record] = records
    assert record.method == "POST" and record.status == 201
    assert record.division == DIVISION and record.resource == "documents/DocumentAttachments"
    assert record.request_body["Attachment"] == "<400 characters of base64>"
    assert record.request_body["FileName"] == "a.pdf"
    assert record.error is None and record.duration_ms >= 0
    assert GUID_A in record.response_text
    assert client.rate_limiter.daily_remaining(DIVISION) == 4000


@responses.activate
def test_record_url_holds_the_query_and_long_responses_are_truncated():
    responses.get(ACCOUNTS, json=results({"Name": "x" * 5000}))
    client, _, _, records = make_client()
    client.get(DIVISION, "crm/Accounts", filter="Code eq '1'")
    assert "%24filter=Code" in records[0].url or "$filter=Code" in records[0].url
    assert len(records[0].response_text) == 2000


def test_sanitize_body_hides_secrets_recursively():
    body = {
        "client_secret": CLIENT_SECRET,
        "nested": [{"refresh_token": "r", "Name": "ok"}],
        "Attachment": 5,
    }
    clean = sanitize_body(body)
    assert CLIENT_SECRET not in json.dumps(clean) and '"r"' not in json.dumps(clean)
    assert clean["nested"][0]["Name"] == "ok" and clean["Attachment"] == 5
    assert body["client_secret"] == CLIENT_SECRET  # the original is untouched


@pytest.mark.parametrize(
    "text,expected",
    [
        (exact_error("Verplicht: Naam"), "Verplicht: Naam"),
        ('{"error": {"code": "", "message": {"lang": ""}}}', None),
        ('{"error": "invalid_request"}', None),
        ("[1]", None),
        ("<html/>", None),
        (None, None),
    ],
)
def test_exact_error_message(text, expected):
    from chainwise_exact_connector.exact import exact_error_message

    assert exact_error_message(text) == expected


@responses.activate
def test_429_with_a_garbled_reset_falls_back_and_works_without_on_call():
    responses.get(ACCOUNTS, status=429, body="", headers={"X-RateLimit-Minutely-Reset": "soon"})
    clock = FakeClock()
    client = ExactClient(BASE, Provider(), clock=clock, sleeper=clock.sleep, max_429_retries=0)
    with pytest.raises(RateLimited) as info:
        client.get(DIVISION, "crm/Accounts", filter="x")
    assert info.value.reset_at == T0 + 60


@responses.activate
def test_token_is_taken_after_the_wait_for_the_minute():
    """A token handed out before a minute-long wait may expire during it: the client
    asks for it after the wait (the benchmark saw a 401 at each token expiry)."""
    responses.get(ACCOUNTS, json=results(), headers=MINUTE_SPENT)
    clock = FakeClock()
    asked_at = []

    def provider(force=False, stale=None):
        asked_at.append(clock())
        return "access-1"

    client, *_ = make_client(clock=clock, provider=provider)
    client.get(DIVISION, "crm/Accounts", filter="a")  # reports the minute spent
    client.get(DIVISION, "crm/Accounts", filter="b")  # waits for the reset first
    assert clock.sleeps == [pytest.approx(20.5)]
    assert asked_at == [T0, pytest.approx(T0 + 20.5)]


@responses.activate
def test_token_is_asked_again_after_a_429_wait():
    responses.get(ACCOUNTS, status=429, body="", headers=MINUTE_SPENT)
    responses.get(ACCOUNTS, json=results({"ID": "1"}))
    client, clock, provider, _ = make_client()
    client.get(DIVISION, "crm/Accounts", filter="x")
    assert provider.calls == [(False, None), (False, None)]
