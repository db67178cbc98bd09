"""OAuth2 as Exact does it: authorization codes, rotating refresh tokens, the 570 s rule.

All state is a JSON-able dict (``data["oauth"]``) so it survives restarts with ``--state``.
Token-endpoint answers are OAuth-style JSON (not OData), as Exact's are.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone

ACCESS_LIFETIME = 600
CODE_LIFETIME = 180
REFRESH_IDLE_LIFETIME = 30 * 86400
MIN_REFRESH_AGE = 570
TOKEN_CALLS_PER_DAY = 200


class TokenAnswer(Exception):
    """A token-endpoint error: status and OAuth JSON body."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("error_description") or body.get("error"))
        self.status = status
        self.body = body


def _us_time(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, timezone.utc)
    hour = dt.hour % 12 or 12
    return (
        f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d}:{dt.second:02d} "
        f"{'AM' if dt.hour < 12 else 'PM'}"
    )


def client_from_request(form, authorization: str | None) -> tuple[str | None, str | None]:
    """Client credentials from the form body, or else from HTTP Basic."""
    cid, secret = form.get("client_id"), form.get("client_secret")
    if (not cid or secret is None) and authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            bid, _, bsecret = raw.partition(":")
            from urllib.parse import unquote

            cid, secret = cid or unquote(bid), unquote(bsecret)
        except (ValueError, UnicodeDecodeError):
            pass
    return cid, secret


class OAuth:
    def __init__(self, data: dict, apps: dict, clock):
        self.data = data  # {"codes":{}, "grants":{}, "access":{}, "refresh":{}}
        for k in ("codes", "grants", "access", "refresh", "calls"):
            data.setdefault(k, {})
        self.apps = apps
        self.clock = clock

    # ---------------------------------------------------------------- codes
    def grant_code(self, client_id: str, divisions: list[int]) -> str:
        app = self.apps[client_id]
        code = secrets.token_urlsafe(96)
        self.data["codes"][code] = {
            "client_id": client_id,
            "redirect_uri": app["redirect_uri"],
            "divisions": list(divisions),
            "issued": self.clock(),
            "used": False,
        }
        return code

    # ---------------------------------------------------------------- tokens
    def _issue(self, grant_id: str) -> dict:
        now = self.clock()
        grant = self.data["grants"][grant_id]
        access, refresh = secrets.token_urlsafe(64), secrets.token_urlsafe(48)
        self.data["access"][access] = {
            "grant": grant_id,
            "client_id": grant["client_id"],
            "issued": now,
            "expires": now + ACCESS_LIFETIME,
            "revoked": False,
        }
        old = grant.get("refresh")
        if old and old in self.data["refresh"]:
            self.data["refresh"][old]["status"] = "old"
        self.data["refresh"][refresh] = {"grant": grant_id, "issued": now, "status": "current"}
        grant.update(refresh=refresh, access=access, last_issued=now)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(ACCESS_LIFETIME),
            "refresh_token": refresh,
        }

    def new_grant(self, client_id: str, divisions: list[int]) -> dict:
        grant_id = secrets.token_hex(8)
        self.data["grants"][grant_id] = {
            "client_id": client_id,
            "divisions": list(divisions),
            "created": self.clock(),
        }
        return self._issue(grant_id)

    def _count_call(self, client_id: str) -> None:
        day = int(self.clock() // 86400)
        entry = self.data["calls"].get(client_id)
        if not entry or entry[0] != day:
            entry = [day, 0]
        entry[1] += 1
        self.data["calls"][client_id] = entry
        if entry[1] > TOKEN_CALLS_PER_DAY:
            raise TokenAnswer(
                429,
                {
                    "error": "rate_limit_exceeded",
                    "error_description": f"Maximum number of token requests ({TOKEN_CALLS_PER_DAY})"
                    " per day exceeded.",
                },
            )

    def token(self, form, authorization: str | None) -> dict:
        """Handle one token-endpoint call; returns the token JSON or raises TokenAnswer."""
        cid, secret = client_from_request(form, authorization)
        app = self.apps.get(cid or "")
        if app is not None:
            self._count_call(cid)
        if app is None or not secrets.compare_digest(str(secret or ""), app["client_secret"]):
            raise TokenAnswer(400, {"error": "invalid_request"})
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(cid, app, form)
        if grant_type == "refresh_token":
            return self._refresh(cid, form.get("refresh_token") or "")
        raise TokenAnswer(400, {"error": "unsupported_grant_type"})

    def _exchange(self, cid: str, app: dict, form) -> dict:
        code = self.data["codes"].get(form.get("code") or "")
        now = self.clock()
        if code is None or code["client_id"] != cid:
            raise TokenAnswer(
                400, {"error": "invalid_grant", "error_description": "Invalid authorization code."}
            )
        if code["used"]:
            raise TokenAnswer(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Authorization code has already been used.",
                },
            )
        if now - code["issued"] > CODE_LIFETIME:
            raise TokenAnswer(
                400,
                {"error": "invalid_grant", "error_description": "Authorization code has expired."},
            )
        redirect = form.get("redirect_uri")
        if redirect is not None and redirect != code["redirect_uri"]:
            raise TokenAnswer(
                400, {"error": "invalid_grant", "error_description": "Redirect URI mismatch."}
            )
        code["used"] = True
        return self.new_grant(cid, code["divisions"])

    def _refresh(self, cid: str, refresh_token: str) -> dict:
        now = self.clock()
        info = self.data["refresh"].get(refresh_token)
        grant = info and self.data["grants"].get(info["grant"])
        if info is None or grant is None or grant["client_id"] != cid:
            raise TokenAnswer(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "Token is not allowed, because of invalid or empty chainId"
                    ),
                },
            )
        if info["status"] != "current":
            raise TokenAnswer(
                401,
                {"error": "unauthorized_client", "error_description": "Old refresh token used."},
            )
        expires = info["issued"] + REFRESH_IDLE_LIFETIME
        if now >= expires:
            raise TokenAnswer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"The refresh token expired at {_us_time(expires)} "
                    f"and it is now {_us_time(now)}.",
                },
            )
        current = self.data["access"].get(grant.get("access") or "")
        still_valid = current and not current["revoked"] and now < current["expires"]
        if still_valid and now - grant["last_issued"] < MIN_REFRESH_AGE:
            raise TokenAnswer(
                401,
                {"error": "unauthorized_client", "error_description": "Access Token not expired"},
            )
        return self._issue(info["grant"])

    # ---------------------------------------------------------------- bearer
    def check_bearer(self, authorization: str | None) -> tuple[str, dict] | None:
        """(access token, grant) for a valid bearer token, else None."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        info = self.data["access"].get(token)
        if info is None or info["revoked"] or self.clock() >= info["expires"]:
            return None
        grant = self.data["grants"].get(info["grant"])
        if grant is None:
            return None
        return token, grant

    def client_of(self, authorization: str | None) -> str | None:
        """The app (client id) a bearer token was issued to, valid or not; None for a
        token the sandbox never issued (or forgot after a revoke)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        info = self.data["access"].get(authorization[7:].strip())
        return info.get("client_id") if info else None

    def expire(self, token: str) -> None:
        info = self.data["access"].get(token)
        if info:
            info["revoked"] = True

    def revoke_all(self) -> None:
        """The user withdrew consent: every grant and token is gone."""
        for key in ("grants", "access", "refresh", "codes"):
            self.data[key].clear()
