"""Shared helpers for the tests of the Exact layer (imported, not a conftest)."""

from __future__ import annotations

import json

from chainwise_exact_connector.exact import OAuthApp, Token

BASE = "https://start.exactonline.nl"
API = f"{BASE}/api/v1"
TOKEN_URL = f"{BASE}/api/oauth2/token"
DIVISION = 123456
CLIENT_SECRET = "s3cr3t-client-value"
GUID_A = "11111111-1111-1111-1111-111111111111"
GUID_B = "22222222-2222-2222-2222-222222222222"
GUID_C = "33333333-3333-3333-3333-333333333333"
T0 = 1_780_000_000.0  # a fixed "now", epoch seconds


class FakeClock:
    """A clock whose sleep advances time instantly and remembers every wait."""

    def __init__(self, now: float = T0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_token(obtained_at: float = T0, lifetime: float = 600.0, suffix: str = "1") -> Token:
    return Token(
        access_token=f"access-{suffix}",
        refresh_token=f"refresh-{suffix}",
        expires_at=obtained_at + lifetime,
        obtained_at=obtained_at,
    )


def make_app(clock=None, base_url: str = BASE, **kwargs) -> OAuthApp:
    return OAuthApp(
        "client-id-1",
        CLIENT_SECRET,
        "https://odoo.example.com/exact/oauth/callback",
        base_url,
        clock=clock or FakeClock(),
        **kwargs,
    )


def token_body(suffix: str = "2", expires_in="600") -> str:
    return json.dumps(
        {
            "access_token": f"access-{suffix}",
            "token_type": "bearer",
            "expires_in": expires_in,
            "refresh_token": f"refresh-{suffix}",
        }
    )


def exact_error(text: str) -> str:
    return json.dumps({"error": {"code": "", "message": {"lang": "", "value": text}}})


def results(*records, next_url: str | None = None) -> dict:
    d = {"results": list(records)}
    if next_url:
        d["__next"] = next_url
    return {"d": d}
