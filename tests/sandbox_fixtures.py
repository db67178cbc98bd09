"""Shared helpers for the sandbox tests (imported by tests/test_sandbox_*.py, not a conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import requests

from exact_sandbox import ManualClock, Sandbox, seed_guid
from exact_sandbox.testing import sandbox_session

# Monday 2 March 2026, 09:00:00 UTC (10:00 in Amsterdam)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()
CLIENT_ID = "cid"
CLIENT_SECRET = "secret"
REDIRECT_URI = "http://127.0.0.1:8069/chainwise_exact/oauth/callback"
DIV = 100001
DIV2 = 100002
CUSTOMER = seed_guid(DIV, "Accounts", "1000")
GL = {code: seed_guid(DIV, "GLAccounts", code)
      for code in ("8000", "8010", "8020", "8100", "8200", "8999", "1300", "1500")}
JOURNAL_70 = seed_guid(DIV, "Journals", "70")


@dataclass
class Env:
    sb: Sandbox
    clock: ManualClock
    session: requests.Session
    tokens: dict

    def url(self, path: str, division: int | None = DIV) -> str:
        if path.startswith("/"):
            return self.sb.base_url + path
        if division is None:
            return f"{self.sb.base_url}/api/v1/{path}"
        return f"{self.sb.base_url}/api/v1/{division}/{path}"

    def request(self, method: str, path: str, division: int | None = DIV, **kw):
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}",
                   "Accept": "application/json", **kw.pop("headers", {})}
        return self.session.request(method, self.url(path, division), headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, full=True, **kw):
        headers = kw.pop("headers", {})
        if full:
            headers = {"Prefer": "return=representation", **headers}
        return self.request("POST", path, json=json, headers=headers, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def token(self, **form):
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
        return self.session.post(self.sb.base_url + "/api/oauth2/token", data=data)

    def refresh(self, refresh_token=None):
        return self.token(grant_type="refresh_token",
                          refresh_token=refresh_token or self.tokens["refresh_token"])

    def entry(self, amount=100.0, vat="2", gl="8000", division=DIV, **extra):
        """POST a one-line sales entry on the demo customer; returns the response."""
        line = {"GLAccount": seed_guid(division, "GLAccounts", gl), "AmountFC": amount}
        if vat is not None:
            line["VATCode"] = vat
        body = {"Customer": seed_guid(division, "Accounts", "1000"), "Journal": "70",
                "EntryDate": "2026-03-01", "SalesEntryLines": [line], **extra}
        return self.post("salesentry/SalesEntries", json=body, division=division)


def make_env(**options) -> Env:
    clock = ManualClock(start=T0)
    opts = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI, "seed": "demo", **options}
    sb = Sandbox(clock=clock, **opts)
    return Env(sb, clock, sandbox_session(sb), sb.issue_tokens())


def error_text(response) -> str:
    return response.json()["error"]["message"]["value"]
