"""The sandbox itself: a WSGI application emulating Exact Online's OAuth2 and REST API."""

from __future__ import annotations

import copy
import json
import re
import secrets
import socket
import threading
import time
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from . import entities as E
from . import pages, rules, store
from . import seed as seed_mod
from .clock import amsterdam_offset, amsterdam_wall
from .faults import FaultSet, SandboxDrop, SandboxHang
from .messages import Messages
from .oauth import OAuth, TokenAnswer
from .odata import (
    FilterSyntaxError,
    ODataError,
    check_types,
    evaluate,
    filter_fields,
    format_date,
    is_guid,
    norm_guid,
    parse_filter,
)
from .ratelimit import RateLimits

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8069/chainwise_exact/oauth/callback"
PAGE_SIZE = 60
LOG_SIZE = 2000
JSON_TYPE = "application/json; charset=utf-8"
STREAM = "Error processing request stream."
_REST_RE = re.compile(
    r"^(?P<svc>[A-Za-z]+)/(?P<ent>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>[A-Za-z]+))?/?$"
)
USER_ID = str(uuid.uuid5(seed_mod.NAMESPACE, "user/demo"))


def _json(body, status: int = 200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type=JSON_TYPE)


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
    ):
        if language not in ("nl", "en"):
            raise ValueError("language must be 'nl' or 'en'")
        self.clock = clock or time.time
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.state_file = state_file
        self.lock = threading.RLock()
        self.faults = FaultSet(rng_seed)
        self.requests_log: list[dict] = []
        self.token_calls: list[tuple] = []
        self.release = threading.Event()  # set to end every store-and-hang at once
        config = {
            "language": language,
            "minutely_limit": int(minutely_limit),
            "daily_limit": int(daily_limit),
            "refuse_zero_entries": bool(refuse_zero_entries),
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
        self.limits = RateLimits(
            data["ratelimits"], config["minutely_limit"], config["daily_limit"]
        )
        for rule in faults or ():
            self.add_fault(rule)
        self.save()

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
    def division_codes(self) -> list[int]:
        return [int(c) for c in self.data["divisions"]]

    def configure(self, **changes) -> dict:
        """Change settings at run time (what ``POST /sandbox/api/config`` does).

        Global: ``refuse_zero_entries``, ``language``, ``minutely_limit``, ``daily_limit``.
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
            }

    def save(self) -> None:
        if self.state_file:
            with self.lock:
                store.save(self.state_file, self.data)

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
        if kind is None:
            return Response("Not Found", status=404, content_type="text/plain")
        method = request.method.upper()
        rule = self.faults.match(method, fault_path)
        action = rule.action if rule else None
        entry = {
            "method": method,
            "path": path,
            "query": request.query_string.decode("latin-1"),
            "status": None,
            "ts": self.clock(),
            "fault": action,
            "division": division,
        }
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
        if action == "delay":
            self.sleep(rule.seconds)
        with self.lock:
            try:
                if kind == "token":
                    response = self._token(request)
                elif kind == "auth":
                    response = self._authorize(request)
                elif kind == "me":
                    response = self._me(request, action == "expire-token")
                else:
                    response = self._api(request, fault_path, division, action == "expire-token")
            except ODataError as exc:
                response = _json(
                    {
                        "error": {
                            "code": "",
                            "message": {"lang": "", "value": "\r\n".join(exc.messages)},
                        }
                    },
                    exc.status,
                    exc.headers,
                )
            self._log(entry, response)
            if method != "GET" or kind == "token":
                self.save()
        if action == "store-and-hang":
            entry["status"] = "hung"
            raise SandboxHang(rule.seconds)
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
            response = _json(
                {
                    "error": {
                        "code": "",
                        "message": {"lang": "", "value": "\r\n".join(exc.messages)},
                    }
                },
                exc.status,
            )
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
                return self._list(request, entity, div, self._rows(entity, div))
            rec = self._get_record(entity, div, key)
            if nav:
                child = E.BY_NAME[entity.navigation[nav]]
                rows = [r for r in self._rows(child, div) if r.get("EntryID") == key]
                return self._list(request, child, div, rows)
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

    def _rows(self, entity: E.Entity, div: dict) -> list[dict]:
        if entity.name == "Divisions":
            recs = list(self.data["divisions"].values())
        else:
            recs = list(div["tables"].get(entity.name, {}).values())
        views = [self._view(entity, div, r) for r in recs]
        return sorted(views, key=lambda v: (v[entity.key] is None, v[entity.key]))

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
                        r for r in self._rows(child, div) if r.get("EntryID") == view[entity.key]
                    ]
                    rows.sort(key=lambda r: r.get("LineNumber") or 0)
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

    def _list(self, request, entity, div, rows) -> Response:
        args = request.args
        raw_filter = args.get("$filter")
        if entity.mandatory_filter and not (raw_filter and raw_filter.strip()):
            raise ODataError(
                400,
                "This endpoint has mandatory filtering applied. A GET request "
                "for this endpoint must have a $filter parameter with one of "
                "the following fields in the url:" + ",".join(sorted(entity.filterable)) + ".",
            )
        if raw_filter and raw_filter.strip():
            try:
                node = parse_filter(raw_filter)
            except FilterSyntaxError as exc:
                raise ODataError(400, str(exc)) from None
            bad = [f for f in filter_fields(node) if f not in entity.filterable]
            if bad:
                raise ODataError(
                    400, "Filtering on these fields is not supported: " + ", ".join(bad)
                )
            try:
                check_types(node, entity.edm_types)
            except FilterSyntaxError as exc:
                raise ODataError(400, str(exc)) from None
            rows = [r for r in rows if evaluate(node, r)]
        orderby = args.get("$orderby")
        if orderby:
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
        token = args.get("$skiptoken")
        if token:
            key = self._parse_key(entity, token)
            keys = [r[entity.key] for r in rows]
            if key in keys:
                rows = rows[keys.index(key) + 1 :]
            elif not orderby:
                rows = [r for r in rows if r[entity.key] > key]
        top = args.get("$top")
        if top is not None:
            if not top.strip().isdigit():
                raise ODataError(400, "Invalid $top value: it must be a non-negative integer.")
            top = int(top)
        limit = PAGE_SIZE if top is None else min(PAGE_SIZE, top)
        page, more = rows[:limit], len(rows) > limit and (top is None or top > limit)
        select, expand, csel = self._select_expand(request, entity)
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
