"""Shared fixtures of the export tests (no tests of its own)."""

import uuid
from datetime import date
from decimal import Decimal

from odoo import fields

from .. import exact
from .common import ExactSandboxCase


class ExactExportCase(ExactSandboxCase):
    """Helpers shared by the export tests (assertions on what the sandbox holds)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["account.move"])
        cls.exporter = cls.env["exact.exporter"]
        cls.partner_a.write({"name": "Alfa Handel B.V.", "is_company": True, "lang": "en_US"})
        (cls.division | cls.division_zorg).write({"attach_pdf": False})

    def setUp(self):
        super().setUp()
        # The sandbox lives for the whole class while each test's database work is
        # rolled back: start every test from the seed, without faults.
        self.sandbox.clear_faults()
        self.sandbox.reset(seed="demo")

    def invoice(self, amounts=(100.0,), partner=None, move_type="out_invoice", post=True, **kw):
        kw.setdefault("invoice_date", self.today)
        return self.init_invoice(
            move_type,
            partner=partner or self.partner_a,
            amounts=list(amounts),
            taxes=kw.pop("taxes", self.tax_sale_a),
            post=post,
            **kw,
        )

    def export(self, moves):
        return self.exporter._export_moves(moves)

    def entries(self, division=100001):
        return self.sandbox.records(division, "SalesEntries")

    def entry(self, move, division=100001):
        found = [e for e in self.entries(division) if e["EntryID"] == move.exact_entry_id]
        self.assertEqual(len(found), 1, f"one entry for {move.name} in Exact")
        return found[0]

    def entry_lines(self, move, division=100001):
        return [
            line
            for line in self.sandbox.records(division, "SalesEntryLines")
            if line["EntryID"] == move.exact_entry_id
        ]

    def accounts(self, division=100001):
        return self.sandbox.records(division, "Accounts")

    def gl_guid(self, code, division=None):
        return self.exact_record(division or self.division, "exact.gl.account", code).exact_id

    def client(self, division=None):
        return (division or self.division).sudo()._get_exact_client()

    def post_entry_directly(self, entry_number, division=None):
        """Put an entry with this number in Exact behind Odoo's back."""
        division = division or self.division
        client = self.client(division)
        customer = client.post(
            division.division_code, "crm/Accounts", {"Name": "Other", "Status": "C"}
        )
        payload = exact.sales_entry_payload(
            exact.InvoiceData(
                entry_id=str(uuid.uuid4()),
                journal_code="70",
                customer_guid=customer["ID"],
                entry_date=date.today(),
                number="ELSEWHERE",
                description="made in Exact",
                currency="EUR",
                entry_number=entry_number,
                lines=[
                    exact.InvoiceLineData(self.gl_guid("8000"), "2", Decimal("10"), Decimal("2.10"))
                ],
            )
        )
        return client.post(division.division_code, "salesentry/SalesEntries", payload)
