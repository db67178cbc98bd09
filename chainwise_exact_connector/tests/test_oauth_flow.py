import re
import threading
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from odoo import api
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CLIENT_ID, CLIENT_SECRET, ExactSandboxCase

CALLBACK = "/chainwise_exact/oauth/callback"
CONTROLLER_LOGGER = "odoo.addons.chainwise_exact_connector.controllers.main"


@tagged("post_install", "-at_install")
class TestExactOAuthFlow(ExactSandboxCase, HttpCase):
    """The consent flow through the real controller and the sandbox's consent page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new_connection = cls.env["exact.connection"].create(
            {
                "name": "To connect",
                "region": "custom",
                "custom_base_url": cls.sandbox_server.base_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "request_timeout": 3,
            }
        )
        cls.admin = cls.env.ref("base.user_admin")
        cls.invoicer = new_test_user(
            cls.env,
            login="exact_invoicer",
            groups="account.group_account_invoice",
            company_id=cls.company_data["company"].id,
        )

    # ------------------------------------------------------------------ helpers

    def _connect_url(self, connection=None):
        connection = connection or self.new_connection
        action = connection.with_user(self.admin).action_connect()
        self.env.flush_all()
        return action["url"]

    def _approve(self, authorize_url, decision="approve"):
        """What the user does on Exact's consent page: returns Odoo's callback URL."""
        page = requests.get(authorize_url, timeout=10)
        self.assertEqual(page.status_code, 200)
        form = {
            name: unescape(value)
            for name, value in re.findall(
                r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text
            )
        }
        data = [*form.items(), ("decision", decision)]
        data += [
            ("division", code) for code in re.findall(r"name='division' value='(\d+)'", page.text)
        ]
        answer = requests.post(
            self.sandbox_server.base_url + "/api/oauth2/auth",
            data=data,
            allow_redirects=False,
            timeout=10,
        )
        self.assertEqual(answer.status_code, 302)
        location = answer.headers["Location"]
        self.assertTrue(location.startswith(self.new_connection.redirect_uri), location)
        return location

    def _callback_path(self, location):
        parts = urlsplit(location)
        return f"{parts.path}?{parts.query}"

    def _stored(self, connection=None):
        connection = connection or self.new_connection
        self.env.invalidate_all()
        return connection.sudo()

    # ------------------------------------------------------------------ tests

    def test_connect_flow(self):
        self.authenticate("admin", "admin")
        location = self._approve(self._connect_url())
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        self.assertTrue(
            response.headers["Location"].endswith(
                f"/odoo/exact.connection/{self.new_connection.id}"
            )
        )
        connection = self._stored()
        self.assertEqual(connection.state, "connected")
        self.assertTrue(connection.access_token)
        self.assertTrue(connection.refresh_token)
        self.assertGreater(connection.token_expires_at, connection.token_obtained_at)
        self.assertTrue(connection.exact_user_name)
        self.assertFalse(connection.oauth_nonce, "the state works once")
        secrets = [CLIENT_SECRET, connection.access_token, connection.refresh_token]
        code = parse_qs(urlsplit(location).query)["code"][0]
        bodies = " ".join(connection.message_ids.mapped("body"))
        self.assertIn("100001", bodies)
        self.assertIn("Connected to Exact Online", bodies)
        for secret in [*secrets, code]:
            self.assertNotIn(secret, bodies)
        self.assertEqual([c[1] for c in self.sandbox.token_calls][-1:], ["authorization_code"])

        # the same answer again (state already used): refused, nothing changes
        with self.assertLogs(CONTROLLER_LOGGER, level="WARNING"):
            response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertIn("used already", response.text)
        self.assertEqual(self._stored().refresh_token, secrets[2])

    def test_tampered_state(self):
        self.authenticate("admin", "admin")
        url = self._connect_url()
        state = parse_qs(urlsplit(url).query)["state"][0]
        record_id, nonce, signature = state.split(".")
        tampered = f"{record_id}.{nonce}.{'0' * len(signature)}"
        query = urlencode({"code": self.sandbox.grant_code(), "state": tampered})
        with self.assertLogs(CONTROLLER_LOGGER, level="WARNING"):
            response = self.url_open(f"{CALLBACK}?{query}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertIn("does not belong to a connection request", response.text)
        connection = self._stored()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.refresh_token)
        # another record's id with this record's signature does not work either
        other = f"{self.connection.id}.{nonce}.{signature}"
        query = urlencode({"code": self.sandbox.grant_code(), "state": other})
        with self.assertLogs(CONTROLLER_LOGGER, level="WARNING"):
            response = self.url_open(f"{CALLBACK}?{query}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)

    def test_non_administrator(self):
        location = self._approve(self._connect_url())
        self.authenticate("exact_invoicer", "exact_invoicer")
        with self.assertLogs(CONTROLLER_LOGGER, level="WARNING"):
            response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertIn("Only an administrator", response.text)
        connection = self._stored()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.access_token)

    def test_consent_refused(self):
        self.authenticate("admin", "admin")
        location = self._approve(self._connect_url(), decision="deny")
        self.assertIn("error=access_denied", location)
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("refused", response.text)
        self.assertIn("Connect to Exact", response.text)
        connection = self._stored()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.refresh_token)
        self.assertFalse(connection.oauth_nonce)

    def test_reused_code(self):
        self.authenticate("admin", "admin")
        location = self._approve(self._connect_url())
        code = parse_qs(urlsplit(location).query)["code"][0]
        # somebody (or a double click) used the code already
        used = requests.post(
            self.sandbox_server.base_url + "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.new_connection.redirect_uri,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            timeout=10,
        )
        self.assertEqual(used.status_code, 200)
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Exact refused the connection", response.text)
        self.assertNotIn(CLIENT_SECRET, response.text)
        self.assertNotIn(code, response.text)
        connection = self._stored()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.access_token)
        self.assertFalse(connection.refresh_token)

    def test_expired_code(self):
        self.authenticate("admin", "admin")
        location = self._approve(self._connect_url())
        self.clock.advance(600)  # Exact's codes live about 3 minutes
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Exact refused the connection", response.text)
        connection = self._stored()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.refresh_token)

    def test_two_workers_refresh_once(self):
        """Two threads, each with its own registry cursor, need a token at the same time
        after it expired: exactly one refresh reaches Exact."""
        connection_id = self.connection.id
        self.age_tokens()
        self.env.flush_all()
        before = self.token_refresh_calls()
        barrier = threading.Barrier(2)
        tokens, errors = [], []

        def worker():
            try:
                barrier.wait(timeout=10)
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, api.SUPERUSER_ID, {})
                    token = env["exact.connection"].browse(connection_id)._get_valid_token()
                    tokens.append(token.access_token)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertFalse(errors, errors)
        self.assertEqual(len(tokens), 2)
        self.assertEqual(tokens[0], tokens[1])
        self.assertEqual(self.token_refresh_calls(), before + 1)
        self.assertEqual(self._stored(self.connection).access_token, tokens[0])
