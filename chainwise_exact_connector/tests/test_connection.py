import logging
from pathlib import Path
from unittest.mock import patch

from odoo.addons.chainwise_exact_connector import exact
from odoo.addons.chainwise_exact_connector.models.exact_token_store import OdooTokenStore
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import file_open

from .common import CLIENT_SECRET, ExactSandboxCase


@tagged("post_install", "-at_install")
class TestExactConnection(ExactSandboxCase):
    def _secrets(self, connection=None):
        connection = (connection or self.connection).sudo()
        values = [CLIENT_SECRET, connection.access_token, connection.refresh_token]
        return [value for value in values if value]

    def assertNoSecret(self, text, secrets):
        for secret in secrets:
            self.assertNotIn(secret, text or "")

    # ------------------------------------------------------------------ set-up

    def test_fixture_connected(self):
        connection = self.connection
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.base_url, self.sandbox_server.base_url)
        self.assertTrue(connection.redirect_uri.endswith("/chainwise_exact/oauth/callback"))
        base = self.env["ir.config_parameter"].get_param("web.base.url")
        self.assertEqual(
            connection.redirect_uri, base.rstrip("/") + "/chainwise_exact/oauth/callback"
        )
        self.assertTrue(connection.is_configured)
        self.assertEqual(self.division.name, "100001 - ChainWise Demo B.V.")
        self.assertEqual(self.division.journal_code, "70")

    def test_regions(self):
        connection = self.env["exact.connection"].new({"region": "be"})
        self.assertEqual(connection.base_url, "https://start.exactonline.be")
        connection = self.env["exact.connection"].new({"region": "uk"})
        self.assertEqual(connection.base_url, "https://start.exactonline.co.uk")

    def test_plain_http_only_on_loopback(self):
        with self.assertRaises(ValidationError):
            self.connection.custom_base_url = "http://exact.example.com"
        with self.assertRaises(ValidationError):
            self.connection.custom_base_url = "ftp://127.0.0.1"
        self.connection.custom_base_url = "https://exact.example.com"
        self.connection.custom_base_url = "http://localhost:8099"

    # ------------------------------------------------------------------ tokens

    def test_valid_token_not_refreshed(self):
        before = self.token_refresh_calls()
        token = self.connection._get_valid_token()
        self.assertEqual(token.access_token, self.connection.sudo().access_token)
        self.assertEqual(self.token_refresh_calls(), before)

    def test_refresh_with_rotation(self):
        connection = self.connection.sudo()
        old_access, old_refresh = connection.access_token, connection.refresh_token
        self.age_tokens(connection)
        before = self.token_refresh_calls()
        me = self.connection._get_exact_client().me()
        self.assertTrue(me)
        self.assertEqual(self.token_refresh_calls(), before + 1)
        self.assertNotEqual(connection.access_token, old_access)
        self.assertNotEqual(connection.refresh_token, old_refresh)
        self.assertAlmostEqual(connection.token_obtained_at, self.clock(), delta=1)
        self.assertGreater(connection.token_expires_at, self.clock() + 500)
        self.assertTrue(connection.last_refresh_date)
        # the rotated pair is what the database holds (not only the cache)
        self.env.invalidate_all()
        self.cr.execute("SELECT refresh_token FROM exact_connection WHERE id = %s", [connection.id])
        self.assertEqual(self.cr.fetchone()[0], connection.refresh_token)

    def test_two_refreshers_one_refresh(self):
        """Worker B read the token before worker A refreshed it: under the lock B
        re-reads, sees A's new token and does not refresh again (which would use a
        dead refresh token and lose the consent)."""
        connection = self.connection.sudo()
        stale_access = connection.access_token
        self.age_tokens(connection)
        before = self.token_refresh_calls()
        token_a = connection._get_valid_token()
        # worker B: its own store, the access token it had failed with a 401
        token_b = exact.get_valid_token(
            OdooTokenStore(connection),
            connection._get_oauth_app(),
            force=True,
            stale_access_token=stale_access,
        )
        self.assertEqual(token_b.access_token, token_a.access_token)
        # worker C: not forced, the stored token is fresh
        token_c = connection._get_valid_token()
        self.assertEqual(token_c.access_token, token_a.access_token)
        self.assertEqual(self.token_refresh_calls(), before + 1)
        self.assertEqual(connection.state, "connected")

    def test_refresh_too_early_does_not_call_exact(self):
        connection = self.connection.sudo()
        connection.token_expires_at = self.clock() - 1  # expired, but obtained just now
        before = self.token_refresh_calls()
        with self.assertRaises(exact.RefreshTooEarly):
            connection._get_valid_token()
        self.assertEqual(self.token_refresh_calls(), before)
        self.assertEqual(connection.state, "connected")

    def test_old_refresh_token_used_sets_reconnect(self):
        connection = self.connection.sudo()
        dead_refresh = connection.refresh_token
        self.age_tokens(connection)
        connection._get_valid_token()  # rotates: dead_refresh is dead now
        self.age_tokens(connection)
        connection.refresh_token = dead_refresh
        secrets = [*self._secrets(), dead_refresh]
        with self.assertLogs("odoo.addons.chainwise_exact_connector", level="DEBUG") as logs:
            logging.getLogger("odoo.addons.chainwise_exact_connector").debug("start")
            # not assertRaises: it rolls back to a savepoint, and in a TransactionCase the
            # "reconnect" state is written on the test cursor (in production: its own)
            try:
                self.connection._get_exact_client().me()
            except exact.ReconsentRequired as error:
                caught = error
            else:
                self.fail("ReconsentRequired not raised")
        self.assertIn("Old refresh token used", caught.message)
        self.assertEqual(self.connection.state, "reconnect")
        self.assertIn("Old refresh token used", self.connection.last_error)
        # an activity for the administrators of the company
        activities = self.connection.activity_ids
        self.assertTrue(activities)
        self.assertEqual(activities.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        admins = self.env.ref("base.group_system").users.filtered(
            lambda u: u.active and not u.share and self.connection.company_id in u.company_ids
        )
        self.assertEqual(set(activities.user_id.ids), set(admins.ids))
        # nothing secret in the chatter, the error or the log
        for message in self.connection.message_ids:
            self.assertNoSecret(message.body, secrets)
        self.assertNoSecret(self.connection.last_error, secrets)
        self.assertNoSecret("\n".join(logs.output), secrets)
        # exports stop: no token is handed out while reconnect is pending
        before = self.token_refresh_calls()
        with self.assertRaises(exact.ReconsentRequired):
            self.connection._get_valid_token()
        self.assertEqual(self.token_refresh_calls(), before)
        # a second failure does not pile up activities
        self.connection._mark_reconnect("again")
        self.assertEqual(len(self.connection.activity_ids), len(activities))

    def test_reconnect_todo_found_in_its_assignees_language(self):
        """The to-do is written in the administrator's language and found again whatever
        the language of whoever reconnects (the cron runs without one)."""
        self.env["res.lang"]._activate_lang("nl_NL")
        admins = self.env.ref("base.group_system").users.filtered(
            lambda u: u.active and not u.share and self.connection.company_id in u.company_ids
        )
        dutch = admins[0]
        dutch.lang = "nl_NL"
        connection = self.connection.with_context(lang="en_US")
        connection._mark_reconnect("gone")
        todo = connection.activity_ids.filtered(lambda a: a.user_id == dutch)
        self.assertEqual(todo.summary, "Exact Online opnieuw verbinden")
        connection._mark_reconnect("gone again")
        self.assertEqual(len(connection.activity_ids), len(admins), "no second to-do")
        connection._close_reconnect_activities()
        self.assertFalse(connection.activity_ids, "every to-do closed, the Dutch one too")

    def test_keep_alive_cron(self):
        connection = self.connection.sudo()
        before = self.token_refresh_calls()
        self.env["exact.connection"]._cron_keep_alive()
        self.assertEqual(self.token_refresh_calls(), before, "a fresh connection is left alone")
        self.age_tokens(connection, 8 * 24 * 3600)
        old_refresh = connection.refresh_token
        self.env["exact.connection"]._cron_keep_alive()
        self.assertEqual(self.token_refresh_calls(), before + 1)
        self.assertNotEqual(connection.refresh_token, old_refresh)
        self.assertEqual(connection.state, "connected")

    def test_keep_alive_failure_recorded_and_cron_goes_on(self):
        connection = self.connection.sudo()
        self.age_tokens(connection, 8 * 24 * 3600)
        with (
            patch.object(
                type(connection), "_get_valid_token", side_effect=RuntimeError("disk full")
            ),
            self.assertLogs(
                "odoo.addons.chainwise_exact_connector.models.exact_connection", "ERROR"
            ),
        ):
            self.env["exact.connection"]._cron_keep_alive()
        self.assertIn("disk full", connection.last_error)
        self.assertEqual(connection.state, "connected")

    def test_reconnect_state_hands_out_no_token(self):
        """A connection another worker marked "reconnect" (read under the row lock)
        never sends its dead refresh token to Exact again, and a disconnected one is
        not turned into "reconnect"."""
        connection = self.connection.sudo()
        self.age_tokens(connection)
        connection.state = "reconnect"
        before = self.token_refresh_calls()
        with self.assertRaises(exact.ReconsentRequired):
            exact.get_valid_token(OdooTokenStore(connection), connection._get_oauth_app())
        self.assertEqual(self.token_refresh_calls(), before)
        connection.state = "connected"
        connection.action_disconnect()
        connection._mark_reconnect("gone")
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.activity_ids)

    def test_rate_limit_state_saved(self):
        self.connection.rate_limit_state = False
        client = self.connection._get_exact_client()
        client.get(100001, "financial/Journals", select="ID,Code")
        client.save_rate_limit_state()
        state = self.connection.rate_limit_state
        self.assertIn("100001", state)
        self.assertTrue(state["100001"].get("minutely_limit"))
        # a new client starts from the stored snapshot
        client2 = self.connection._get_exact_client()
        self.assertEqual(
            client2.rate_limiter.snapshot("100001")["minutely_limit"],
            state["100001"]["minutely_limit"],
        )

    # ------------------------------------------------------------------ buttons

    def test_test_connection_and_disconnect(self):
        action = self.connection.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(self.connection.exact_user_name)
        self.connection.action_disconnect()
        connection = self.connection.sudo()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.access_token)
        self.assertFalse(connection.refresh_token)
        with self.assertRaises(UserError):
            self.connection.action_test_connection()
        self.assertNoSecret(self.connection.message_ids[:1].body, [CLIENT_SECRET])

    def test_test_connection_error_state(self):
        self.sandbox.add_fault("GET current/Me 503")
        self.addCleanup(self.sandbox.clear_faults)
        self.connection._write_separately({"last_error": False})
        client_error = None
        try:
            self.connection.action_test_connection()
        except UserError as error:
            client_error = error
        self.assertTrue(client_error)
        self.assertEqual(self.connection.state, "connected", "an outage is not an error state")
        self.assertTrue(self.connection.last_error)
        self.assertEqual(self.sleeps[-3:], [1.0, 2.0, 4.0], "backoff on the test clock")

    def test_connect_action_url(self):
        action = self.connection.action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(
            action["url"].startswith(self.sandbox_server.base_url + "/api/oauth2/auth?")
        )
        self.assertIn("client_id=", action["url"])
        self.assertIn("state=", action["url"])
        self.assertNotIn(CLIENT_SECRET, action["url"])
        self.assertTrue(self.connection.sudo().oauth_nonce)

    def test_neutralize(self):
        with file_open(
            str(Path("chainwise_exact_connector") / "data" / "neutralize.sql")
        ) as sql_file:
            self.env.flush_all()
            self.cr.execute(sql_file.read())
        self.env.invalidate_all()
        connection = self.connection.sudo()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.access_token)
        self.assertFalse(connection.refresh_token)
        self.assertFalse(connection.oauth_nonce)
