"""Invoices to Exact against the sandbox: the normal paths."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from .. import exact
from .test_export_common import ExactExportCase


@tagged("post_install", "-at_install")
class TestExportInvoice(ExactExportCase):
    def test_post_marks_pending_without_calling_exact(self):
        calls = len(self.sandbox.requests_log)
        move = self.invoice()
        self.assertEqual(move.exact_state, "pending")
        self.assertEqual(move.exact_division_id, self.division)
        self.assertEqual(len(self.sandbox.requests_log), calls, "no API call in _post")
        triggers = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("chainwise_exact_connector.ir_cron_exact_export").id)]
        )
        self.assertTrue(triggers)

    def test_invoice_before_export_from_date_not_marked(self):
        self.division.export_from_date = date(2024, 1, 1)
        move = self.invoice(invoice_date=date(2023, 12, 31))
        self.assertFalse(move.exact_state)

    def test_export_invoice(self):
        move = self.invoice(amounts=(100.0, 50.0))
        counts = self.export(move)
        self.assertEqual(counts["exported"], 1, counts)
        self.assertEqual(move.exact_state, "exported")
        entry = self.entry(move)
        self.assertEqual(entry["YourRef"], move.name)
        self.assertEqual(entry["Journal"].strip(), "70")
        self.assertEqual(str(entry["EntryNumber"]), move.exact_entry_number)
        self.assertAlmostEqual(entry["AmountFC"], move.amount_total, places=2)
        lines = self.entry_lines(move)
        self.assertEqual(len(lines), 1, "one line per (GL, VAT code)")
        self.assertAlmostEqual(lines[0]["AmountFC"], 150.0, places=2)
        self.assertAlmostEqual(lines[0]["VATAmountFC"], move.amount_tax, places=2)
        self.assertEqual(lines[0]["VATCode"].strip(), "2")
        self.assertEqual(lines[0]["GLAccount"], self.gl_guid("8000"))
        # the customer was created first, as a customer
        link = self.env["exact.partner.link"].search(
            [("partner_id", "=", self.partner_a.id), ("division_id", "=", self.division.id)]
        )
        self.assertEqual(link.state, "exported")
        account = [a for a in self.accounts() if a["ID"] == link.exact_guid]
        self.assertEqual(account[0]["Status"], "C")
        self.assertEqual(entry["Customer"], link.exact_guid)
        self.assertIn("Sent to Exact Online", move.message_ids[0].body)
        # the log holds the POSTs, with the record they were for
        log = self.env["exact.sync.log"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertEqual(log.mapped("method"), ["POST"])
        self.assertIn(log, move.exact_log_ids)

    def test_second_invoice_one_call(self):
        first = self.invoice()
        self.export(first)
        calls = len(self.sandbox.requests_log)
        second = self.invoice(amounts=(10.0,))
        self.export(second)
        self.assertEqual(second.exact_state, "exported")
        self.assertEqual(len(self.sandbox.requests_log) - calls, 1, "one API call per invoice")

    def test_entry_number_policy_odoo(self):
        self.division.entry_number_policy = "odoo_number"
        move = self.invoice()
        self.export(move)
        self.assertEqual(self.entry(move)["EntryNumber"], exact.entry_number_from_name(move.name))

    def test_entry_numbers_of_credit_notes_never_meet_invoices(self):
        """Odoo numbers credit notes in a sequence of their own (RINV/2026/00001 next to
        INV/2026/00001): under the digits policy a credit note gets 1000000000 plus its
        digits, never an invoice's number ("In gebruik: Boekstuknummer")."""
        self.division.entry_number_policy = "odoo_number"
        self.assertTrue(self.company_data["default_journal_sale"].refund_sequence)
        invoice = self.invoice(amounts=(200.0,))
        self.export(invoice)
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.name = "R" + invoice.name  # the same digits as the invoice
        refund.action_post()
        digits = exact.entry_number_from_name(invoice.name)
        self.assertEqual(exact.entry_number_from_name(refund.name), digits)
        self.export(refund)
        self.assertEqual(refund.exact_state, "exported", refund.exact_error)
        self.assertEqual(self.entry(invoice)["EntryNumber"], digits)
        self.assertEqual(self.entry(refund)["EntryNumber"], 1_000_000_000 + digits)
        self.assertEqual(refund.exact_entry_number, str(1_000_000_000 + digits))
        # the next invoice still gets its own digits
        later = self.invoice(amounts=(5.0,))
        self.export(later)
        self.assertEqual(self.entry(later)["EntryNumber"], exact.entry_number_from_name(later.name))

    def test_entry_numbers_when_credit_notes_share_the_invoice_sequence(self):
        journal = self.company_data["default_journal_sale"]
        journal.refund_sequence = False
        self.division.entry_number_policy = "odoo_number"
        invoice = self.invoice(amounts=(200.0,))
        self.export(invoice)
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        self.assertTrue(refund.name.startswith("INV/"), refund.name)
        self.export(refund)
        self.assertEqual(refund.exact_state, "exported", refund.exact_error)
        self.assertEqual(
            self.entry(refund)["EntryNumber"], exact.entry_number_from_name(refund.name)
        )

    def test_same_digits_from_two_journals_stopped_before_exact(self):
        """Two Odoo journals exporting to one administration can produce the same digits
        (INV/2026/00001, SHOP/2026/00001): the second is stopped in pre-flight with a
        message naming the first, without a call that Exact would refuse."""
        self.division.entry_number_policy = "odoo_number"
        shop = self.env["account.journal"].create(
            {
                "name": "Shop",
                "code": "SHOP",
                "type": "sale",
                "company_id": self.company_data["company"].id,
            }
        )
        first = self.invoice()
        second = self.invoice(amounts=(30.0,), journal=shop)
        self.assertEqual(
            exact.entry_number_from_name(first.name), exact.entry_number_from_name(second.name)
        )
        self.export(first)
        self.assertEqual(first.exact_state, "exported", first.exact_error)
        start = len(self.sandbox.requests_log)
        self.export(second)
        self.assertEqual(second.exact_state, "error")
        self.assertIn(first.name, second.exact_error)
        self.assertIn("Let Exact number", second.exact_error_hint)
        self.assertEqual(len(self.sandbox.requests_log), start, "no call to Exact")
        # letting Exact number the entries resolves it
        self.division.entry_number_policy = "exact"
        second.action_exact_retry()
        self.export(second)
        self.assertEqual(second.exact_state, "exported", second.exact_error)

    def test_preflight_queries_do_not_grow_with_lines(self):
        """Mapping lookups are not one query per invoice line (N+1)."""
        small = self.invoice(amounts=(10.0,))
        large = self.invoice(amounts=[10.0 + i for i in range(30)])

        def queries(move):
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.exporter._move_plan(self.division, move)
            return self.env.cr.sql_log_count - start

        queries(small)  # warm-up (ormcache of taxes, currencies...)
        self.assertLessEqual(queries(large), queries(small) + 2)

    def test_payment_term_and_due_date(self):
        term = self.env.ref("account.account_payment_term_15days")
        move = self.invoice(post=False)
        move.invoice_payment_term_id = term
        move.action_post()
        self.export(move)
        entry = self.entry(move)
        self.assertEqual(entry["PaymentCondition"].strip(), "14")
        self.assertIn(move.invoice_date_due.isoformat(), entry["DueDate"])

    def test_foreign_currency_rate(self):
        currency = self.setup_other_currency(
            "EUR" if self.env.company.currency_id.name != "EUR" else "USD",
            rates=[("2000-01-01", 2.0)],
        )
        move = self.invoice(currency=currency)
        self.export(move)
        entry = self.entry(move)
        self.assertEqual(entry["Currency"], currency.name)
        self.assertAlmostEqual(entry["Rate"], 0.5, places=6)
        self.assertAlmostEqual(entry["AmountFC"], move.amount_total, places=2)

    def test_credit_note(self):
        invoice = self.invoice(amounts=(200.0,))
        self.export(invoice)
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        self.assertEqual(refund.exact_state, "pending")
        self.export(refund)
        self.assertEqual(refund.exact_state, "exported", refund.exact_error)
        entry = self.entry(refund)
        self.assertIn(invoice.name, entry["Description"])
        self.assertAlmostEqual(entry["AmountFC"], -invoice.amount_total, places=2)
        lines = self.entry_lines(refund)
        self.assertAlmostEqual(lines[0]["AmountFC"], -200.0, places=2)

    def test_zero_total_with_real_lines(self):
        move = self.invoice(amounts=(100.0, -100.0))
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        lines = self.entry_lines(move)
        self.assertNotIn(self.gl_guid("8999"), [line["GLAccount"] for line in lines])

    def test_intra_eu_vat_code(self):
        tax_0 = self.env["account.tax"].create(
            {
                "name": "0% EU",
                "amount": 0.0,
                "type_tax_use": "sale",
                "company_id": self.env.company.id,
            }
        )
        fp = self.env["account.fiscal.position"].create(
            {
                "name": "Intra-EU",
                "tax_ids": [
                    Command.create({"tax_src_id": self.tax_sale_a.id, "tax_dest_id": tax_0.id})
                ],
            }
        )
        self.env["exact.tax.mapping"].create(
            {
                "division_id": self.division.id,
                "tax_id": tax_0.id,
                "fiscal_position_id": fp.id,
                "vat_code_id": self.exact_record(self.division, "exact.vat.code", "4").id,
            }
        )
        self.partner_b.write({"property_account_position_id": fp.id, "is_company": True})
        move = self.invoice(
            partner=self.partner_b, taxes=None, products=[self.product_a], amounts=()
        )
        self.assertEqual(move.fiscal_position_id, fp)
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        lines = self.entry_lines(move)
        self.assertEqual([line["VATCode"].strip() for line in lines], ["4"])
        self.assertEqual(lines[0]["VATAmountFC"], 0.0)

    def test_draft_and_cancel_refused_once_in_exact(self):
        from odoo.exceptions import UserError

        move = self.invoice()
        self.export(move)
        with self.assertRaisesRegex(UserError, "credit note"):
            move.button_draft()
        with self.assertRaisesRegex(UserError, "credit note"):
            move.button_cancel()

    def test_draft_allowed_while_pending(self):
        move = self.invoice()
        move.button_draft()
        self.assertFalse(move.exact_state)
