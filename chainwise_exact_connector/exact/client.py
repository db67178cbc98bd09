"""The REST client: division-scoped calls, paging, error mapping, retries, rate limits."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import requests

from .errors import (
    AccessDenied,
    AuthError,
    ExactError,
    FunctionalError,
    NotFound,
    RateLimited,
    TransientError,
    redact,
)
from .odata import guid_literal, next_link, unwrap
from .ratelimit import RateLimiter

_SECRET_KEYS = {
    "access_token",
    "refresh_token",
    "client_secret",
    "code",
    "password",
    "authorization",
}
_LARGE_KEYS = {"attachment"}
_RESPONSE_TEXT_LIMIT = 2000
_MAX_PAGES = 10_000


@dataclass
class CallRecord:
    """One HTTP call, for the caller's log (bodies with secrets removed)."""

    method: str
    url: str
    division: int | str | None
    resource: str | None
    status: int | None
    duration_ms: int
    request_body: dict | None
    response_text: str
    error: str | None


def sanitize_body(body):
    """A copy of a request body without secrets, with large binaries summarised."""
    if isinstance(body, dict):
        out = {}
        for key, value in body.items():
            lowered = str(key).lower()
            if lowered in _SECRET_KEYS:
                out[key] = "***"
            elif lowered in _LARGE_KEYS and isinstance(value, str):
                out[key] = f"<{len(value)} characters of base64>"
            else:
                out[key] = sanitize_body(value)
        return out
    if isinstance(body, list):
        return [sanitize_body(item) for item in body]
    return body


def exact_error_message(text: str | None) -> str | None:
    """The text of Exact's JSON error body, or None when the body is not one."""
    try:
        body = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    message = body["error"].get("message")
    if isinstance(message, dict):
        value = message.get("value")
    else:
        value = message
    if value is None:
        return None
    return str(value)


class ExactClient:
    """Calls Exact's REST API for one connection.

    ``token_provider(force=False, stale=None) -> str`` returns the access token to use;
    the client calls it with ``force=True`` and the failed token after a 401.
    One requests.Session is reused (keep-alive); every call has a timeout.
    Exact asks for no parallel requests per division: use one client per worker and
    let the rate limiter pace it.
    """

    def __init__(
        self,
        base_url: str,
        token_provider,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        rate_limiter: RateLimiter | None = None,
        clock=time.time,
        sleeper=time.sleep,
        max_429_retries: int = 3,
        max_transient_retries: int = 3,
        backoff: float = 1.0,
        on_call=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/v1"
        self.token_provider = token_provider
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.headers["Content-Type"] = "application/json"
        self.session.headers.pop("Expect", None)  # Exact fails more with 100-continue
        self.timeout = timeout
        self.clock = clock
        self.sleeper = sleeper
        self.rate_limiter = rate_limiter or RateLimiter(clock=clock, sleeper=sleeper)
        self.max_429_retries = max_429_retries
        self.max_transient_retries = max_transient_retries
        self.backoff = backoff
        self.on_call = on_call

    # -- URLs --------------------------------------------------------------------------

    def url(self, division, resource: str) -> str:
        resource = resource.strip("/")
        if not resource:
            raise ValueError("No resource given")
        if division is None:
            return f"{self.api_url}/{resource}"
        return f"{self.api_url}/{int(division)}/{resource}"

    # -- public API --------------------------------------------------------------------

    def me(self) -> dict:
        """``current/Me``: who the token belongs to (no division in the URL)."""
        data = self._request("GET", None, "current/Me")
        records = unwrap(data)
        if isinstance(records, list):
            if not records:
                raise TransientError("Exact returned no user for current/Me", status=200)
            return records[0]
        return records

    def get(
        self,
        division,
        resource: str,
        *,
        filter: str | None = None,
        select=None,
        top: int | None = None,
        expand=None,
        orderby=None,
    ) -> list[dict]:
        """All records matching, following ``__next`` across pages (used as given)."""
        params = {}
        if filter:
            params["$filter"] = filter
        if select:
            params["$select"] = select if isinstance(select, str) else ",".join(select)
        if top is not None:
            params["$top"] = str(int(top))
        if expand:
            params["$expand"] = expand if isinstance(expand, str) else ",".join(expand)
        if orderby:
            params["$orderby"] = orderby if isinstance(orderby, str) else ",".join(orderby)
        results: list[dict] = []
        url: str | None = self.url(division, resource)
        seen: set[str] = set()
        first = True
        while url:
            if len(seen) >= _MAX_PAGES:
                raise TransientError(f"Gave up paging {resource} after {_MAX_PAGES} pages")
            seen.add(url)
            data = self._request(
                "GET", division, resource, url=url, params=params if first else None
            )
            first = False
            page = unwrap(data)
            results.extend(page if isinstance(page, list) else [page])
            if top is not None and len(results) >= top:
                return results[:top]
            url = next_link(data)
            if url and url in seen:
                raise TransientError(f"Exact sent the same __next link twice for {resource}")
        return results

    def get_one(self, division, resource: str, guid, *, select=None, expand=None) -> dict | None:
        """One record by its GUID key, or None when Exact does not have it."""
        params = {}
        if select:
            params["$select"] = select if isinstance(select, str) else ",".join(select)
        if expand:
            params["$expand"] = expand if isinstance(expand, str) else ",".join(expand)
        path = f"{resource.strip('/')}({guid_literal(guid)})"
        try:
            data = self._request(
                "GET", division, resource, url=self.url(division, path), params=params or None
            )
        except NotFound:
            return None
        if data is None:
            return None
        record = unwrap(data)
        if isinstance(record, list):
            return record[0] if record else None
        return record or None

    def post(self, division, resource: str, payload: dict) -> dict:
        """Create a record; returns the full record (``Prefer: return=representation``).

        Never retried on a timeout or 5xx: TransientError(ambiguous=True) tells the caller
        the record may exist now.
        """
        data = self._request("POST", division, resource, body=payload)
        if data is None:
            return {}
        record = unwrap(data)
        if isinstance(record, list):
            return record[0] if record else {}
        return record

    def put(self, division, resource: str, guid, payload: dict) -> None:
        path = f"{resource.strip('/')}({guid_literal(guid)})"
        self._request("PUT", division, resource, url=self.url(division, path), body=payload)

    def delete(self, division, resource: str, guid) -> None:
        path = f"{resource.strip('/')}({guid_literal(guid)})"
        self._request("DELETE", division, resource, url=self.url(division, path))

    def divisions(self, division) -> list[dict]:
        """The administrations the user can reach (``system/Divisions``)."""
        return self.get(division, "system/Divisions")

    # -- the engine --------------------------------------------------------------------

    def _request(
        self,
        method: str,
        division,
        resource: str,
        *,
        url: str | None = None,
        params: dict | None = None,
        body: dict | None = None,
    ):
        url = url or self.url(division, resource)
        data = json.dumps(body) if body is not None else None
        refreshed = False
        retries_429 = 0
        retries_transient = 0
        # The access token is asked for right before each attempt, after any wait (the
        # minute's reset, a 429, a backoff): one handed out before a wait of up to a
        # minute may expire during it and cost a 401 (which Exact counts as an error).
        # Only the attempt right after a forced refresh uses what that refresh returned.
        forced = None
        while True:
            if division is not None:
                self.rate_limiter.before_request(division)
            token = forced or self.token_provider()
            forced = None
            headers = {"Authorization": f"Bearer {token}"}
            if method == "POST":
                headers["Prefer"] = "return=representation"
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                error = TransientError(
                    f"No answer from Exact Online ({type(exc).__name__}) for {method} {resource}.",
                    ambiguous=method == "POST",
                )
                self._record(
                    method, url, division, resource, None, started, body, "", error.message, params
                )
                if method != "POST" and retries_transient < self.max_transient_retries:
                    self.sleeper(self.backoff * (2**retries_transient))
                    retries_transient += 1
                    continue
                raise error from None

            text = response.text or ""
            if division is not None:
                self.rate_limiter.update(division, response.headers)
            status = response.status_code
            error: ExactError | None = None
            result = None
            if 200 <= status < 300:
                if status == 204 or not text.strip():
                    result = None
                else:
                    try:
                        result = json.loads(text)
                        if not isinstance(result, (dict, list)):
                            raise ValueError("not an object")
                    except ValueError:
                        error = TransientError(
                            f"Exact Online answered {method} {resource} with HTTP {status} "
                            "but the body is not valid JSON.",
                            ambiguous=method == "POST",
                            status=status,
                        )
            else:
                error = self._error_for(method, resource, response, text)
            self._record(
                method,
                url,
                division,
                resource,
                status,
                started,
                body,
                redact(text[:_RESPONSE_TEXT_LIMIT], [token]),
                redact(error.message, [token]) if error else None,
                params,
            )
            if error is None:
                return result

            if status == 401 and not refreshed:
                refreshed = True
                forced = self.token_provider(force=True, stale=token)
                continue
            if isinstance(error, RateLimited) and retries_429 < self.max_429_retries:
                retries_429 += 1
                self.sleeper(max(0.0, (error.reset_at or 0) - self.clock()) + 0.5)
                continue
            if (
                isinstance(error, TransientError)
                and method != "POST"
                and retries_transient < self.max_transient_retries
            ):
                self.sleeper(self.backoff * (2**retries_transient))
                retries_transient += 1
                continue
            error.message = redact(error.message, [token])
            error.args = (error.message,)
            raise error

    def _error_for(
        self, method: str, resource: str, response: requests.Response, text: str
    ) -> ExactError:
        status = response.status_code
        where = f"{method} {resource}"
        if status == 401:
            return AuthError(f"Exact Online did not accept the access token ({where}, HTTP 401).")
        if status == 429:
            state_headers = {k.lower(): v for k, v in response.headers.items()}
            family, reset = "minutely", None
            for fam, header in (
                ("minutely", "x-ratelimit-minutely-reset"),
                ("daily", "x-ratelimit-reset"),
            ):
                raw = state_headers.get(header)
                if raw:
                    try:
                        reset = int(float(raw)) / 1000.0
                        family = fam
                        break
                    except ValueError:
                        continue
            if reset is None or reset <= self.clock():
                reset = self.clock() + 60.0
            return RateLimited(
                f"Exact Online's {family} API limit is reached ({where}).",
                reset_at=reset,
                family=family,
            )
        if status == 403:
            reason = response.headers.get("Reason")
            suffix = f" (reason: {reason})" if reason else ""
            return AccessDenied(
                f"The Exact user may not do this ({where}, HTTP 403){suffix}.",
                reason=reason,
            )
        if status == 404:
            return NotFound(f"Exact Online does not have this ({where}, HTTP 404).")
        message = exact_error_message(text)
        if message is not None and status not in (502, 503, 504):
            return FunctionalError(status, message)
        if status >= 500:
            return TransientError(
                f"Exact Online failed on {where} (HTTP {status})"
                + (", the request may have been processed." if method == "POST" else "."),
                ambiguous=method == "POST",
                status=status,
            )
        snippet = " ".join(text.split())[:300] or f"HTTP {status}"
        return FunctionalError(status, snippet)

    def _record(
        self,
        method,
        url,
        division,
        resource,
        status,
        started,
        body,
        response_text,
        error,
        params=None,
    ):
        if self.on_call is None:
            return
        if params:
            url = requests.Request(method, url, params=params).prepare().url
        self.on_call(
            CallRecord(
                method=method,
                url=url,
                division=division,
                resource=resource,
                status=status,
                duration_ms=int((time.monotonic() - started) * 1000),
                request_body=sanitize_body(body) if body is not None else None,
                response_text=response_text,
                error=error,
            )
        )
