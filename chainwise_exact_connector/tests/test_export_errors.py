"""Bad input: a clear message on the record concerned, and the batch goes on."""

from unittest.mock import patch

from odoo.tests import tagged

from .. import exact
from .test_export_common import ExactExportCase

EXPORTER_LOGGER = "odoo.addons.chainwise_exact_connector.models.exact_exporter"


@tagged("post_install", "-at_install")
class TestExportErrors(ExactExportCase):
    def test_unmapped_account_does_not_stop_batch(self):
        good = self.invoice()
        bad = self.invoice(post=False, amounts=(50.0,))
        account = self.company_data["default_account_revenue"].copy({"code": "800099"})
        bad.invoice_line_ids.account_id = account
        bad.action_post()
        good2 = self.invoice(amounts=(60.0,))
        self.export(good | bad | good2)
        self.assertEqual(bad.exact_state, "error")
        self.assertIn("800099", bad.exact_error)
        self.assertIn("not mapped", bad.exact_error)
        self.assertIn("Exact Online > Mappings > Accounts", bad.exact_error_hint)
        self.assertEqual(good.exact_state, "exported")
        self.assertEqual(good2.exact_state, "exported")
        self.assertFalse(
            [e for e in self.entries() if e["YourRef"] == bad.name], "no API call for it"
        )

    def test_unmapped_tax(self):
        tax = self.tax_sale_a.copy({"name": "Odd tax"})
        move = self.invoice(taxes=tax)
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("Odd tax", move.exact_error)
        self.assertIn("Exact Online > Mappings > Taxes", move.exact_error_hint)

    def test_unmapped_payment_term_without_default(self):
        term = self.env["account.payment.term"].create({"name": "45 days odd"})
        self.division.default_payment_condition_id = False
        move = self.invoice(post=False)
        move.invoice_payment_term_id = term
        move.action_post()
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("45 days odd", move.exact_error)

    def test_unmapped_payment_term_with_default(self):
        term = self.env["account.payment.term"].create({"name": "45 days odd"})
        move = self.invoice(post=False)
        move.invoice_payment_term_id = term
        move.action_post()
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        self.assertEqual(self.entry(move)["PaymentCondition"].strip(), "30")

    def test_company_without_administration(self):
        company = self.setup_other_company(name="No Exact Ltd")["company"]
        move = self.init_invoice(
            "out_invoice",
            partner=self.partner_a,
            amounts=[10.0],
            company=company,
            invoice_date=self.today,
            post=True,
        )
        self.assertFalse(move.exact_state, "not concerned by the export")
        move.with_context(
            allowed_company_ids=company.ids + self.env.company.ids
        ).action_exact_send()
        wizard = self.env["exact.send.wizard"].create(
            {"res_model": "account.move", "move_ids": [(6, 0, move.ids)]}
        )
        wizard._preflight()
        self.assertFalse(wizard.line_ids.ok)
        self.assertIn("No active Exact administration", wizard.line_ids.message)
        wizard.action_send_now()
        self.assertEqual(move.exact_state, "error")
        self.assertIn("No active Exact administration", move.exact_error)

    def test_credit_note_waits_for_its_original(self):
        """Sent before its original (which is still to send): the credit note stays "To
        send" with a message, and goes once the original is in Exact."""
        invoice = self.invoice()
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        self.assertEqual(invoice.exact_state, "pending")
        start = len(self.sandbox.requests_log)
        self.export(refund)
        self.assertEqual(refund.exact_state, "pending")
        self.assertIn(invoice.name, refund.exact_error)
        self.assertEqual(len(self.sandbox.requests_log), start, "nothing sent yet")
        ok, message, _hint = self.exporter._move_preflight(refund)
        self.assertTrue(ok)
        self.assertIn("Waits for the original", message)
        # the scheduled export sends the original, then the credit note
        self.exporter._cron_export()
        self.assertEqual(invoice.exact_state, "exported", invoice.exact_error)
        self.assertEqual(refund.exact_state, "exported", refund.exact_error)

    def test_credit_note_of_unexported_invoice(self):
        invoice = self.invoice()
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        # the original cannot go (Exact needs a person first): the credit note neither
        invoice.write({"exact_state": "error", "exact_error": "refused"})
        self.export(refund)
        self.assertEqual(refund.exact_state, "error")
        self.assertIn("export the original first", refund.exact_error)
        self.assertIn(invoice.name, refund.exact_error)
        # once the original is in Exact, Retry sends the credit note
        invoice.action_exact_retry()
        self.export(invoice)
        refund.action_exact_retry()
        self.assertEqual(refund.exact_state, "pending")
        self.export(refund)
        self.assertEqual(refund.exact_state, "exported")

    def test_exact_refuses_closed_period(self):
        self.sandbox.configure(division=100001, closed_before="2099-01-01")
        move = self.invoice()
        other = self.invoice(amounts=(1.0,))
        self.export(move | other)
        self.assertEqual(move.exact_state, "error")
        self.assertEqual(other.exact_state, "error")
        self.assertIn("period", move.exact_error_hint.lower())
        # not retried by itself
        start = len(self.sandbox.requests_log)
        self.exporter._cron_export()
        self.assertEqual(len(self.sandbox.requests_log), start)

    def test_exact_refuses_entry_number_in_use(self):
        self.division.entry_number_policy = "odoo_number"
        move = self.invoice()
        self.post_entry_directly(exact.entry_number_from_name(move.name))
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("entry number", move.exact_error_hint)

    def test_exact_refuses_wrong_gl_type(self):
        move = self.invoice()
        mapping = self.env["exact.account.mapping"].search(
            [
                ("division_id", "=", self.division.id),
                ("account_id", "=", move.invoice_line_ids.account_id.id),
            ]
        )
        # the mapping form refuses a non-revenue account: force it, as if Exact had
        # changed the account's type after it was mapped
        self.env.cr.execute(
            "UPDATE exact_account_mapping SET gl_account_id = %s WHERE id = %s",
            (self.exact_record(self.division, "exact.gl.account", "1300").id, mapping.id),
        )
        mapping.invalidate_recordset()
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("revenue", move.exact_error_hint)
        self.assertIn("Exact Online > Mappings > Accounts", move.exact_error_hint)
        self.assertIn("Retry", move.exact_error_hint)
        self.assertTrue(move.exact_error)

    def test_credit_note_of_invoice_before_export_window(self):
        invoice = self.invoice(invoice_date=self.today.replace(year=self.today.year - 1))
        self.assertFalse(invoice.exact_state, "before the administration's export start")
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        self.export(refund)
        self.assertEqual(refund.exact_state, "exported", refund.exact_error)

    def test_invoice_before_export_window_is_refused(self):
        invoice = self.invoice(invoice_date=self.today.replace(year=self.today.year - 1))
        wizard = self.env["exact.send.wizard"].browse(invoice.action_exact_send()["res_id"])
        self.assertFalse(wizard.line_ids.ok)
        wizard.action_send_now()
        self.assertEqual(invoice.exact_state, "error")
        self.assertIn("dated before", invoice.exact_error)
        self.assertFalse(self.entries())

    def test_unexpected_error_on_one_invoice_does_not_stop_batch(self):
        first, second = self.invoice(), self.invoice(amounts=(20.0,))
        Exporter = type(self.exporter)
        original = Exporter._move_plan

        def plan(exporter, division, move):
            if move == first:
                raise ValueError("a bug in a customisation")
            return original(exporter, division, move)

        with (
            patch.object(Exporter, "_move_plan", plan),
            self.assertLogs(EXPORTER_LOGGER, level="ERROR"),
        ):
            counts = self.export(first | second)
        self.assertEqual(counts["error"], 1)
        self.assertEqual(first.exact_state, "error")
        self.assertIn("a bug in a customisation", first.exact_error)
        self.assertTrue(first.exact_error_hint)
        self.assertEqual(second.exact_state, "exported", second.exact_error)
        # not retried by itself; Retry sends it
        self.exporter._cron_export()
        self.assertEqual(first.exact_state, "error")
        first.action_exact_retry()
        self.export(first)
        self.assertEqual(first.exact_state, "exported", first.exact_error)

    def test_unexpected_error_while_sending_keeps_the_lookup(self):
        """An invoice whose POST may have landed stays "sending" whatever goes wrong
        next, so the following attempt looks it up by its EntryID: never twice."""
        move = self.invoice()
        self.sandbox.add_fault("POST salesentry/SalesEntries* store-and-hang n=1 seconds=5")
        self.export(move)
        self.assertEqual(move.exact_state, "sending")
        with (
            patch.object(exact.ExactClient, "get_one", side_effect=RuntimeError("odd")),
            self.assertLogs(EXPORTER_LOGGER, level="ERROR"),
        ):
            self.export(move)
        self.assertEqual(move.exact_state, "sending")
        self.assertIn("odd", move.exact_error)
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        self.assertEqual(len([e for e in self.entries() if e["YourRef"] == move.name]), 1)

    def test_cron_goes_on_after_an_administration_fails(self):
        move = self.invoice()
        move_zorg = self.invoice(amounts=(30.0,), journal=self.journal_zorg)
        self.assertEqual(move_zorg.exact_division_id, self.division_zorg)
        Exporter = type(self.exporter)
        original = Exporter._cron_export_division

        def run(exporter, division, batch_size, *args, **kwargs):
            if division == self.division:
                raise RuntimeError("administration broken")
            return original(exporter, division, batch_size, *args, **kwargs)

        with (
            patch.object(Exporter, "_cron_export_division", run),
            self.assertLogs(EXPORTER_LOGGER, level="ERROR"),
        ):
            self.exporter._cron_export()
        self.assertEqual(move.exact_state, "pending", "left for the next run")
        self.assertEqual(move_zorg.exact_state, "exported", move_zorg.exact_error)
