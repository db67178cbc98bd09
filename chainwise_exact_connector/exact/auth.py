"""OAuth2 authorization-code flow against Exact Online, through requests-oauthlib."""

from __future__ import annotations

import json
import logging
import os
import time
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from .errors import (
    ExactError,
    ReconsentRequired,
    RefreshTooEarly,
    TokenError,
    TransientError,
    redact,
)
from .regions import is_loopback_url
from .tokens import Token

_logger = logging.getLogger(__name__)

_RECONSENT_ERRORS = {"invalid_request", "invalid_grant", "invalid_client", "unauthorized_client"}


class _TokenEndpointRefusal(Exception):
    """Raised from the compliance hook to leave requests-oauthlib's parsing early."""

    def __init__(self, response: requests.Response):
        super().__init__(response.status_code)
        self.response = response


class OAuthApp:
    """One Exact app registration (client id/secret, redirect URI) on one base URL.

    ``session``: optional requests.Session whose transport adapters, ``verify``, ``cert``
    and ``proxies`` are copied onto the OAuth2Session of each call (so an in-process
    sandbox adapter or a custom CA bundle applies to the token endpoint too).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        clock=time.time,
        allow_insecure_loopback: bool = True,
    ):
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout
        self.clock = clock
        scheme = urlsplit(self.base_url).scheme
        if scheme == "http":
            if not is_loopback_url(self.base_url):
                raise ValueError(
                    f"Plain http is only allowed for a sandbox on this machine, not for "
                    f"{self.base_url}"
                )
            if not allow_insecure_loopback:
                raise ValueError(f"Plain http is not allowed here: {self.base_url}")
            if os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") != "1":
                # oauthlib only reads this process-wide switch; we set it deliberately
                # and only for a loopback sandbox.
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
                _logger.warning(
                    "OAUTHLIB_INSECURE_TRANSPORT set: plain http allowed for the loopback "
                    "Exact sandbox at %s",
                    self.base_url,
                )
        elif scheme != "https":
            raise ValueError(f"Not an http(s) base URL: {self.base_url}")

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, base_url={self.base_url!r})"

    @property
    def authorize_endpoint(self) -> str:
        return f"{self.base_url}/api/oauth2/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/api/oauth2/token"

    # -- helpers -----------------------------------------------------------------------

    def _oauth_session(self, state: str | None = None, captured: dict | None = None):
        oauth = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri, state=state)
        if self.session is not None:
            for prefix, adapter in self.session.adapters.items():
                oauth.mount(prefix, adapter)
            oauth.verify = self.session.verify
            oauth.cert = self.session.cert
            oauth.proxies = dict(self.session.proxies)

        def check(response: requests.Response) -> requests.Response:
            body = _json_or_none(response)
            if (
                response.status_code != 200
                or not isinstance(body, dict)
                or "error" in body
                or not body.get("access_token")
            ):
                raise _TokenEndpointRefusal(response)
            if captured is not None:
                captured["body"] = body  # kept in case oauthlib rejects a field we can read
            return response

        for hook in ("access_token_response", "refresh_token_response"):
            oauth.register_compliance_hook(hook, check)
        return oauth

    def _token_from_body(self, body: dict, now: float) -> Token:
        expires_in = body.get("expires_in", 600)
        try:
            seconds = float(str(expires_in).strip())
        except ValueError:
            seconds = 600.0  # Exact's fixed lifetime; a garbled field must not lose the pair
        return Token(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or ""),
            expires_at=now + seconds,
            obtained_at=now,
        )

    def _secrets(self, *extra: str) -> list[str]:
        return [self._client_secret, *extra]

    # -- the flow ----------------------------------------------------------------------

    def authorize_url(self, state: str, force_login: bool = False) -> str:
        """URL to send the user's browser to. No ``scope``: Exact asks on its consent page."""
        extra = {"force_login": "1"} if force_login else {}
        url, _state = self._oauth_session(state).authorization_url(self.authorize_endpoint, **extra)
        return url

    def exchange_code(self, code: str) -> Token:
        """Trade the single-use authorization code for a token pair."""
        captured: dict = {}
        oauth = self._oauth_session(captured=captured)
        now = self.clock()
        try:
            body = oauth.fetch_token(
                self.token_url,
                code=code,
                client_secret=self._client_secret,
                include_client_id=True,
                timeout=self.timeout,
            )
        except _TokenEndpointRefusal as exc:
            raise self._refusal(
                exc.response, grant="authorization_code", secrets=self._secrets(code)
            ) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(
                f"The Exact token endpoint could not be reached: {type(exc).__name__}",
                ambiguous=True,
            ) from None
        except (OAuth2Error, ValueError) as exc:
            body = self._rescue(captured, exc, self._secrets(code))
        return self._token_from_body(body, now)

    def refresh(self, refresh_token: str) -> Token:
        """Trade the refresh token for a new pair (the old refresh token dies)."""
        captured: dict = {}
        oauth = self._oauth_session(captured=captured)
        now = self.clock()
        try:
            body = oauth.refresh_token(
                self.token_url,
                refresh_token=refresh_token,
                client_id=self.client_id,
                client_secret=self._client_secret,
                timeout=self.timeout,
            )
        except _TokenEndpointRefusal as exc:
            raise self._refusal(
                exc.response, grant="refresh_token", secrets=self._secrets(refresh_token)
            ) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(
                f"The Exact token endpoint could not be reached: {type(exc).__name__}. "
                "The refresh may have happened; reload the stored token before retrying.",
                ambiguous=True,
            ) from None
        except (OAuth2Error, ValueError) as exc:
            body = self._rescue(captured, exc, self._secrets(refresh_token))
        return self._token_from_body(body, now)

    def _rescue(self, captured: dict, exc: Exception, secrets) -> dict:
        """oauthlib refused a 200 response (e.g. a garbled field): keep the pair anyway.

        Exact has already rotated the refresh token at this point; dropping the pair
        would lose the consent.
        """
        body = captured.get("body")
        if body and body.get("access_token"):
            _logger.warning("Token response not accepted by oauthlib, kept anyway: %s", exc)
            return body
        raise TokenError(redact(f"Unexpected token response: {exc}", secrets))

    def _refusal(self, response: requests.Response, *, grant: str, secrets) -> ExactError:
        """Map a refused token request onto our exceptions."""
        status = response.status_code
        body = _json_or_none(response)
        body = body if isinstance(body, dict) else {}
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
        raw = description or error or (response.text or "").strip()[:200]
        detail = redact(raw, secrets) or f"HTTP {status}"
        lowered = f"{error} {description} {response.text or ''}".lower()

        token = None
        if body.get("access_token") and body.get("refresh_token"):
            token = self._token_from_body(body, self.clock())

        if "not expired" in lowered or "too early" in lowered:
            return RefreshTooEarly(
                f"Exact refused a new token because the previous one is too recent "
                f"(less than 570 s old): {detail}",
                status=status,
            )
        if status == 429:
            return TokenError(
                f"Exact's limit on token requests is reached (200 a day): {detail}",
                status=status,
                token=token,
            )
        if grant == "authorization_code" and 400 <= status < 500:
            return TokenError(
                f"Exact refused the authorization code (it is single-use and valid for about "
                f"3 minutes, or the client ID, secret or redirect URI is wrong). Connect "
                f"again. Exact said: {detail}",
                status=status,
                token=token,
            )
        if grant == "refresh_token" and (
            "old refresh token" in lowered
            or "refresh token expired" in lowered
            or ("refresh token" in lowered and "expired" in lowered)
            or error in _RECONSENT_ERRORS
            or (status in (400, 401) and token is None)
        ):
            return ReconsentRequired(
                f"The consent for Exact Online is no longer valid; an administrator must "
                f"reconnect. Exact said: {detail}"
            )
        if status >= 500 and token is None:
            return TransientError(
                f"The Exact token endpoint failed (HTTP {status}).",
                status=status,
                ambiguous=grant == "refresh_token",
            )
        return TokenError(
            f"Exact refused the token request (HTTP {status}): {detail}", status=status, token=token
        )


def _json_or_none(response: requests.Response):
    try:
        return json.loads(response.text or "")
    except ValueError:
        return None
