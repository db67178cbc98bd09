from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .common import ExactSandboxCase


@tagged("post_install", "-at_install")
class TestExactMappings(ExactSandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company_data["company"]

        def tax(name, amount, **values):
            return cls.env["account.tax"].create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": company.id,
                    **values,
                }
            )

        cls.tax_21 = tax("21% VAT", 21.0)
        cls.tax_9 = tax("9% VAT", 9.0)
        cls.tax_0 = tax("0% Exempt", 0.0)
        cls.tax_0_eu = tax("0% EU goods", 0.0, description="Intra-community supply")
        cls.tax_0_export = tax("0% Export outside EU", 0.0)
        cls.account_8010 = cls.env["account.account"].create(
            {"name": "Revenue low", "code": "8010", "account_type": "income"}
        )
        cls.account_unknown = cls.env["account.account"].create(
            {"name": "Revenue other", "code": "709900", "account_type": "income"}
        )
        cls.term_7 = cls._term("7 Days", 7)
        cls.term_14 = cls._term("14 Days", 14)
        cls.term_21 = cls.env.ref("account.account_payment_term_21days")
        cls.fiscal_position_eu = cls.env["account.fiscal.position"].create(
            {
                "name": "EU customers",
                "company_id": company.id,
                "tax_ids": [
                    Command.create({"tax_src_id": cls.tax_21.id, "tax_dest_id": cls.tax_0_eu.id})
                ],
            }
        )

    @classmethod
    def _term(cls, name, days):
        return cls.env["account.payment.term"].create(
            {
                "name": name,
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": days})
                ],
            }
        )

    def _vat(self, code, division=None):
        return self.exact_record(division or self.division, "exact.vat.code", code)

    # ------------------------------------------------------------------ suggest

    def test_suggest_mappings(self):
        division = self.division
        action = division.action_suggest_mappings()
        message = action["params"]["message"]
        self.assertEqual(division._map_tax(self.tax_21, None), self._vat("2"))
        self.assertEqual(division._map_tax(self.tax_9, None), self._vat("1"))
        self.assertEqual(division._map_tax(self.tax_0, None), self._vat("0"))
        self.assertEqual(division._map_tax(self.tax_0_eu, None), self._vat("4"))
        self.assertEqual(division._map_tax(self.tax_0_export, None), self._vat("5"))
        self.assertEqual(
            division._map_account(self.account_8010),
            self.exact_record(division, "exact.gl.account", "8010"),
        )
        self.assertFalse(division._map_account(self.account_unknown))
        condition = "exact.payment.condition"
        self.assertEqual(
            division._map_payment_term(self.term_7), self.exact_record(division, condition, "7")
        )
        self.assertEqual(
            division._map_payment_term(self.term_14), self.exact_record(division, condition, "14")
        )
        # what could not be matched is named, and falls back to the default condition
        self.assertIn(self.account_unknown.display_name, message)
        self.assertIn(self.term_21.display_name, message)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(
            division._map_payment_term(self.term_21), division.default_payment_condition_id
        )
        # a second run creates nothing new
        count = len(division.tax_mapping_ids)
        division.action_suggest_mappings()
        self.assertEqual(len(division.tax_mapping_ids), count)

    def test_form_buttons_reload_the_form(self):
        """Refresh from Exact and Suggest Mappings notify, then close (act_window_close):
        the web client then reloads the administration, so the new master-data date and
        mappings show without a reload by hand."""
        close = {"type": "ir.actions.act_window_close"}
        for action in (
            self.division.action_refresh_master_data(),
            self.division.action_suggest_mappings(),
        ):
            self.assertEqual(action["tag"], "display_notification")
            self.assertEqual(action["params"]["next"], close)

    def test_map_tax_fiscal_position_wins(self):
        division = self.division
        mapping = self.env["exact.tax.mapping"]
        mapping.create(
            {"division_id": division.id, "tax_id": self.tax_21.id, "vat_code_id": self._vat("2").id}
        )
        mapping.create(
            {
                "division_id": division.id,
                "tax_id": self.tax_21.id,
                "fiscal_position_id": self.fiscal_position_eu.id,
                "vat_code_id": self._vat("4").id,
            }
        )
        self.assertEqual(division._map_tax(self.tax_21, self.fiscal_position_eu), self._vat("4"))
        self.assertEqual(division._map_tax(self.tax_21, None), self._vat("2"))
        other_position = self.env["account.fiscal.position"].create({"name": "Other"})
        self.assertEqual(division._map_tax(self.tax_21, other_position), self._vat("2"))
        self.assertFalse(division._map_tax(self.tax_9, None))

    # ------------------------------------------------------------------ constraints

    def test_mapping_constraints(self):
        division = self.division
        with self.assertRaisesText(ValidationError, "not a revenue account"):
            self.env["exact.account.mapping"].create(
                {
                    "division_id": division.id,
                    "account_id": self.account_8010.id,
                    "gl_account_id": self.exact_record(division, "exact.gl.account", "1300").id,
                }
            )
        with self.assertRaisesText(ValidationError, "another administration"):
            self.env["exact.account.mapping"].create(
                {
                    "division_id": division.id,
                    "account_id": self.account_8010.id,
                    "gl_account_id": self.exact_record(
                        self.division_zorg, "exact.gl.account", "8010"
                    ).id,
                }
            )
        with self.assertRaisesText(ValidationError, "not a sales VAT code"):
            self.env["exact.tax.mapping"].create(
                {
                    "division_id": division.id,
                    "tax_id": self.tax_21.id,
                    "vat_code_id": self._vat("6").id,
                }
            )

    @mute_logger("odoo.sql_db")
    def test_unique_mappings(self):
        division = self.division
        values = {
            "division_id": division.id,
            "tax_id": self.tax_21.id,
            "vat_code_id": self._vat("2").id,
        }
        self.env["exact.tax.mapping"].create(values)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["exact.tax.mapping"].create(values)
        # the same tax under a fiscal position is another mapping
        self.env["exact.tax.mapping"].create(
            dict(values, fiscal_position_id=self.fiscal_position_eu.id)
        )
        account = self.company_data["default_account_revenue"]  # mapped by the fixture
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["exact.account.mapping"].create(
                {
                    "division_id": division.id,
                    "account_id": account.id,
                    "gl_account_id": self.exact_record(division, "exact.gl.account", "8000").id,
                }
            )
        term = self.env.ref("account.account_payment_term_30days")  # mapped by the fixture
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["exact.payment.term.mapping"].create(
                {
                    "division_id": division.id,
                    "payment_term_id": term.id,
                    "payment_condition_id": division.default_payment_condition_id.id,
                }
            )

    # ------------------------------------------------------------------ check

    def _invoice(self, invoice_date, **values):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "journal_id": self.journal_zorg.id,
                "invoice_date": invoice_date,
                "fiscal_position_id": self.fiscal_position_eu.id,
                "invoice_payment_term_id": self.term_21.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Consulting",
                            "quantity": 1,
                            "price_unit": 100.0,
                            "account_id": self.account_unknown.id,
                            "tax_ids": [Command.set(self.tax_21.ids)],
                        }
                    )
                ],
                **values,
            }
        )
        move.action_post()
        return move

    def test_check_mappings(self):
        division = self.division_zorg
        today = fields.Date.context_today(division)
        division.export_from_date = today
        invoice = self._invoice(today)
        self._invoice(today - timedelta(days=10))  # before export_from_date: not checked
        action = division.action_check_mappings()
        wizard = self.env["exact.mapping.check.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.move_count, 1)
        lines = {line.kind: line for line in wizard.line_ids}
        self.assertEqual(set(lines), {"account", "tax", "payment_term"})
        self.assertEqual(lines["account"].account_id, self.account_unknown)
        self.assertEqual(lines["tax"].tax_id, self.tax_21)
        self.assertEqual(lines["tax"].fiscal_position_id, self.fiscal_position_eu)
        self.assertEqual(lines["payment_term"].payment_term_id, self.term_21)
        self.assertEqual(lines["tax"].move_ids, invoice)
        self.assertFalse(wizard.is_complete)

        # the button opens the mapping form, prefilled; saving it fixes the line
        open_action = lines["tax"].action_open_mapping_form()
        self.assertEqual(open_action["res_model"], "exact.tax.mapping")
        context = open_action["context"]
        self.assertEqual(context["default_division_id"], division.id)
        self.assertEqual(context["default_tax_id"], self.tax_21.id)
        self.assertEqual(context["default_fiscal_position_id"], self.fiscal_position_eu.id)
        self.env["exact.tax.mapping"].with_context(**context).create(
            {"vat_code_id": self._vat("4", division).id}
        )
        open_action = lines["account"].action_open_mapping_form()
        self.env["exact.account.mapping"].with_context(**open_action["context"]).create(
            {"gl_account_id": self.exact_record(division, "exact.gl.account", "8000").id}
        )
        open_action = lines["payment_term"].action_open_mapping_form()
        self.env["exact.payment.term.mapping"].with_context(**open_action["context"]).create(
            {
                "payment_condition_id": self.exact_record(
                    division, "exact.payment.condition", "30"
                ).id
            }
        )
        wizard.action_recheck()
        self.assertTrue(wizard.is_complete)
        self.assertEqual(wizard.move_count, 1)

        # exported invoices are not checked any more (field of the export part)
        if "exact_state" in self.env["account.move"]._fields:
            invoice.exact_state = "exported"
            wizard.action_recheck()
            self.assertEqual(wizard.move_count, 0)
