"""OAuth2 against Exact's token endpoint, and the one refresh path get_valid_token."""

import json
import os
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from chainwise_exact_connector.exact import (
    MemoryTokenStore,
    ReconsentRequired,
    RefreshTooEarly,
    Token,
    TokenError,
    TokenStore,
    TransientError,
    get_valid_token,
)

try:
    from tests.exact_fixtures import (
        BASE,
        CLIENT_SECRET,
        T0,
        TOKEN_URL,
        FakeClock,
        make_app,
        make_token,
        token_body,
    )
except ImportError:  # tests/ itself on sys.path (no package)
    from exact_fixtures import (
        BASE,
        CLIENT_SECRET,
        T0,
        TOKEN_URL,
        FakeClock,
        make_app,
        make_token,
        token_body,
    )


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# --- Token -----------------------------------------------------------------------------


def test_token_value_object():
    token = make_token()
    assert token.expires_in(T0 + 100) == 500
    assert Token.from_dict(token.to_dict()) == token
    assert "access-1" not in repr(token) and "refresh-1" not in str(token)
    assert "expires_at" in repr(token)
    with pytest.raises(AttributeError):
        token.access_token = "x"  # frozen
    assert isinstance(MemoryTokenStore(), TokenStore)


# --- OAuthApp --------------------------------------------------------------------------


def test_authorize_url_has_exactly_the_documented_parameters():
    app = make_app()
    url = app.authorize_url("st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/api/oauth2/auth"
    query = parse_qs(parts.query)
    assert query == {
        "client_id": ["client-id-1"],
        "redirect_uri": ["https://odoo.example.com/exact/oauth/callback"],
        "response_type": ["code"],
        "state": ["st4te"],
    }
    assert "scope" not in query
    forced = parse_qs(urlsplit(app.authorize_url("s", force_login=True)).query)
    assert forced["force_login"] == ["1"]
    assert app.token_url == TOKEN_URL
    assert CLIENT_SECRET not in url and CLIENT_SECRET not in repr(app)


@responses.activate
@pytest.mark.parametrize("expires_in", ["600", 600, 600.0])
def test_exchange_code(expires_in):
    responses.post(TOKEN_URL, body=token_body("9", expires_in=expires_in))
    app = make_app(clock=FakeClock(T0))
    token = app.exchange_code("the-code")
    assert token == Token("access-9", "refresh-9", T0 + 600, T0)
    sent = form(responses.calls[0])
    assert sent == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://odoo.example.com/exact/oauth/callback",
        "client_id": "client-id-1",
        "client_secret": CLIENT_SECRET,
    }
    assert "scope" not in sent


@responses.activate
def test_exchange_of_a_used_code_is_a_token_error_not_reconsent():
    responses.post(TOKEN_URL, status=400, body="Bad Request")
    with pytest.raises(TokenError) as info:
        make_app().exchange_code("used-code-123")
    assert not isinstance(info.value, RefreshTooEarly)
    assert "single-use" in info.value.message
    assert CLIENT_SECRET not in info.value.message


@responses.activate
def test_exchange_code_connection_error_is_transient():
    responses.post(TOKEN_URL, body=requests.ConnectionError("boom"))
    with pytest.raises(TransientError):
        make_app().exchange_code("c")


@responses.activate
def test_refresh_sends_the_refresh_grant_and_returns_the_rotated_pair():
    responses.post(TOKEN_URL, body=token_body("2"))
    token = make_app(clock=FakeClock(T0 + 700)).refresh("refresh-1")
    assert token.refresh_token == "refresh-2" and token.access_token == "access-2"
    assert token.obtained_at == T0 + 700 and token.expires_at == T0 + 1300
    assert form(responses.calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "client-id-1",
        "client_secret": CLIENT_SECRET,
    }


@responses.activate
def test_garbled_expires_in_falls_back_to_exact_lifetime():
    responses.post(TOKEN_URL, body=token_body("2", expires_in="ten minutes"))
    token = make_app(clock=FakeClock(T0)).refresh("refresh-1")
    assert token.expires_at == T0 + 600


REFUSALS = [
    (401, {"error": "unauthorized_client", "error_description": "Old refresh token used."}),
    (400, {"error": "unauthorized_client", "error_description": "Old refresh token used."}),
    (
        400,
        {
            "error": "invalid_request",
            "error_description": "The refresh token expired at 10/11/2022 9:18:20 PM and it is "
            "now 10/28/2022 4:15:50 PM.",
        },
    ),
    (400, {"error": "invalid_request"}),
    (400, {"error": "invalid_grant", "error_description": "invalid or empty chainId"}),
    (400, "Bad Request"),
]


@responses.activate
@pytest.mark.parametrize("status,body", REFUSALS)
def test_refresh_refusals_that_need_a_person(status, body):
    responses.post(
        TOKEN_URL, status=status, body=body if isinstance(body, str) else json.dumps(body)
    )
    with pytest.raises(ReconsentRequired) as info:
        make_app().refresh("refresh-secret-value")
    assert "reconnect" in info.value.message
    assert "refresh-secret-value" not in info.value.message
    assert CLIENT_SECRET not in info.value.message


@responses.activate
def test_refresh_too_early_from_exact():
    responses.post(TOKEN_URL, status=401, body="Access Token not expired")
    with pytest.raises(RefreshTooEarly) as info:
        make_app().refresh("r")
    assert info.value.status == 401


@responses.activate
def test_daily_token_cap_keeps_a_returned_pair():
    body = json.loads(token_body("7"))
    body["error"] = "rate_limit"
    responses.post(TOKEN_URL, status=429, json=body)
    with pytest.raises(TokenError) as info:
        make_app().refresh("r")
    assert "200 a day" in info.value.message
    assert info.value.token.refresh_token == "refresh-7"


@responses.activate
def test_token_endpoint_server_error_is_transient_and_other_errors_are_token_errors():
    responses.post(TOKEN_URL, status=503, body="<html>down</html>")
    with pytest.raises(TransientError) as info:
        make_app().refresh("r")
    assert info.value.ambiguous is True
    responses.replace(responses.POST, TOKEN_URL, status=409, json={"error": "weird"})
    with pytest.raises(TokenError) as info2:
        make_app().refresh("r")
    assert info2.value.status == 409


@responses.activate
def test_refresh_timeout_is_ambiguous_transient():
    responses.post(TOKEN_URL, body=requests.Timeout("slow"))
    with pytest.raises(TransientError) as info:
        make_app().refresh("r")
    assert info.value.ambiguous


def test_plain_http_only_for_loopback(monkeypatch, caplog):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with pytest.raises(ValueError):
        make_app(base_url="http://sandbox.example.com")
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    with pytest.raises(ValueError):
        make_app(base_url="http://127.0.0.1:8000", allow_insecure_loopback=False)
    with pytest.raises(ValueError):
        make_app(base_url="ftp://127.0.0.1")
    with caplog.at_level("WARNING"):
        make_app(base_url="http://127.0.0.1:8000")
    assert os.environ["OAUTHLIB_INSECURE_TRANSPORT"] == "1"
    assert "OAUTHLIB_INSECURE_TRANSPORT" in caplog.text


@responses.activate
def test_loopback_sandbox_refresh_over_http(monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    responses.post("http://127.0.0.1:8000/api/oauth2/token", body=token_body("3"))
    app = make_app(base_url="http://127.0.0.1:8000/")
    assert app.refresh("r").access_token == "access-3"


class RecordingAdapter(requests.adapters.BaseAdapter):
    def __init__(self):
        super().__init__()
        self.urls = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        response = requests.Response()
        response.status_code = 200
        response._content = token_body("5").encode()
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def test_given_session_adapters_are_used_for_the_token_endpoint():
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("https://start.exactonline.nl", adapter)
    app = make_app(session=session)
    assert app.refresh("r").access_token == "access-5"
    assert adapter.urls == [TOKEN_URL]


# --- get_valid_token -------------------------------------------------------------------


class CountingApp:
    """An OAuthApp stand-in that counts refreshes (and can be slow or fail)."""

    def __init__(self, clock, delay=0.0, error=None):
        self.clock, self.delay, self.error = clock, delay, error
        self.calls = []

    def refresh(self, refresh_token):
        self.calls.append(refresh_token)
        if self.delay:
            time.sleep(self.delay)
        if self.error:
            raise self.error
        now = self.clock()
        return Token(
            f"access-{len(self.calls) + 1}", f"refresh-{len(self.calls) + 1}", now + 600, now
        )


def test_valid_token_is_used_without_calling_exact():
    clock = FakeClock(T0 + 500)  # 100 s left
    store = MemoryTokenStore(make_token())
    app = CountingApp(clock)
    assert get_valid_token(store, app, clock=clock).access_token == "access-1"
    assert app.calls == [] and store.saves == 0


def test_refresh_when_less_than_30_seconds_left_and_saved_before_return():
    clock = FakeClock(T0 + 580)  # 20 s left, 580 s old
    store = MemoryTokenStore(make_token())
    app = CountingApp(clock)
    token = get_valid_token(store, app, clock=clock)
    assert app.calls == ["refresh-1"]
    assert token.access_token == "access-2"
    assert store.load() == token and store.saves == 1


def test_refresh_attempted_too_early_never_calls_exact():
    clock = FakeClock(T0 + 100)
    store = MemoryTokenStore(make_token(lifetime=120))  # 20 s left but only 100 s old
    app = CountingApp(clock)
    with pytest.raises(RefreshTooEarly) as info:
        get_valid_token(store, app, clock=clock)
    assert app.calls == []
    assert info.value.retry_at == T0 + 570
    with pytest.raises(RefreshTooEarly):
        get_valid_token(store, app, clock=clock, force=True)
    assert app.calls == []


def test_forced_refresh_returns_what_another_worker_stored():
    clock = FakeClock(T0 + 300)
    store = MemoryTokenStore(make_token(suffix="new"))
    app = CountingApp(clock)
    token = get_valid_token(store, app, clock=clock, force=True, stale_access_token="access-old")
    assert token.access_token == "access-new" and app.calls == []


def test_forced_refresh_with_the_stale_token_refreshes():
    clock = FakeClock(T0 + 590)
    store = MemoryTokenStore(make_token())
    app = CountingApp(clock)
    token = get_valid_token(store, app, clock=clock, force=True, stale_access_token="access-1")
    assert app.calls == ["refresh-1"] and token.access_token == "access-2"
    assert store.load() == token


def test_no_stored_token_requires_consent():
    with pytest.raises(ReconsentRequired):
        get_valid_token(MemoryTokenStore(), CountingApp(FakeClock()), clock=FakeClock())


@responses.activate
@pytest.mark.parametrize("status,body", REFUSALS[:3])
def test_reused_or_expired_refresh_token_propagates_and_keeps_the_store(status, body):
    responses.post(TOKEN_URL, status=status, json=body)
    clock = FakeClock(T0 + 700)
    old = make_token()
    store = MemoryTokenStore(old)
    with pytest.raises(ReconsentRequired):
        get_valid_token(store, make_app(clock=clock), clock=clock)
    assert store.load() == old and store.saves == 0


def test_a_pair_returned_with_an_error_is_persisted():
    clock = FakeClock(T0 + 700)
    rescued = make_token(obtained_at=T0 + 700, suffix="rescued")
    store = MemoryTokenStore(make_token())
    app = CountingApp(clock, error=TokenError("cap", status=429, token=rescued))
    assert get_valid_token(store, app, clock=clock) == rescued
    assert store.load() == rescued
    # an error without a pair propagates
    store2 = MemoryTokenStore(make_token())
    with pytest.raises(TokenError):
        get_valid_token(store2, CountingApp(clock, error=TokenError("x")), clock=clock)
    # a pair without an access token is saved but the error still propagates
    half = Token("", "refresh-only", 0, T0 + 700)
    store3 = MemoryTokenStore(make_token())
    with pytest.raises(TokenError):
        get_valid_token(store3, CountingApp(clock, error=TokenError("x", token=half)), clock=clock)
    assert store3.load() == half


@responses.activate
def test_two_threads_refresh_exactly_once():
    def slow_token(request):
        time.sleep(0.2)  # wide window: the other thread is waiting on the lock
        return (200, {}, token_body("2"))

    responses.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    clock = FakeClock(T0 + 590)
    store = MemoryTokenStore(make_token())
    app = make_app(clock=clock)
    barrier = threading.Barrier(2)
    got, errors = [], []

    def worker():
        barrier.wait()
        try:
            got.append(get_valid_token(store, app, clock=clock))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len(responses.calls) == 1
    assert [t.access_token for t in got] == ["access-2", "access-2"]
    assert store.saves == 1


@responses.activate
def test_exchange_keeps_a_pair_that_oauthlib_rejects():
    responses.post(TOKEN_URL, body=token_body("8", expires_in="n/a"))
    token = make_app(clock=FakeClock(T0)).exchange_code("c")
    assert token.access_token == "access-8" and token.expires_at == T0 + 600
