"""Faults injected in the sandbox: every invoice ends in Exact exactly once."""

import logging
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import tagged

from .. import exact
from .common import CLIENT_SECRET
from .test_export_common import ExactExportCase


@tagged("post_install", "-at_install")
class TestExportFaults(ExactExportCase):
    DAILY_LIMIT = 1000000  # ExactSandboxCase's setting

    @contextmanager
    def no_sleep(self):
        """Clients that record their waits instead of sleeping (429 resets, backoff)."""
        sleeps = []
        Division = type(self.env["exact.division"])
        original = Division._get_exact_client

        def get_client(division, on_call=None):
            client = original(division, on_call=on_call)
            client.sleeper = sleeps.append
            client.rate_limiter.sleeper = sleeps.append
            return client

        with patch.object(Division, "_get_exact_client", get_client):
            yield sleeps

    def entries_for(self, move):
        return [e for e in self.entries() if e["YourRef"] == move.name]

    def test_post_lands_but_never_answers(self):
        move = self.invoice()
        self.sandbox.add_fault("POST salesentry/SalesEntries* store-and-hang n=1 seconds=5")
        self.export(move)
        self.assertEqual(move.exact_state, "sending", "the POST may have landed")
        entry_id = move.exact_entry_id
        self.assertTrue(entry_id)
        self.assertEqual(len(self.entries_for(move)), 1, "the sandbox stored it")
        self.assertIn("No answer", move.exact_error)
        # the next run looks the entry up by its EntryID and does not post again
        start = len(self.sandbox.requests_log)
        self.export(move)
        self.assertEqual(move.exact_state, "exported")
        self.assertEqual(move.exact_entry_id, entry_id)
        self.assertEqual(len(self.entries_for(move)), 1)
        self.assertEqual(
            [c["method"] for c in self.sandbox.requests_log[start:]], ["GET"], "lookup only"
        )
        self.assertEqual(move.exact_entry_number, str(self.entry(move)["EntryNumber"]))

    def test_html_500_then_post_again_with_same_entry_id(self):
        move = self.invoice()
        self.sandbox.add_fault("POST salesentry/SalesEntries* html500 n=1")
        self.export(move)
        self.assertEqual(move.exact_state, "sending")
        entry_id = move.exact_entry_id
        self.assertEqual(self.entries_for(move), [])
        failed = self.env["exact.sync.log"].search(
            [
                ("res_id", "=", move.id),
                ("res_model", "=", "account.move"),
                ("status_code", "=", 500),
            ]
        )
        self.assertEqual(len(failed), 1, "the failed call is in the log")
        self.export(move)
        self.assertEqual(move.exact_state, "exported")
        entries = self.entries_for(move)
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["EntryID"], entry_id, "posted again with the same EntryID")

    def test_429_burst_is_waited_out(self):
        moves = self.invoice() | self.invoice(amounts=(20.0,))
        self.sandbox.add_fault("POST salesentry/SalesEntries* 429 n=1 times=2")
        with self.no_sleep() as sleeps:
            self.export(moves)
        self.assertEqual(moves.mapped("exact_state"), ["exported", "exported"])
        self.assertTrue(sleeps, "the client waited for the reset")
        for move in moves:
            self.assertEqual(len(self.entries_for(move)), 1)
        self.assertFalse(moves.filtered("exact_error"))

    def test_expired_token_mid_batch(self):
        moves = self.invoice() | self.invoice(amounts=(30.0,))
        # 575 s later a refresh is allowed again (Exact refuses one within 570 s),
        # while Odoo still believes the access token valid for long (its expiry moved
        # with the clock): Exact's 401 comes mid-batch, on the second invoice.
        self.clock.advance(575)
        self.connection.sudo().token_expires_at += 575
        refreshes = self.token_refresh_calls()
        self.sandbox.add_fault("POST salesentry/SalesEntries* expire-token n=2")
        self.export(moves)
        self.assertEqual(
            moves.mapped("exact_state"), ["exported", "exported"], moves.mapped("exact_error")
        )
        self.assertEqual(self.token_refresh_calls(), refreshes + 1)
        for move in moves:
            self.assertEqual(len(self.entries_for(move)), 1)

    def test_revoked_consent_stops_and_resumes(self):
        moves = self.invoice() | self.invoice(amounts=(40.0,))
        self.sandbox.revoke_consent()
        self.age_tokens()  # expired: the next call refreshes, and Exact refuses
        counts = self.export(moves)
        self.assertEqual(counts["stopped"], 1)
        self.assertEqual(self.connection.state, "reconnect")
        self.assertEqual(moves.mapped("exact_state"), ["pending", "pending"], "nothing lost")
        self.assertEqual(self.entries(), [])
        # the cron leaves a connection that needs a person alone
        self.exporter._cron_export()
        self.assertEqual(moves.mapped("exact_state"), ["pending", "pending"])
        # reconnect: everything resumes
        self.give_tokens(self.connection)
        self.exporter._cron_export()
        self.assertEqual(moves.mapped("exact_state"), ["exported", "exported"])

    def test_daily_quota_stops_batch_and_reschedules(self):
        self.sandbox.configure(daily_limit=4)
        # the sandbox outlives the test: give the next tests their quota back
        self.addCleanup(self.sandbox.configure, daily_limit=self.DAILY_LIMIT)
        self.env["ir.config_parameter"].sudo().set_param(
            "chainwise_exact_connector.daily_reserve", "0.5"
        )
        moves = self.invoice() | self.invoice(amounts=(5.0,)) | self.invoice(amounts=(6.0,))
        cron = self.env.ref("chainwise_exact_connector.ir_cron_exact_export")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        counts = self.export(moves)
        self.assertEqual(counts["stopped"], 1)
        self.assertEqual(moves[0].exact_state, "exported")
        self.assertEqual(moves[1:].mapped("exact_state"), ["pending", "pending"])
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertTrue(triggers, "the cron runs again at the reset")

    def test_two_runs_and_a_button_send_once(self):
        moves = self.invoice() | self.invoice(amounts=(7.0,))
        # another worker claimed the first invoice, chose its EntryID, committed
        # 'sending', posted, and died before it could record the answer
        self.sandbox.add_fault("POST salesentry/SalesEntries* store-and-hang n=1 seconds=2")
        self.export(moves[0])
        self.assertEqual(moves[0].exact_state, "sending")
        # now the cron twice and the button, in any order
        self.exporter._cron_export()
        self.exporter._cron_export()
        wizard_action = moves.action_exact_send()
        wizard = self.env["exact.send.wizard"].browse(wizard_action["res_id"])
        wizard.action_send_now()
        self.assertEqual(moves.mapped("exact_state"), ["exported", "exported"])
        for move in moves:
            self.assertEqual(len(self.entries_for(move)), 1, "each invoice exactly once")
        # what is exported is not claimable any more
        self.assertFalse(self.exporter._claim_moves(moves))

    def test_claim_skips_rows_locked_by_another_transaction(self):
        move = self.invoice()
        self.env.flush_all()
        # The SKIP LOCKED claim, as a second worker runs it while this one holds the row.
        with self.env.registry.cursor() as other:
            other.execute(
                "SELECT id FROM account_move WHERE id IN %s AND exact_state IN %s "
                "FOR UPDATE SKIP LOCKED",
                ((move.id,), ("pending", "sending")),
            )
            # the other transaction cannot see (or claim) this uncommitted invoice;
            # an already committed row locked here would be skipped the same way
            self.assertEqual(other.fetchall(), [])
        self.assertEqual(self.exporter._claim_moves(move), move)

    def test_no_secret_in_log_chatter_or_errors(self):
        """An export with a token refresh in the middle, a server error and a functional
        refusal: neither the client secret nor any access or refresh token shows up in
        the API-call log (bodies, responses, messages), the chatter, the error texts or
        the server log."""
        connection = self.connection.sudo()
        secrets = [CLIENT_SECRET, connection.access_token, connection.refresh_token]
        self.division.entry_number_policy = "odoo_number"
        moves = self.invoice() | self.invoice(amounts=(40.0,)) | self.invoice(amounts=(3.0,))
        self.post_entry_directly(exact.entry_number_from_name(moves[2].name))
        self.age_tokens()  # the next call refreshes the token
        self.sandbox.add_fault("POST salesentry/SalesEntries* html500 n=1")
        logger = logging.getLogger("odoo.addons.chainwise_exact_connector")
        with self.assertLogs(logger, level="DEBUG") as logs:
            logger.debug("start")
            self.export(moves)
            self.export(moves)
        self.assertEqual(
            moves.mapped("exact_state"),
            ["exported", "exported", "error"],
            moves.mapped("exact_error"),
        )
        secrets += [connection.access_token, connection.refresh_token]
        self.assertEqual(len(set(secrets)), 5, "the tokens were refreshed")
        logs_in_odoo = self.env["exact.sync.log"].search([])
        self.assertTrue(logs_in_odoo.filtered(lambda log: not log.success))
        texts = list(logs.output)
        for log in logs_in_odoo:
            texts += [log.request_body, log.response_text, log.message, log.endpoint]
        for record in (*moves, self.partner_a, self.connection):
            texts += record.message_ids.mapped("body")
        texts += moves.mapped("exact_error") + moves.mapped("exact_error_hint")
        texts += [connection.last_error]
        blob = "\n".join(str(text or "") for text in texts)
        for secret in secrets:
            self.assertNotIn(secret, blob)
