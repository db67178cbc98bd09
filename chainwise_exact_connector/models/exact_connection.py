import json
import logging
import secrets
import time
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import consteq
from odoo.tools.misc import hmac

from .. import exact
from .exact_token_store import OdooTokenStore, separate_env

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/chainwise_exact/oauth/callback"
HMAC_SCOPE = "chainwise_exact_oauth"
KEEP_ALIVE_AFTER = 7 * 24 * 3600  # refresh a connection idle for a week (tokens die at ~30 days)
RATE_LIMIT_SAVE_INTERVAL = 5.0  # seconds between two saves of the rate-limit snapshot

REGION_SELECTION = [
    ("nl", "Netherlands (start.exactonline.nl)"),
    ("be", "Belgium (start.exactonline.be)"),
    ("de", "Germany (start.exactonline.de)"),
    ("uk", "United Kingdom (start.exactonline.co.uk)"),
    ("com", "United States (start.exactonline.com)"),
    ("es", "Spain (start.exactonline.es)"),
    ("fr", "France (start.exactonline.fr)"),
    ("custom", "Custom URL (sandbox)"),
]

TOKEN_FIELDS = [
    "access_token",
    "refresh_token",
    "token_expires_at",
    "token_obtained_at",
    "oauth_nonce",
    "last_refresh_date",
    "state",
    "last_error",
    "rate_limit_state",
]


class ExactConnection(models.Model):
    """One Exact app registration plus the consent of one Exact user."""

    _name = "exact.connection"
    _description = "Exact Online Connection"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _check_company_auto = True
    _order = "name, id"

    name = fields.Char(required=True, default="Exact Online", tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    region = fields.Selection(
        REGION_SELECTION,
        required=True,
        default="nl",
        tracking=True,
        help="The Exact Online site your administrations live on. Tokens of one region do "
        "not work on another.",
    )
    custom_base_url = fields.Char(
        "Custom Base URL",
        help="Only for the Exact sandbox or a test server, e.g. http://127.0.0.1:8099. "
        "Plain http is only accepted for an address on this machine.",
    )
    base_url = fields.Char("Base URL", compute="_compute_base_url")
    client_id = fields.Char("Client ID", tracking=True, copy=False)
    client_secret = fields.Char(groups="base.group_system", copy=False)
    redirect_uri = fields.Char(
        "Redirect URI",
        compute="_compute_redirect_uri",
        help="Paste this address in Exact's App Center as the app's redirect URI.",
    )
    access_token = fields.Char(groups="base.group_system", copy=False)
    refresh_token = fields.Char(groups="base.group_system", copy=False)
    token_expires_at = fields.Float(
        "Access Token Expires At", groups="base.group_system", copy=False, digits=(16, 3)
    )
    token_obtained_at = fields.Float(groups="base.group_system", copy=False, digits=(16, 3))
    oauth_nonce = fields.Char(
        "OAuth Nonce",
        groups="base.group_system",
        copy=False,
        help="Single-use value of the pending consent request; cleared when Exact answers.",
    )
    state = fields.Selection(
        [
            ("draft", "Not Connected"),
            ("connected", "Connected"),
            ("reconnect", "Reconnect Needed"),
            ("error", "Error"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    exact_user_name = fields.Char("Exact User", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    request_timeout = fields.Integer(
        default=30, help="Seconds to wait for an answer from Exact before giving up."
    )
    rate_limit_state = fields.Json(
        copy=False, help="Last rate-limit figures Exact reported, per administration."
    )
    last_refresh_date = fields.Datetime("Last Token Refresh", readonly=True, copy=False)
    division_ids = fields.One2many("exact.division", "connection_id", "Administrations")
    division_count = fields.Integer(compute="_compute_division_count")
    is_configured = fields.Boolean(
        compute="_compute_is_configured",
        help="Client ID and Client Secret are filled in (the secret itself is not shown).",
    )

    _sql_constraints = [
        (
            "request_timeout_positive",
            "CHECK(request_timeout > 0)",
            "The request timeout must be a positive number of seconds.",
        ),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("region", "custom_base_url")
    def _compute_base_url(self):
        for connection in self:
            try:
                connection.base_url = connection._exact_base_url()
            except ValueError:
                connection.base_url = False

    def _exact_base_url(self):
        self.ensure_one()
        if self.region == "custom":
            if not self.custom_base_url:
                raise ValueError("no custom base URL")
            return exact.base_url(None, self.custom_base_url)
        return exact.base_url(self.region)

    def _compute_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        for connection in self:
            connection.redirect_uri = base.rstrip("/") + CALLBACK_PATH

    def _compute_division_count(self):
        for connection in self:
            connection.division_count = len(connection.division_ids)

    @api.depends("client_id")
    @api.depends_context("uid")
    def _compute_is_configured(self):
        for connection in self:
            connection.is_configured = bool(
                connection.client_id and connection.sudo().client_secret
            )

    # ------------------------------------------------------------------ constraints

    @api.constrains("region", "custom_base_url")
    def _check_custom_base_url(self):
        for connection in self:
            if connection.region != "custom":
                continue
            if not connection.custom_base_url:
                raise ValidationError(
                    self.env._("Enter the base URL of the Exact sandbox for a custom region.")
                )
            try:
                url = exact.base_url(None, connection.custom_base_url)
            except ValueError:
                raise ValidationError(
                    self.env._(
                        "The custom base URL %(url)s is not an absolute http(s) address "
                        "without path parameters.",
                        url=connection.custom_base_url,
                    )
                ) from None
            if urlsplit(url).scheme == "http" and not exact.is_loopback_url(url):
                raise ValidationError(
                    self.env._(
                        "Plain http is only allowed for a sandbox on this machine "
                        "(localhost or 127.0.0.1); use https for %(url)s.",
                        url=url,
                    )
                )

    # ------------------------------------------------------------------ display

    @api.depends("name", "company_id")
    def _compute_display_name(self):
        for connection in self:
            connection.display_name = connection.name or ""

    # ------------------------------------------------------------------ OAuth

    def _exact_now(self):
        """Epoch seconds; one place so tests and the token logic agree on the clock."""
        return time.time()

    def _exact_sleep(self, seconds):
        """How the client waits (rate-limit reset, retry backoff); tests patch it."""
        time.sleep(seconds)

    def _get_oauth_app(self):
        """The layer's ``OAuthApp`` for this connection (reads the secret as superuser)."""
        self.ensure_one()
        connection = self.sudo()
        if not connection.client_id or not connection.client_secret:
            raise UserError(
                self.env._(
                    "Fill in the Client ID and Client Secret of your Exact app on "
                    "connection %(name)s first.",
                    name=self.name,
                )
            )
        try:
            base = self._exact_base_url()
        except ValueError:
            raise UserError(
                self.env._("Choose a region (or a custom base URL) on %(name)s.", name=self.name)
            ) from None
        return exact.OAuthApp(
            connection.client_id,
            connection.client_secret,
            self.redirect_uri,
            base,
            timeout=self.request_timeout or 30,
            clock=self._exact_now,
        )

    def _oauth_state_signature(self, nonce):
        return hmac(self.env(su=True), HMAC_SCOPE, (self.id, nonce))

    def _oauth_state(self, nonce):
        """``<id>.<nonce>.<hmac>``: the record, a single-use value and their signature."""
        self.ensure_one()
        return f"{self.id}.{nonce}.{self._oauth_state_signature(nonce)}"

    @api.model
    def _check_oauth_state(self, state):
        """The connection the ``state`` of Exact's redirect belongs to, or empty.

        The signature is checked in constant time; the nonce must be the pending one,
        which is cleared at once so the same state never works twice."""
        try:
            record_id, nonce, signature = (state or "").split(".")
            record_id = int(record_id)
        except ValueError:
            return self.browse()
        connection = self.browse(record_id).exists()
        if not connection or not nonce or not signature:
            return self.browse()
        if not consteq(signature, connection._oauth_state_signature(nonce)):
            return self.browse()
        pending = connection.sudo().oauth_nonce or ""
        if not pending or not consteq(nonce, pending):
            return self.browse()
        connection.sudo().oauth_nonce = False
        return connection

    def _check_is_admin(self):
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only an administrator can connect Odoo to Exact Online."))

    def action_connect(self):
        """Open Exact's consent page; Exact sends the browser back to the callback."""
        self.ensure_one()
        self._check_is_admin()
        app = self._get_oauth_app()
        nonce = secrets.token_urlsafe(24)
        self.sudo().oauth_nonce = nonce
        return {
            "type": "ir.actions.act_url",
            "url": app.authorize_url(self._oauth_state(nonce)),
            "target": "self",
        }

    def _oauth_callback(self, code):
        """Trade the authorization code for tokens, check them with ``current/Me`` and
        the divisions, and store them. Raises ``exact.ExactError`` (nothing stored)."""
        self.ensure_one()
        self._check_is_admin()
        app = self._get_oauth_app()
        token = app.exchange_code(code)
        client = exact.ExactClient(
            self._exact_base_url(),
            lambda force=False, stale=None: token.access_token,
            timeout=self.request_timeout or 30,
            max_transient_retries=1,
        )
        me = client.me()
        current = me.get("CurrentDivision")
        divisions = client.divisions(current) if current else []
        user_name = me.get("FullName") or me.get("UserName") or me.get("Email") or ""
        self.sudo().write(
            {
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
                "token_expires_at": token.expires_at,
                "token_obtained_at": token.obtained_at,
                "last_refresh_date": fields.Datetime.now(),
                "state": "connected",
                "exact_user_name": user_name,
                "last_error": False,
            }
        )
        self._close_reconnect_activities()
        names = ", ".join(
            f"{division.get('Code')} {division.get('Description') or ''}".strip()
            for division in divisions
        )
        self.message_post(
            body=self.env._(
                "Connected to Exact Online as %(user)s. Administrations this user can reach: "
                "%(divisions)s.",
                user=user_name or self.env._("(unknown user)"),
                divisions=names or self.env._("none"),
            )
        )
        return divisions

    # ------------------------------------------------------------------ tokens

    def _get_token_store(self):
        self.ensure_one()
        return OdooTokenStore(self, clock=self._exact_now)

    def _get_valid_token(self, force=False, stale=None):
        """A usable ``exact.Token``, refreshed under the row lock when needed.

        ``ReconsentRequired`` puts the connection in ``reconnect`` (committed even if the
        caller rolls back) and propagates."""
        self.ensure_one()
        if self.state in ("draft", "reconnect"):
            raise exact.ReconsentRequired(
                self.env._(
                    "The Exact connection %(name)s is not connected: an administrator must "
                    'use "Connect to Exact" first.',
                    name=self.name,
                )
            )
        store = self._get_token_store()
        try:
            token = exact.get_valid_token(
                store,
                self._get_oauth_app(),
                clock=self._exact_now,
                force=force,
                stale_access_token=stale,
            )
        except exact.ReconsentRequired as exc:
            self._mark_reconnect_separately(exc.message)
            raise
        finally:
            self.invalidate_recordset(TOKEN_FIELDS)
        return token

    def _write_separately(self, values):
        """Write ``values`` in a transaction of its own: the caller is about to raise
        (a button's UserError rolls its transaction back)."""
        self.ensure_one()
        with separate_env(self.env) as env:
            env["exact.connection"].browse(self.id).write(values)
        self.invalidate_recordset(list(values))

    def _mark_reconnect_separately(self, message):
        """``_mark_reconnect`` in a transaction of its own, so it survives a rollback."""
        with separate_env(self.env) as env:
            env["exact.connection"].browse(self.id)._mark_reconnect(message)
        self.invalidate_recordset(TOKEN_FIELDS)

    def _mark_reconnect(self, message):
        """Consent is gone: stop exports, tell the administrators what to do.

        A connection that is not connected (``draft``: never connected or disconnected on
        purpose) or already waits for a reconnect is left as it is."""
        for connection in self:
            if connection.state in ("draft", "reconnect"):
                continue
            connection.sudo().write(
                {
                    "state": "reconnect",
                    "access_token": False,
                    "last_error": message,
                }
            )
            connection.message_post(
                body=self.env._(
                    "Exact Online no longer accepts this connection's consent, so exports "
                    'are stopped. An administrator must use "Connect to Exact" again. '
                    "Exact said: %(message)s",
                    message=message,
                )
            )
            connection._schedule_reconnect_activity()

    def _schedule_reconnect_activity(self):
        self.ensure_one()
        admins = (
            self.env.ref("base.group_system")
            .sudo()
            .users.filtered(
                lambda user: user.active and not user.share and self.company_id in user.company_ids
            )
        )
        existing = self._reconnect_activities().user_id
        for user in admins - existing:
            in_user_lang = self.with_context(lang=user.lang or "en_US")
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=in_user_lang._reconnect_summary(),
                note=in_user_lang._reconnect_note(),
            )

    def _reconnect_summary(self):
        return self.env._("Reconnect Exact Online")

    def _reconnect_note(self):
        return self.env._(
            'Open the connection %(name)s and click "Connect to Exact" to give '
            "consent again; exports resume once it is connected.",
            name=self.name,
        )

    def _reconnect_activities(self):
        """The open reconnect to-dos, each written in its assignee's language (the cron
        and the person who reconnects may use another language than the assignee)."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        return self.activity_ids.filtered(
            lambda a: a.activity_type_id == todo
            and a.summary
            == self.with_context(lang=a.user_id.lang or "en_US")._reconnect_summary()
        )

    def _close_reconnect_activities(self):
        self._reconnect_activities().sudo().action_feedback(
            feedback=self.env._("Connected again.")
        )

    # ------------------------------------------------------------------ client

    def _get_exact_client(self, on_call=None):
        """An ``exact.ExactClient`` for this connection.

        Its tokens come from ``_get_valid_token`` (own cursor, row lock, commit); its
        rate limiter starts from ``rate_limit_state`` and the snapshots are saved back
        (in a separate short transaction, at most every few seconds)."""
        self.ensure_one()
        limiter = exact.RateLimiter(clock=self._exact_now, sleeper=self._exact_sleep)
        for division, snapshot in (self.rate_limit_state or {}).items():
            try:
                limiter.restore(int(division), snapshot)
            except (TypeError, ValueError, KeyError):
                _logger.info("Exact connection %s: ignored a bad rate-limit snapshot", self.id)
        last_save = [0.0]
        touched = set()  # the divisions this client has talked to

        def token_provider(force=False, stale=None):
            return self._get_valid_token(force=force, stale=stale).access_token

        def record_call(call):
            if call.division is not None:
                touched.add(int(call.division))
                state = limiter.state(int(call.division))
                # near the end of the minute or the day every figure counts (0 too: the
                # next worker's limiter must wait for the reset, not send and get a 429)
                remaining = state.minutely_remaining
                urgent = (remaining is not None and remaining <= 5) or limiter.daily_exhausted(
                    int(call.division)
                )
                if urgent or time.monotonic() - last_save[0] >= RATE_LIMIT_SAVE_INTERVAL:
                    last_save[0] = time.monotonic()
                    self._save_rate_limit_state(limiter, touched)
            if on_call is not None:
                on_call(call)

        client = exact.ExactClient(
            self._exact_base_url(),
            token_provider,
            timeout=self.request_timeout or 30,
            rate_limiter=limiter,
            clock=self._exact_now,
            sleeper=self._exact_sleep,
            on_call=record_call,
        )
        client.save_rate_limit_state = lambda: self._save_rate_limit_state(limiter, touched)
        return client

    def _save_rate_limit_state(self, limiter, divisions=None):
        """Store the limiter's per-division snapshots where every worker sees them.

        Only ``divisions`` (default: every division the limiter knows) are written,
        over what is stored now: another worker's fresher figures of its own
        administration are kept."""
        self.ensure_one()
        if divisions is None:
            divisions = limiter.known_divisions()
        try:
            with separate_env(self.env) as env:
                connection = env["exact.connection"].browse(self.id)
                connection.invalidate_recordset(["rate_limit_state"])
                snapshot = dict(connection.rate_limit_state or {})
                for division in divisions:
                    snapshot[str(division)] = limiter.snapshot(division)
                connection.write({"rate_limit_state": json.loads(json.dumps(snapshot))})
        except Exception:  # noqa: BLE001 - a lost snapshot only costs a 429 later
            _logger.info("Exact connection %s: rate-limit snapshot not saved", self.id)
        self.invalidate_recordset(["rate_limit_state"])

    # ------------------------------------------------------------------ buttons

    def action_test_connection(self):
        self.ensure_one()
        try:
            client = self._get_exact_client()
            me = client.me()
        except exact.ReconsentRequired as exc:
            raise UserError(exc.message) from None
        except exact.ExactError as exc:
            # AccessDenied (no licence, blocked user), AuthError, functional errors: the
            # connection needs a look ("error"); an outage or the rate limit does not.
            values = {"last_error": exc.message}
            if not isinstance(exc, (exact.TransientError, exact.RateLimited, exact.TokenError)):
                values["state"] = "error"
            self._write_separately(values)
            raise UserError(
                self.env._("Exact Online answered with an error: %(error)s", error=exc.message)
            ) from None
        user_name = me.get("FullName") or me.get("UserName") or ""
        values = {"last_error": False, "exact_user_name": user_name}
        if self.state == "error":
            values["state"] = "connected"
        # Separately: a token refresh during me() committed the row in its own cursor,
        # and this transaction (repeatable read) may not update it after that.
        self._write_separately(values)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Exact Online"),
                "message": self.env._(
                    "The connection works: logged in as %(user)s.", user=user_name
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_disconnect(self):
        self._check_is_admin()
        for connection in self:
            connection.sudo().write(
                {
                    "access_token": False,
                    "refresh_token": False,
                    "token_expires_at": 0.0,
                    "token_obtained_at": 0.0,
                    "oauth_nonce": False,
                    "state": "draft",
                    "last_error": False,
                }
            )
            connection.message_post(
                body=self.env._("Disconnected from Exact Online; the tokens are deleted.")
            )
        return True

    def action_open_divisions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "chainwise_exact_connector.exact_division_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        action["context"] = {
            "default_connection_id": self.id,
            "default_company_id": self.company_id.id,
        }
        return action

    def action_add_division(self):
        self.ensure_one()
        if self.state != "connected":
            raise UserError(self.env._("Connect to Exact first; then add its administrations."))
        wizard = self.env["exact.division.create.wizard"].create({"connection_id": self.id})
        wizard._load_divisions()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add Administration"),
            "res_model": "exact.division.create.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_keep_alive(self):
        """Refresh the tokens of connections idle for more than a week: an unused
        refresh token dies after about 30 days.

        Each refresh commits in its own cursor (``_get_valid_token``); a failure is
        written on its connection (also in its own transaction, so this cron never holds
        a connection row that an export wants to refresh) and the others go on."""
        now = self._exact_now()
        connections = self.sudo().search([("state", "=", "connected")]).filtered(
            lambda c: now - (c.token_obtained_at or 0.0) >= KEEP_ALIVE_AFTER
        )
        for done, connection in enumerate(connections, start=1):
            try:
                connection.with_company(connection.company_id)._get_valid_token(force=True)
            except exact.ReconsentRequired as exc:
                # already marked "reconnect", an activity is scheduled
                _logger.info("Exact connection %s needs a reconnect: %s", connection.id, exc)
            except exact.ExactError as exc:
                connection._write_separately({"last_error": exc.message})
                _logger.info("Exact keep-alive of connection %s failed: %s", connection.id, exc)
            except Exception as exc:  # noqa: BLE001 - one connection must not stop the others
                _logger.exception("Exact keep-alive of connection %s failed", connection.id)
                connection._write_separately(
                    {
                        "last_error": self.env._(
                            "The token could not be renewed: %(error)s", error=str(exc)
                        )
                    }
                )
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(connections) - done)
