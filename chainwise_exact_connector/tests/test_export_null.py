"""Null invoices (zero total, or cancelled after they got a number) and the PDF."""

from unittest.mock import patch

from odoo.tests import tagged

from .test_export_common import ExactExportCase


@tagged("post_install", "-at_install")
class TestExportNullInvoice(ExactExportCase):
    def assert_null_entry(self, move):
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        lines = self.entry_lines(move)
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["GLAccount"], self.gl_guid("8999"))
        self.assertEqual(lines[0]["VATCode"].strip(), "0")
        self.assertEqual(lines[0]["AmountFC"], 0.0)
        self.assertEqual(self.entry(move)["AmountFC"], 0.0)

    def test_posted_zero_invoice_exported_as_null_entry(self):
        move = self.invoice(amounts=(0.0,))
        self.assertEqual(move.amount_total, 0.0)
        self.export(move)
        self.assert_null_entry(move)
        self.assertEqual(self.entry(move)["YourRef"], move.name)

    def test_cancelled_with_number_exported_as_null_entry(self):
        move = self.invoice(amounts=(80.0,))
        name = move.name
        move.button_cancel()
        self.assertEqual(move.state, "cancel")
        self.assertEqual(move.name, name, "Odoo keeps the number")
        self.assertEqual(move.exact_state, "pending")
        self.export(move)
        self.assert_null_entry(move)
        self.assertIn(name, self.entry(move)["Description"])

    def test_skip_policy(self):
        self.division.null_invoice_policy = "skip"
        zero = self.invoice(amounts=(0.0,))
        cancelled = self.invoice(amounts=(10.0,))
        cancelled.button_cancel()
        start = len(self.sandbox.requests_log)
        self.export(zero | cancelled)
        self.assertEqual((zero | cancelled).mapped("exact_state"), ["skipped", "skipped"])
        self.assertEqual(len(self.sandbox.requests_log), start, "no API call")

    def test_null_invoice_without_null_accounts(self):
        self.division.null_gl_account_id = False
        move = self.invoice(amounts=(0.0,))
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("null invoices", move.exact_error)


@tagged("post_install", "-at_install")
class TestExportPdf(ExactExportCase):
    def setUp(self):
        super().setUp()
        self.division.attach_pdf = True

    def documents(self):
        return self.sandbox.records(100001, "Documents")

    def attachments(self):
        return self.sandbox.records(100001, "DocumentAttachments")

    def test_pdf_attached_to_entry(self):
        move = self.invoice()
        self.export(move)
        self.assertEqual(move.exact_state, "exported")
        self.assertEqual(move.exact_pdf_state, "done", move.exact_pdf_error)
        documents = [d for d in self.documents() if d["ID"] == move.exact_document_guid]
        self.assertEqual(len(documents), 1)
        self.assertEqual(documents[0]["Type"], 10)
        self.assertEqual(documents[0]["FinancialTransactionEntryID"], move.exact_entry_id)
        attachments = [a for a in self.attachments() if a["Document"] == move.exact_document_guid]
        self.assertEqual(len(attachments), 1)
        # under tests Odoo renders the report as HTML (no wkhtmltopdf needed)
        self.assertTrue(attachments[0]["FileName"].startswith(move.name.replace("/", "_")))

    def test_stored_pdf_is_used(self):
        move = self.invoice()
        self.env["ir.attachment"].create(
            {
                "name": "stored.pdf",
                "raw": b"%PDF-1.4 stored",
                "res_model": "account.move",
                "res_id": move.id,
                "res_field": "invoice_pdf_report_file",
            }
        )
        move.invalidate_recordset()
        self.assertTrue(move.invoice_pdf_report_id)
        self.export(move)
        attachments = [a for a in self.attachments() if a["Document"] == move.exact_document_guid]
        self.assertEqual(attachments[0]["FileName"], "stored.pdf")

    def test_failed_upload_never_touches_entry_and_retries_alone(self):
        move = self.invoice()
        self.sandbox.add_fault("POST documents/DocumentAttachments* html500 n=1")
        self.export(move)
        self.assertEqual(move.exact_state, "exported")
        self.assertEqual(move.exact_pdf_state, "pending", "an outage: tried again by itself")
        self.assertTrue(move.exact_pdf_error)
        self.assertEqual(len([e for e in self.entries() if e["YourRef"] == move.name]), 1)
        # the cron retries only the PDF
        self.exporter._cron_export()
        self.assertEqual(move.exact_pdf_state, "done", move.exact_pdf_error)
        self.assertEqual(len([e for e in self.entries() if e["YourRef"] == move.name]), 1)
        documents = [
            d for d in self.documents() if d["FinancialTransactionEntryID"] == move.exact_entry_id
        ]
        self.assertEqual(len(documents), 1, "the document is not created twice")
        self.assertEqual(
            len([a for a in self.attachments() if a["Document"] == move.exact_document_guid]), 1
        )

    def test_refused_pdf_waits_for_retry(self):
        """A PDF Exact (or Odoo) refuses is not sent again every run (Exact blocks an
        app after 10 errors per endpoint and hour): it waits for "Retry PDF"."""
        move = self.invoice()
        Exporter = type(self.exporter)
        with patch.object(Exporter, "_move_pdf", lambda exporter, move: ("not bytes", "x.pdf")):
            self.export(move)
        self.assertEqual(move.exact_state, "exported")
        self.assertEqual(move.exact_pdf_state, "error")
        self.assertTrue(move.exact_pdf_error)
        start = len(self.sandbox.requests_log)
        self.exporter._cron_export()
        self.assertEqual(move.exact_pdf_state, "error")
        self.assertEqual(len(self.sandbox.requests_log), start, "not retried by itself")
        move.action_exact_retry_pdf()
        self.exporter._cron_export()
        self.assertEqual(move.exact_pdf_state, "done", move.exact_pdf_error)
        self.assertEqual(
            len([a for a in self.attachments() if a["Document"] == move.exact_document_guid]), 1
        )
