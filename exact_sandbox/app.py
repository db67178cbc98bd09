"""The sandbox itself: a WSGI application emulating Exact Online's OAuth2 and REST API."""

from __future__ import annotations

import atexit
import bisect
import copy
import json
import re
import secrets
import socket
import threading
import time
import uuid
import weakref
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from . import entities as E
from . import pages, rules, store
from . import seed as seed_mod
from .clock import amsterdam_offset, amsterdam_wall
from .errorblock import COUNTED, ErrorBlocks, blocked_text, endpoint_of
from .faults import FaultSet, SandboxDrop, SandboxHang
from .messages import Messages
from .oauth import OAuth, TokenAnswer
from .odata import (
    FilterSyntaxError,
    ODataError,
    check_types,
    error_body,
    evaluate,
    filter_candidates,
    filter_fields,
    format_date,
    is_guid,
    norm_guid,
    parse_filter,
)
from .ratelimit import RateLimits

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8069/chainwise_exact/oauth/callback"
MAX_URL_LENGTH = 6000  # EXACT_API.md: URLs at most 6,000 characters
MAX_BODY_BYTES = 10 * 1024 * 1024  # EXACT_API.md: POST at most 10 MB
DRAIN_LIMIT = 64 * 1024 * 1024
DEFAULT_SAVE_INTERVAL = 0.5  # seconds between state-file writes (debounce)
PAGE_SIZE = 60
LOG_SIZE = 2000
JSON_TYPE = "application/json; charset=utf-8"
STREAM = "Error processing request stream."
# What Exact answers to $skip is not public (EXACT_API.md: "not supported on newer
# endpoints (use __next)"). The sandbox refuses it, so that a client paging with $skip
# fails visibly instead of reading the first page again and again.
SKIP_NOT_SUPPORTED = (
    "The query parameter '$skip' is not supported on this endpoint. Use the __next link "
    "of the answer to read the next page."
)
_REST_RE = re.compile(
    r"^(?P<svc>[A-Za-z]+)/(?P<ent>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>[A-Za-z]+))?/?$"
)
USER_ID = str(uuid.uuid5(seed_mod.NAMESPACE, "user/demo"))


def _json(body, status: int = 200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type=JSON_TYPE)


def _error_json(messages, status: int, headers=None) -> Response:
    """Exact's OData error body; several problems joined by CRLF."""
    return _json(error_body(messages), status, headers)


def _html(status: int, title: str, text: str) -> Response:
    return Response(
        pages.error_page(f"{status} {title}", text),
        status=status,
        content_type="text/html; charset=utf-8",
    )


def _threshold(value) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("error_block_threshold must be 0 (off) or more")
    return number


def _flush_at_exit(ref) -> None:
    sandbox = ref()
    if sandbox is not None:
        try:
            sandbox.close()
        except Exception:  # never fail the interpreter's exit
            pass


def _oauth_json(body, status: int) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _close_socket(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Sandbox:
    """Exact Online in a box. A WSGI callable: ``sb(environ, start_response)``."""

    def __init__(
        self,
        clock=None,
        client_id=None,
        client_secret=None,
        redirect_uri=None,
        seed="demo",
        minutely_limit=60,
        daily_limit=5000,
        language="nl",
        refuse_zero_entries=False,
        base_url="http://sandbox.test",
        state_file=None,
        rng_seed=None,
        faults=(),
        app_name="ChainWise Exact Connector",
        sleep=time.sleep,
        error_block_threshold=0,
        save_interval=DEFAULT_SAVE_INTERVAL,
    ):
        if language not in ("nl", "en"):
            raise ValueError("language must be 'nl' or 'en'")
        self.clock = clock or time.time
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.state_file = state_file
        self.save_interval = float(save_interval)
        self.max_url_length = MAX_URL_LENGTH
        self.max_body_bytes = MAX_BODY_BYTES
        self.lock = threading.RLock()
        self._save_lock = threading.Lock()  # one state-file write at a time
        self._timer_lock = threading.Lock()
        self._save_timer: threading.Timer | None = None
        self._changes = 0  # bumped by save(): the state changed
        self._saved = 0  # the last change written to the state file
        self.saves = 0  # state-file writes so far
        self._flight_lock = threading.Lock()
        self._in_flight: dict[int, int] = {}
        self.parallel_peak: dict[int, int] = {}  # division -> most requests at once
        self.faults = FaultSet(rng_seed)
        self.requests_log: list[dict] = []
        self.token_calls: list[tuple] = []
        self.release = threading.Event()  # set to end every store-and-hang at once
        config = {
            "language": language,
            "minutely_limit": int(minutely_limit),
            "daily_limit": int(daily_limit),
            "refuse_zero_entries": bool(refuse_zero_entries),
            "error_block_threshold": _threshold(error_block_threshold),
        }
        data = store.load(state_file) if state_file else None
        if data is None:
            data = store.new_state(seed, config)
        else:
            data["config"].update(config)
        self.data = data
        apps = data["apps"]
        if client_id or not apps:
            client_id = client_id or f"{uuid.uuid4()}"
            client_secret = client_secret or secrets.token_urlsafe(12)
            apps.clear()
            apps[client_id] = {
                "client_secret": client_secret,
                "name": app_name,
                "redirect_uri": redirect_uri or DEFAULT_REDIRECT_URI,
            }
        elif redirect_uri or client_secret:
            app = next(iter(apps.values()))
            app["redirect_uri"] = redirect_uri or app["redirect_uri"]
            app["client_secret"] = client_secret or app["client_secret"]
        self.oauth = OAuth(data["oauth"], apps, self.clock)
        self.errors = ErrorBlocks(data.setdefault("errorblocks", {}))
        self.limits = RateLimits(
            data["ratelimits"], config["minutely_limit"], config["daily_limit"]
        )
        for rule in faults or ():
            self.add_fault(rule)
        if state_file:
            atexit.register(_flush_at_exit, weakref.ref(self))
        self.save()
        self.flush()  # the file exists (and holds the app) from the start

    # ------------------------------------------------------------ configuration
    @property
    def config(self) -> dict:
        return self.data["config"]

    @property
    def client_id(self) -> str:
        return next(iter(self.data["apps"]))

    @property
    def client_secret(self) -> str:
        return self.data["apps"][self.client_id]["client_secret"]

    @property
    def redirect_uri(self) -> str:
        return self.data["apps"][self.client_id]["redirect_uri"]

    @property
    def language(self) -> str:
        return self.config["language"]

    @property
    def refuse_zero_entries(self) -> bool:
        return self.config["refuse_zero_entries"]

    @refuse_zero_entries.setter
    def refuse_zero_entries(self, value: bool) -> None:
        self.configure(refuse_zero_entries=value)

    @property
    def error_block_threshold(self) -> int:
        return self.config.get("error_block_threshold", 0)

    @property
    def division_codes(self) -> list[int]:
        return [int(c) for c in self.data["divisions"]]

    def configure(self, **changes) -> dict:
        """Change settings at run time (what ``POST /sandbox/api/config`` does).

        Global: ``refuse_zero_entries``, ``language``, ``minutely_limit``, ``daily_limit``,
        ``error_block_threshold`` (0 switches the error block off).
        Per division (with ``division=<code>``): ``closed_before`` (ISO date or None),
        ``default_payment_condition`` (code or None)."""
        with self.lock:
            division = changes.pop("division", None)
            if division is not None:
                div = self.data["divisions"].get(str(division))
                if div is None:
                    raise ValueError(f"unknown division {division}")
                for key, value in changes.items():
                    if key == "closed_before":
                        div[key] = (
                            None
                            if not value
                            else datetime.fromisoformat(str(value)).date().isoformat()
                        )
                    elif key == "default_payment_condition":
                        div[key] = value or None
                    else:
                        raise ValueError(f"unknown division setting {key!r}")
            else:
                for key, value in changes.items():
                    if key == "refuse_zero_entries":
                        self.config[key] = bool(value)
                    elif key == "language":
                        if value not in ("nl", "en"):
                            raise ValueError("language must be 'nl' or 'en'")
                        self.config[key] = value
                    elif key in ("minutely_limit", "daily_limit"):
                        self.config[key] = int(value)
                        setattr(self.limits, key, int(value))
                    elif key == "error_block_threshold":
                        self.config[key] = _threshold(value)
                    else:
                        raise ValueError(f"unknown setting {key!r}")
            self.save()
            return dict(self.config)

    # ------------------------------------------------------------ python API
    def grant_code(self, division_codes=None) -> str:
        """What "Approve" on the consent page does, without a browser."""
        with self.lock:
            code = self.oauth.grant_code(self.client_id, self._divisions_arg(division_codes))
            self.save()
            return code

    def issue_tokens(self, division_codes=None) -> dict:
        """A fresh consent and its first token pair (code exchange shortcut)."""
        with self.lock:
            tokens = self.oauth.new_grant(self.client_id, self._divisions_arg(division_codes))
            self.save()
            return tokens

    def revoke_consent(self) -> None:
        """The user withdrew the app's access: all tokens stop working."""
        with self.lock:
            self.oauth.revoke_all()
            self.save()

    def _divisions_arg(self, division_codes) -> list[int]:
        if division_codes is None:
            return self.division_codes
        return [int(c) for c in division_codes]

    def add_fault(self, rule: str) -> int:
        return self.faults.add(rule)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self, seed: str = "demo") -> None:
        """Back to a seed: records, rate-limit counters and the request log. The app
        registration, tokens and fault rules stay."""
        with self.lock:
            self.data["divisions"] = seed_mod.build(seed)
            self.data["seed"] = seed
            self.data["ratelimits"].clear()
            self.data["errorblocks"].clear()
            self.requests_log.clear()
            self.save()

    def records(self, division, entity: str) -> list[dict]:
        with self.lock:
            div = self.data["divisions"][str(division)]
            return copy.deepcopy(list(div["tables"].get(entity, {}).values()))

    def state(self) -> dict:
        with self.lock:
            divisions = {}
            for code, div in self.data["divisions"].items():
                info = {k: v for k, v in div.items() if k not in ("tables", "seq")}
                for name in E.STORED:
                    info[name] = copy.deepcopy(list(div["tables"].get(name, {}).values()))
                divisions[code] = info
            return {
                "now": self.clock(),
                "base_url": self.base_url,
                "seed": self.data.get("seed"),
                "config": dict(self.config),
                "app": {
                    "client_id": self.client_id,
                    "redirect_uri": self.redirect_uri,
                    "name": self.data["apps"][self.client_id]["name"],
                },
                "divisions": divisions,
                "faults": self.faults.to_list(),
                "requests": copy.deepcopy(self.requests_log[-200:]),
                "token_calls": len(self.token_calls),
                "parallel_peak": {str(k): v for k, v in self.parallel_peak.items()},
            }

    # ------------------------------------------------------------ state file
    def save(self) -> None:
        """Note that the state changed. With a state file it is written within
        ``save_interval`` seconds (one write for any number of changes in between), at
        once when ``save_interval`` is 0; ``flush()`` writes now, ``close()`` on exit."""
        if not self.state_file:
            return
        with self._timer_lock:
            self._changes += 1
            now = self.save_interval <= 0
            if not now and self._save_timer is None:
                self._save_timer = threading.Timer(self.save_interval, self._timed_flush)
                self._save_timer.daemon = True
                self._save_timer.start()
        if now:
            self.flush()

    def _timed_flush(self) -> None:
        with self._timer_lock:
            self._save_timer = None
        self.flush()

    def flush(self) -> None:
        """Write the state file now if anything changed since the last write."""
        if not self.state_file:
            return
        with self.lock:  # a consistent snapshot; the file is written outside the lock
            change = self._changes
            if change == self._saved:
                return
            text = json.dumps(self.data)
        with self._save_lock:
            if change <= self._saved:  # a newer snapshot was written meanwhile
                return
            store.write_text(self.state_file, text)
            self._saved = change
            self.saves += 1

    def close(self) -> None:
        """Stop the pending write and write the state file (the CLI does this on exit)."""
        with self._timer_lock:
            timer, self._save_timer = self._save_timer, None
        if timer is not None:
            timer.cancel()
        self.flush()

    def _real_seconds(self, seconds: float) -> float:
        """Sandbox seconds as real seconds: divided by a ScaledClock's scale; a manual or
        the real clock keeps them (a manual clock does not run on its own)."""
        scale = getattr(self.clock, "scale", None)
        return seconds / scale if scale else seconds

    def _ctx(self) -> rules.Ctx:
        return rules.Ctx(
            Messages(self.language), amsterdam_wall(self.clock()), self.refuse_zero_entries
        )

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.handle(request)
        except SandboxDrop:
            sock = environ.get("werkzeug.socket")
            if sock is None:
                raise
            _close_socket(sock)
            raise ConnectionAbortedError("sandbox fault: drop") from None
        except SandboxHang as hang:
            sock = environ.get("werkzeug.socket")
            if sock is None:
                raise
            self.release.wait(hang.seconds)
            _close_socket(sock)
            raise ConnectionAbortedError("sandbox fault: store-and-hang") from None
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/sandbox" or path.startswith("/sandbox/"):
            return self._admin(request)
        kind, fault_path, division = self._classify(path)
        method = request.method.upper()
        entry = {
            "method": method,
            "path": path,
            "query": request.query_string.decode("latin-1"),
            "status": None,
            "ts": self.clock(),
            "fault": None,
            "division": division,
        }
        refused = self._front_server(request)
        if refused is not None:
            return self._log(entry, refused)
        if kind is None:
            return Response("Not Found", status=404, content_type="text/plain")
        rule = self.faults.match(method, fault_path)
        action = entry["fault"] = rule.action if rule else None
        if action == "drop":
            self._log(entry, "dropped")
            raise SandboxDrop()
        if action == "html500":
            return self._log(
                entry,
                Response(pages.html500_page(), status=500, content_type="text/html; charset=utf-8"),
            )
        if action == "503":
            return self._log(
                entry,
                Response(
                    pages.error_page("Service Unavailable", "The service is unavailable."),
                    status=503,
                    content_type="text/html; charset=utf-8",
                ),
            )
        if action == "429":
            return self._log(
                entry,
                Response(
                    b"", status=429, headers=self.limits.exhausted_minutely_headers(self.clock())
                ),
            )
        self._enter(division)
        try:
            if action == "delay":
                self.sleep(self._real_seconds(rule.seconds))
            with self.lock:
                try:
                    if kind == "token":
                        response = self._token(request)
                    elif kind == "auth":
                        response = self._authorize(request)
                    else:
                        response = self._rest_call(
                            request, kind, fault_path, division, action == "expire-token"
                        )
                except ODataError as exc:
                    response = _error_json(exc.messages, exc.status, exc.headers)
                self._log(entry, response)
                self.save()  # every call changes something (rate counters, tokens, records)
        finally:
            self._leave(division)
        if action == "store-and-hang":
            entry["status"] = "hung"
            raise SandboxHang(rule.seconds)
        return response

    def _enter(self, division) -> None:
        if division is None:
            return
        with self._flight_lock:
            n = self._in_flight[division] = self._in_flight.get(division, 0) + 1
            if n > self.parallel_peak.get(division, 0):
                self.parallel_peak[division] = n

    def _leave(self, division) -> None:
        if division is None:
            return
        with self._flight_lock:
            self._in_flight[division] -= 1

    def _front_server(self, request: Request) -> Response | None:
        """What a web server in front of Exact refuses before the API sees the request:
        a URL over 6,000 characters (414), a body over 10 MB (413), ``Expect:
        100-continue`` (417). The statuses and pages are the sandbox's choice."""
        environ = request.environ
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if not target:
            query = environ.get("QUERY_STRING") or ""
            target = quote(environ.get("PATH_INFO") or "/") + (f"?{query}" if query else "")
        url_length = len(request.host_url.rstrip("/")) + len(target)
        if url_length > self.max_url_length:
            return _html(
                414,
                "Request-URI Too Long",
                f"The requested URL is {url_length} characters long; this server accepts at "
                f"most {self.max_url_length}.",
            )
        expect = (request.headers.get("Expect") or "").strip().lower()
        if expect:
            self._drain(request, request.content_length or 0)
            return _html(417, "Expectation Failed", f"The expectation '{expect}' is not supported.")
        length = request.content_length
        if length is None and "chunked" in (request.headers.get("Transfer-Encoding") or ""):
            request.max_content_length = self.max_body_bytes
            try:
                request.get_data()  # read (and keep) it now, refused when it is too long
            except RequestEntityTooLarge:
                length = self.max_body_bytes + 1
        if length is not None and length > self.max_body_bytes:
            self._drain(request, length)
            return _html(
                413,
                "Request Entity Too Large",
                f"The request body is {length} bytes; this server accepts at most "
                f"{self.max_body_bytes} bytes (10 MB).",
            )
        return None

    @staticmethod
    def _drain(request: Request, length: int) -> None:
        """Read and drop a refused body, so that a client still sending it gets the answer
        rather than a reset connection (up to 64 MB; beyond that the connection closes)."""
        stream = request.environ.get("wsgi.input")
        if stream is None or not length or length > DRAIN_LIMIT:
            return
        left = length
        try:
            while left > 0:
                chunk = stream.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    def _rest_call(self, request, kind, rest, division, expire_token) -> Response:
        """A REST call (``current/Me`` or a division's endpoint), with the error block
        around it when ``error_block_threshold`` is set."""
        threshold = self.error_block_threshold
        app = self.oauth.client_of(request.headers.get("Authorization")) if threshold else None
        endpoint = "current/me" if kind == "me" else endpoint_of(rest)
        if app is not None:
            until = self.errors.blocked_until(app, division, endpoint, self.clock())
            if until is not None:
                return _error_json([blocked_text(threshold, endpoint, until)], 403)
        if kind == "me":
            response = self._me(request, expire_token)
        else:
            response = self._api(request, rest, division, expire_token)
        if app is not None and response.status_code in COUNTED:
            self.errors.record(app, division, endpoint, self.clock(), threshold)
        return response

    def _log(self, entry: dict, response):
        entry["status"] = response if isinstance(response, str) else response.status_code
        with self.lock:
            self.requests_log.append(entry)
            del self.requests_log[:-LOG_SIZE]
        return response

    @staticmethod
    def _classify(path: str):
        low = path.lower().rstrip("/")
        if low == "/api/oauth2/token":
            return "token", "oauth2/token", None
        if low == "/api/oauth2/auth":
            return "auth", "oauth2/auth", None
        if low == "/api/v1/current/me":
            return "me", "current/Me", None
        m = re.match(r"^/api/v1/(\d+)/(.+)$", path)
        if m:
            return "api", m.group(2), int(m.group(1))
        return None, None, None

    # ------------------------------------------------------------ OAuth endpoints
    def _token(self, request: Request) -> Response:
        grant_type = request.form.get("grant_type")
        if request.method != "POST":
            response = _oauth_json({"error": "invalid_request"}, 405)
        else:
            try:
                body = self.oauth.token(request.form, request.headers.get("Authorization"))
                response = _oauth_json(body, 200)
            except TokenAnswer as answer:
                response = _oauth_json(answer.body, answer.status)
        self.token_calls.append((self.clock(), grant_type, response.status_code))
        return response

    def _authorize(self, request: Request) -> Response:
        params = request.form if request.method == "POST" else request.args
        client_id = params.get("client_id") or ""
        redirect_uri = params.get("redirect_uri") or ""
        state = params.get("state")
        app = self.data["apps"].get(client_id)

        def html(title, text, status=400):
            return Response(
                pages.error_page(title, text),
                status=status,
                content_type="text/html; charset=utf-8",
            )

        if app is None:
            return html("Unknown client", "The client_id is not a registered app.")
        if redirect_uri != app["redirect_uri"]:
            return html(
                "Invalid redirect URI",
                "The redirect_uri does not match the one registered for this app.",
            )
        if params.get("response_type", "code") != "code":
            return html("Unsupported response type", "Only response_type=code is supported.")
        divisions = [
            {"Code": d["Code"], "Description": d["Description"]}
            for d in self.data["divisions"].values()
        ]
        if request.method == "GET":
            return Response(
                pages.consent_page(app["name"], client_id, redirect_uri, state, divisions),
                content_type="text/html; charset=utf-8",
            )
        if request.method != "POST":
            return html("Method not allowed", "Use GET or POST.", 405)
        if params.get("decision") == "approve":
            chosen = [int(c) for c in params.getlist("division") if c.isdigit()]
            chosen = [c for c in chosen if str(c) in self.data["divisions"]]
            if not chosen:
                return html("No division", "Select at least one division.")
            code = self.oauth.grant_code(client_id, chosen)
            query = {"code": code}
        else:
            query = {"error": "access_denied"}
        if state is not None:
            query["state"] = state
        parts = urlsplit(redirect_uri)
        merged = parse_qsl(parts.query, keep_blank_values=True) + list(query.items())
        location = urlunsplit(parts._replace(query=urlencode(merged)))
        return Response("", status=302, headers={"Location": location})

    # ------------------------------------------------------------ REST
    def _me(self, request: Request, expire_token: bool) -> Response:
        auth = self.oauth.check_bearer(request.headers.get("Authorization"))
        if auth is None or expire_token:
            if auth:
                self.oauth.expire(auth[0])
            return Response(b"", status=401)
        _token, grant = auth
        now = self.clock()
        first = grant["divisions"][0] if grant["divisions"] else None
        div = self.data["divisions"].get(str(first), {})
        en = self.language == "en"
        me = {
            "__metadata": {
                "uri": f"{self.base_url}/api/v1/current/Me(guid'{USER_ID}')",
                "type": "Exact.Web.Api.Models.System.Me",
            },
            "AccountingDivision": first,
            "CurrentDivision": first,
            "DivisionCustomer": div.get("Customer"),
            "DivisionCustomerCode": str(first or "").rjust(18),
            "DivisionCustomerName": div.get("Description"),
            "Email": "demo.user@chainwise.example",
            "FirstName": "Demo",
            "FullName": "Demo Gebruiker",
            "Gender": "O",
            "Initials": "D.",
            "IsClientUser": False,
            "IsEmployeeSelfServiceUser": False,
            "Language": "EN" if en else "NL",
            "LanguageCode": "en-GB" if en else "nl-NL",
            "LastName": "Gebruiker",
            "Legislation": "1",
            "MiddleName": None,
            "Nickname": None,
            "PackageCode": "ACC-SANDBOX",
            "Phone": None,
            "PictureUrl": None,
            "ServerTime": amsterdam_wall(now).isoformat(timespec="seconds"),
            "ServerUtcOffset": float(amsterdam_offset(now)),
            "ThumbnailPicture": None,
            "Title": None,
            "UserID": USER_ID,
            "UserName": "demo.user@chainwise.example",
        }
        return _json({"d": {"results": [me]}})

    def _api(self, request, rest: str, division: int, expire_token: bool) -> Response:
        auth = self.oauth.check_bearer(request.headers.get("Authorization"))
        if auth is None or expire_token:
            if auth:
                self.oauth.expire(auth[0])
            return Response(b"", status=401)
        _token, grant = auth
        family, headers = self.limits.hit(grant["client_id"], division, self.clock())
        if family:
            return Response(b"", status=429, headers=headers)
        if division not in grant["divisions"] or str(division) not in self.data["divisions"]:
            headers["Reason"] = "NoDivisionAccess"
            return Response(b"", status=403, headers=headers)
        try:
            response = self._rest(request, rest, self.data["divisions"][str(division)])
        except ODataError as exc:
            response = _error_json(exc.messages, exc.status)
        response.headers.update(headers)
        return response

    def _rest(self, request: Request, rest: str, div: dict) -> Response:
        m = _REST_RE.match(rest)
        entity = m and E.BY_PATH.get(f"{m.group('svc')}/{m.group('ent')}".lower())
        if entity is None:
            segment = rest.split("/")[-1].split("(")[0]
            raise ODataError(404, f"Resource not found for the segment '{segment}'.")
        method = request.method.upper()
        if method not in entity.methods:
            raise ODataError(
                405, f"The requested resource does not support http method '{method}'."
            )
        key = self._parse_key(entity, m.group("key")) if m.group("key") is not None else None
        nav = m.group("nav")
        if nav is not None and (nav not in entity.navigation or key is None or method != "GET"):
            raise ODataError(404, f"Resource not found for the segment '{nav}'.")
        ctx = self._ctx()
        if method == "GET":
            if key is None:
                return self._list(request, entity, div)
            rec = self._get_record(entity, div, key)
            if nav:
                child = E.BY_NAME[entity.navigation[nav]]
                return self._list(request, child, div, rules.entry_lines(div, key))
            select, expand, csel = self._select_expand(request, entity)
            return _json(
                {
                    "d": self._serialize(
                        entity, div, self._view(entity, div, rec), select, expand, csel
                    )
                }
            )
        if method == "POST":
            if key is not None:
                raise ODataError(405, "The requested resource does not support http method 'POST'.")
            clean = rules.coerce_body(entity, self._body(request), "POST")
            new_key = rules.create(ctx, div, entity, clean)
            rec = div["tables"][entity.name][new_key]
            full = self._serialize(entity, div, self._view(entity, div, rec), None, ())
            if "return=representation" not in (request.headers.get("Prefer") or ""):
                full = {
                    k: (
                        v
                        if k in ("__metadata", entity.key)
                        or isinstance(v, dict)
                        and "__deferred" in v
                        else None
                    )
                    for k, v in full.items()
                }
            return _json({"d": full}, 201)
        if key is None:
            raise ODataError(400, f"A key is required for {method} on {entity.name}.")
        self._get_record(entity, div, key)
        if method == "PUT":
            clean = rules.coerce_body(entity, self._body(request), "PUT")
            rules.update(ctx, div, entity, key, clean)
        else:
            rules.delete(ctx, div, entity, key)
        return Response(b"", status=204)

    @staticmethod
    def _body(request: Request):
        raw = request.get_data()
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ODataError(400, f"{STREAM} JSON text specified is not valid.") from None

    @staticmethod
    def _parse_key(entity: E.Entity, text: str):
        text = text.strip()
        if entity.key_edm == E.I32:
            if not text.rstrip("L").isdigit():
                raise ODataError(400, "Bad Request - Error in query syntax.")
            return int(text.rstrip("L"))
        m = re.match(r"^guid'(.*)'$", text)
        value = m.group(1) if m else text.strip("'")
        if not is_guid(value):
            raise ODataError(400, "Unrecognized Guid format.")
        return norm_guid(value)

    def _get_record(self, entity, div, key):
        if entity.name == "Divisions":
            rec = self.data["divisions"].get(str(key))
        else:
            rec = div["tables"].get(entity.name, {}).get(key)
        if rec is None:
            raise ODataError(404, f"Resource not found for the segment '{entity.name}'.")
        return rec

    def _view(self, entity, div, rec) -> dict:
        lang = 1 if self.language == "en" else 0
        if entity.name == "Divisions":
            out = {p: rec.get(p) for p in entity.props}
            for p in ("Started", "Created", "Modified"):
                out[p] = datetime.fromisoformat(out[p]) if out[p] else None
            out["Country"] = rules.pad3(out["Country"])
            return out
        return rules.view(self._ctx(), div, entity, rec, lang)

    def _select_expand(self, request, entity):
        select = None
        raw = request.args.get("$select")
        if raw and raw.strip() != "*":
            select = []
            for name in (s.strip() for s in raw.split(",")):
                top = name.split("/")[0]
                if top not in entity.props:
                    raise ODataError(
                        400,
                        f"Could not find a property named '{top}' on type "
                        f"'{entity.metadata_type}'.",
                    )
                if top not in select:
                    select.append(top)
        expand = tuple(
            s.strip() for s in (request.args.get("$expand") or "").split(",") if s.strip()
        )
        for name in expand:
            if name not in entity.navigation:
                raise ODataError(
                    400,
                    f"Could not find a property named '{name}' on type '{entity.metadata_type}'.",
                )
        if select is not None:
            for name in expand:
                if name not in select:
                    select.append(name)
        child_select = {}
        if raw:
            for name in (s.strip() for s in raw.split(",")):
                if "/" in name:
                    nav, prop = name.split("/", 1)
                    child_select.setdefault(nav, []).append(prop)
        return select, expand, child_select

    def _key_literal(self, entity, value) -> str:
        return str(value) if entity.key_edm == E.I32 else f"guid'{value}'"

    def _serialize(self, entity, div, view: dict, select, expand, child_select=None) -> dict:
        base = f"{self.base_url}/api/v1/{div['Code']}/{entity.path}"
        uri = f"{base}({self._key_literal(entity, view[entity.key])})"
        out = {"__metadata": {"uri": uri, "type": entity.metadata_type}}
        names = select if select is not None else list(entity.props)
        for name in names:
            edm = entity.props[name][0]
            if edm == "Nav":
                if name in expand:
                    child = E.BY_NAME[entity.navigation[name]]
                    rows = [
                        self._view(child, div, r) for r in rules.entry_lines(div, view[entity.key])
                    ]
                    csel = (child_select or {}).get(name)
                    if csel == ["*"]:
                        csel = None
                    out[name] = {
                        "results": [self._serialize(child, div, r, csel, ()) for r in rows]
                    }
                else:
                    out[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
                continue
            value = view.get(name)
            if isinstance(value, datetime):
                value = format_date(value)
            out[name] = value
        return out

    def _parse_filter(self, args, entity):
        """The parsed ``$filter`` (None without one), after Exact's checks: mandatory
        filtering, fields allowed in a filter, operand types."""
        raw_filter = args.get("$filter")
        if entity.mandatory_filter and not (raw_filter and raw_filter.strip()):
            raise ODataError(
                400,
                "This endpoint has mandatory filtering applied. A GET request "
                "for this endpoint must have a $filter parameter with one of "
                "the following fields in the url:" + ",".join(sorted(entity.filterable)) + ".",
            )
        if not (raw_filter and raw_filter.strip()):
            return None
        try:
            node = parse_filter(raw_filter)
        except FilterSyntaxError as exc:
            raise ODataError(400, str(exc)) from None
        bad = [f for f in filter_fields(node) if f not in entity.filterable]
        if bad:
            raise ODataError(400, "Filtering on these fields is not supported: " + ", ".join(bad))
        try:
            check_types(node, entity.edm_types)
        except FilterSyntaxError as exc:
            raise ODataError(400, str(exc)) from None
        return node

    def _list(self, request, entity, div, recs=None) -> Response:
        """A list answer: ``recs`` (stored records, e.g. an entry's lines) or the entity's
        whole table, filtered, ordered by key (or ``$orderby``), 60 a page.

        Without ``$orderby`` the work per request is the index lookup of the filter's
        ``eq`` conditions (see ``odata.filter_candidates``), then the records from the
        ``$skiptoken`` on, until a page is full: no view of every record."""
        args = request.args
        node = self._parse_filter(args, entity)
        if "$skip" in args:
            raise ODataError(400, SKIP_NOT_SUPPORTED)
        top = args.get("$top")
        if top is not None:
            if not top.strip().isdigit():
                raise ODataError(400, "Invalid $top value: it must be a non-negative integer.")
            top = int(top)
        limit = PAGE_SIZE if top is None else min(PAGE_SIZE, top)
        select, expand, csel = self._select_expand(request, entity)
        token = args.get("$skiptoken")
        token_key = self._parse_key(entity, token) if token else None
        if entity.name == "Divisions":
            by_key = {d["Code"]: d for d in self.data["divisions"].values()}
            keys = sorted(by_key)
        elif recs is not None:
            by_key = {r[entity.key]: r for r in recs}
            keys = sorted(by_key)
        else:
            by_key = rules.table(div, entity.name)
            wanted = (
                None
                if node is None
                else filter_candidates(
                    node, lambda field, value: self._lookup(entity, by_key, field, value)
                )
            )
            keys = by_key.sorted_keys() if wanted is None else sorted(wanted)
        orderby = args.get("$orderby")
        if orderby:
            rows = [self._view(entity, div, by_key[k]) for k in keys]
            if node is not None:
                rows = [r for r in rows if evaluate(node, r)]
            for part in reversed([p.strip() for p in orderby.split(",") if p.strip()]):
                name, _, direction = part.partition(" ")
                if name not in entity.props:
                    raise ODataError(
                        400,
                        f"Could not find a property named '{name}' on type "
                        f"'{entity.metadata_type}'.",
                    )
                rows.sort(
                    key=lambda r, n=name: (
                        r.get(n) is None,
                        r.get(n) or 0 if not isinstance(r.get(n), str) else r[n],
                    ),
                    reverse=direction.strip().lower() == "desc",
                )
            if token_key is not None:
                row_keys = [r[entity.key] for r in rows]
                if token_key in row_keys:
                    rows = rows[row_keys.index(token_key) + 1 :]
            page, more = rows[:limit], len(rows) > limit
        else:
            page, more = [], False
            start = bisect.bisect_right(keys, token_key) if token_key is not None else 0
            for i in range(start, len(keys)):
                row = self._view(entity, div, by_key[keys[i]])
                if node is not None and not evaluate(node, row):
                    continue
                if len(page) >= limit:
                    more = True
                    break
                page.append(row)
        more = more and (top is None or top > limit)
        results = [self._serialize(entity, div, r, select, expand, csel) for r in page]
        d = {"results": results}
        if more and page:
            params = [(k, v) for k, v in args.items(multi=True) if k != "$skiptoken"]
            if top is not None:
                params = [(k, v) if k != "$top" else (k, str(top - limit)) for k, v in params]
            params.append(("$skiptoken", self._key_literal(entity, page[-1][entity.key])))
            query = "&".join(f"{k}={quote(v, safe=chr(39) + '(),:$')}" for k, v in params)
            d["__next"] = f"{self.base_url}{request.path}?{query}"
        return _json({"d": d})

    @staticmethod
    def _lookup(entity, tbl, field, value):
        """Keys of ``tbl`` whose ``field`` may equal ``value``; None: not indexed."""
        if field == entity.key:
            return {value} if isinstance(value, str) and value in tbl else set()
        return tbl.lookup(field, value)

    # ------------------------------------------------------------ admin
    def _admin(self, request: Request) -> Response:
        path, method = request.path.rstrip("/"), request.method.upper()
        try:
            if path == "/sandbox" and method == "GET":
                return Response(
                    pages.overview_page(self.state()), content_type="text/html; charset=utf-8"
                )
            if path == "/sandbox/api/state" and method == "GET":
                return _json(self.state())
            body = {}
            if method in ("POST", "PUT") and request.get_data():
                body = json.loads(request.get_data().decode("utf-8"))
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
            if path == "/sandbox/api/reset" and method == "POST":
                self.reset(body.get("seed", "demo"))
                return _json({"ok": True, "seed": body.get("seed", "demo")})
            if path == "/sandbox/api/faults":
                if method == "GET":
                    return _json({"faults": self.faults.to_list()})
                if method == "POST":
                    return _json({"id": self.add_fault(str(body.get("rule", "")))})
                if method == "DELETE":
                    self.clear_faults()
                    return _json({"ok": True})
            m = re.match(r"^/sandbox/api/faults/(\d+)$", path)
            if m and method == "DELETE":
                return _json({"ok": self.faults.remove(int(m.group(1)))})
            if path == "/sandbox/api/clock" and method == "POST":
                if not hasattr(self.clock, "advance"):
                    return _json({"error": "the sandbox clock is not a manual clock"}, 400)
                if "set" in body:
                    self.clock.set(float(body["set"]))
                if "advance" in body:
                    self.clock.advance(float(body["advance"]))
                return _json({"now": self.clock()})
            if path == "/sandbox/api/config" and method == "POST":
                return _json(self.configure(**body))
            if path == "/sandbox/api/tokens" and method == "POST":
                return _json(self.issue_tokens(body.get("divisions")))
            if path == "/sandbox/api/revoke" and method == "POST":
                self.revoke_consent()
                return _json({"ok": True})
        except (ValueError, TypeError, KeyError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"error": "not found"}, 404)
