"""The sandbox's OAuth2: consent page, code exchange, rotating refresh tokens, 570 s rule."""

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, DIV, DIV2, REDIRECT_URI, make_env
except ImportError:
    from sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, DIV, DIV2, REDIRECT_URI, make_env


@pytest.fixture
def env():
    return make_env()


def _auth(env, **params):
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code",
             "state": "xyz", **params}
    return env.session.get(env.url("/api/oauth2/auth"), params=query, allow_redirects=False)


def _decide(env, decision, divisions=(DIV, DIV2), state="xyz"):
    form = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code",
            "state": state, "decision": decision, "division": [str(d) for d in divisions]}
    return env.session.post(env.url("/api/oauth2/auth"), data=form, allow_redirects=False)


def test_consent_page_names_app_divisions_and_offers_approve_and_deny(env):
    r = _auth(env)
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    assert "ChainWise Exact Connector" in r.text
    assert "100001" in r.text and "ChainWise Demo B.V." in r.text
    assert "ChainWise Zorg B.V." in r.text
    assert re.search(r"<form method='post' action='/api/oauth2/auth'>", r.text)
    assert "Approve" in r.text and "Deny" in r.text


def test_consent_unknown_client_is_an_error_page_without_redirect(env):
    r = _auth(env, client_id="nope")
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert "Unknown client" in r.text


def test_consent_with_other_redirect_uri_is_an_error_page(env):
    r = _auth(env, redirect_uri="http://evil.example/callback")
    assert r.status_code == 400
    assert "Location" not in r.headers
    r2 = _auth(env, redirect_uri=REDIRECT_URI + "/")
    assert r2.status_code == 400


def test_approve_redirects_with_code_and_state(env):
    r = _decide(env, "approve")
    assert r.status_code == 302
    loc = urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT_URI
    q = parse_qs(loc.query)
    assert q["state"] == ["xyz"]
    assert len(q["code"][0]) > 100


def test_deny_redirects_with_access_denied_and_state(env):
    r = _decide(env, "deny")
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["Location"]).query)
    assert q == {"error": ["access_denied"], "state": ["xyz"]}


def test_code_exchange_returns_exact_token_shape(env):
    code = env.sb.grant_code()
    r = env.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == "600"
    assert body["token_type"] == "bearer"
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    me = env.session.get(env.url("current/Me", None),
                         headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_code_works_once(env):
    code = env.sb.grant_code()
    assert env.token(grant_type="authorization_code", code=code,
                     redirect_uri=REDIRECT_URI).status_code == 200
    r = env.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_code_expires_after_three_minutes(env):
    code = env.sb.grant_code()
    env.clock.advance(181)
    r = env.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_code_exchange_with_wrong_redirect_uri_is_refused(env):
    code = env.sb.grant_code()
    r = env.token(grant_type="authorization_code", code=code, redirect_uri="http://x/cb")
    assert r.status_code == 400


def test_client_credentials_by_http_basic(env):
    code = env.sb.grant_code()
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    r = env.session.post(env.url("/api/oauth2/token"),
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": REDIRECT_URI},
                         headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200


def test_wrong_client_secret_is_invalid_request(env):
    r = env.token(grant_type="refresh_token", refresh_token=env.tokens["refresh_token"],
                  client_secret="wrong")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request"}


def test_refresh_rotates_and_old_refresh_token_is_dead(env):
    env.clock.advance(600)
    r = env.refresh()
    assert r.status_code == 200
    new = r.json()
    assert new["refresh_token"] != env.tokens["refresh_token"]
    assert new["expires_in"] == "600"
    env.clock.advance(600)
    old = env.refresh(env.tokens["refresh_token"])
    assert old.status_code == 401
    assert old.json() == {"error": "unauthorized_client",
                          "error_description": "Old refresh token used."}
    assert env.refresh(new["refresh_token"]).status_code == 200


def test_refresh_within_570_seconds_is_refused_and_keeps_the_refresh_token(env):
    env.clock.advance(569)
    r = env.refresh()
    assert r.status_code == 401
    assert r.json()["error_description"] == "Access Token not expired"
    env.clock.advance(1)
    assert env.refresh().status_code == 200


def test_refresh_token_expires_after_30_days_unused(env):
    env.clock.advance(30 * 86400 + 1)
    r = env.refresh()
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("The refresh token expired at ")
    assert "and it is now" in body["error_description"]


def test_access_token_lives_600_seconds(env):
    assert env.get("current/Me", division=None).status_code == 200
    env.clock.advance(599)
    assert env.get("current/Me", division=None).status_code == 200
    env.clock.advance(1)
    r = env.get("current/Me", division=None)
    assert r.status_code == 401
    assert r.content == b""


def test_unknown_or_missing_bearer_is_401_empty(env):
    r = env.session.get(env.url("financial/Journals"))
    assert r.status_code == 401 and r.content == b""
    r = env.session.get(env.url("financial/Journals"), headers={"Authorization": "Bearer zz"})
    assert r.status_code == 401 and r.content == b""


def test_division_outside_consent_is_403_no_division_access():
    env = make_env()
    env.tokens = env.sb.issue_tokens([DIV])
    assert env.get("financial/Journals").status_code == 200
    r = env.get("financial/Journals", division=DIV2)
    assert r.status_code == 403
    assert r.headers["Reason"] == "NoDivisionAccess"
    r = env.get("financial/Journals", division=999999)
    assert r.status_code == 403


def test_consent_with_one_division_checked_reaches_only_that_one(env):
    r = _decide(env, "approve", divisions=[DIV2])
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    env.tokens = env.token(grant_type="authorization_code", code=code,
                           redirect_uri=REDIRECT_URI).json()
    assert env.get("financial/Journals", division=DIV2).status_code == 200
    assert env.get("financial/Journals", division=DIV).status_code == 403
    me = env.get("current/Me", division=None).json()["d"]["results"][0]
    assert me["CurrentDivision"] == DIV2


def test_token_calls_capped_at_200_a_day(env):
    for _ in range(200):
        env.token(grant_type="refresh_token", refresh_token="x")
    r = env.token(grant_type="refresh_token", refresh_token="x")
    assert r.status_code == 429
    env.clock.advance(86400)
    assert env.token(grant_type="refresh_token", refresh_token="x").status_code == 400


def test_token_calls_are_recorded(env):
    env.clock.advance(600)
    env.refresh()
    env.refresh()
    assert [(c[1], c[2]) for c in env.sb.token_calls] == [("refresh_token", 200),
                                                           ("refresh_token", 401)]


def test_revoked_consent_kills_tokens(env):
    env.sb.revoke_consent()
    assert env.get("financial/Journals").status_code == 401
    env.clock.advance(600)
    r = env.refresh()
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_consent_without_state_redirects_without_state(env):
    r = env.session.get(env.url("/api/oauth2/auth"), params={
        "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code"})
    assert "name='state'" not in r.text
    form = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "decision": "approve",
            "division": [str(DIV)]}
    r = env.session.post(env.url("/api/oauth2/auth"), data=form, allow_redirects=False)
    assert set(parse_qs(urlsplit(r.headers["Location"]).query)) == {"code"}


def test_authorize_takes_force_login_and_ignores_a_scope(env):
    r = _auth(env, force_login="1", scope="anything")
    assert r.status_code == 200 and "Approve" in r.text
    r = _auth(env, response_type="token")
    assert r.status_code == 400 and "Location" not in r.headers
