from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ExactSandboxCase


@tagged("post_install", "-at_install")
class TestExactMasterData(ExactSandboxCase):
    def test_import(self):
        division = self.division
        gl = self.exact_record(division, "exact.gl.account", "8000")
        self.assertEqual(gl.name, "Omzet hoog")
        self.assertEqual(gl.gl_type, 110)
        self.assertTrue(gl.is_revenue)
        self.assertFalse(self.exact_record(division, "exact.gl.account", "1300").is_revenue)
        self.assertEqual(gl.company_id, division.company_id)
        vat = self.exact_record(division, "exact.vat.code", "2")
        self.assertEqual(vat.code, "2", "Exact pads VAT codes to 3 characters: trimmed")
        self.assertAlmostEqual(vat.percentage, 0.21)
        self.assertEqual(vat.transaction_type, "S")
        intra = self.exact_record(division, "exact.vat.code", "4")
        self.assertEqual(intra.eu_sales_listing, "L")
        self.assertEqual(
            self.exact_record(division, "exact.payment.condition", "14").payment_days, 14
        )
        journal = self.exact_record(division, "exact.journal", "70")
        self.assertEqual(journal.journal_type, 20)
        self.assertEqual(len(division.gl_account_ids), 8)
        self.assertEqual(len(division.vat_code_ids), 6)
        self.assertEqual(len(division.payment_condition_ids), 4)
        self.assertEqual(len(division.exact_journal_ids), 3)
        # each administration has its own records
        self.assertNotEqual(gl, self.exact_record(self.division_zorg, "exact.gl.account", "8000"))
        self.assertTrue(division.master_data_date)

    def test_refresh_updates_and_archives(self):
        division = self.division
        self.addCleanup(self.sandbox.reset, "demo")
        client = division._get_exact_client()
        gl_8010 = self.exact_record(division, "exact.gl.account", "8010")
        gl_8020 = self.exact_record(division, "exact.gl.account", "8020")
        client.delete(100001, "financial/GLAccounts", gl_8010.exact_id)
        client.put(100001, "financial/GLAccounts", gl_8020.exact_id, {"Description": "Omzet 0%"})
        new = client.post(
            100001,
            "financial/GLAccounts",
            {"Code": "8300", "Description": "Omzet diensten", "Type": 110},
        )
        action = division.action_refresh_master_data()
        self.assertEqual(action["params"]["type"], "success")
        self.assertFalse(gl_8010.active, "gone from Exact: archived")
        self.assertTrue(gl_8010.exists())
        self.assertEqual(gl_8020.name, "Omzet 0%")
        self.assertTrue(gl_8020.active)
        created = self.exact_record(division, "exact.gl.account", "8300")
        self.assertEqual(created.exact_id.lower(), new["ID"].lower())
        # the same GUID coming back reactivates the record
        division.action_refresh_master_data()
        self.assertEqual(
            len(division.with_context(active_test=False).gl_account_ids.filtered("exact_id")),
            9,
        )

    def test_cron_refresh(self):
        self.env["exact.division"]._cron_refresh_master_data()
        self.assertTrue(self.division.master_data_date)
        self.env["ir.cron"].browse(
            self.env.ref("chainwise_exact_connector.ir_cron_exact_master_data").id
        ).ensure_one()

    def test_cron_refresh_goes_on_after_a_failure(self):
        Division = type(self.env["exact.division"])
        original = Division._refresh_master_data

        def refresh(division, client=None):
            if division == self.division:
                raise RuntimeError("unexpected")
            return original(division, client)

        self.division_zorg.master_data_date = False
        with (
            patch.object(Division, "_refresh_master_data", refresh),
            self.assertLogs("odoo.addons.chainwise_exact_connector.models.exact_division", "ERROR"),
        ):
            self.env["exact.division"]._cron_refresh_master_data()
        self.assertTrue(self.division_zorg.master_data_date, "the next administration went on")

    def test_division_create_wizard(self):
        self.division_zorg.unlink()
        # 100001 keeps the default sales journal; the new one may take all the others
        self.division.journal_ids = self.company_data["default_journal_sale"]
        wizard = self.env["exact.division.create.wizard"].browse(
            self.connection.action_add_division()["res_id"]
        )
        codes = {line.division_code: line for line in wizard.line_ids}
        self.assertEqual(set(codes), {100001, 100002})
        self.assertTrue(codes[100001].already_added)
        self.assertFalse(codes[100002].already_added)
        self.assertEqual(codes[100002].division_name, "ChainWise Zorg B.V.")
        codes[100002].selected = True
        action = wizard.action_create()
        division = self.env["exact.division"].browse(action["res_id"])
        self.assertEqual(division.division_code, 100002)
        self.assertEqual(division.company_id, self.company_data["company"])
        self.assertEqual(division.export_from_date, division.create_date.date())
        self.assertTrue(division.gl_account_ids, "master data read at once")
        self.assertEqual(division.null_invoice_policy, "export")
        self.assertEqual(division.entry_number_policy, "exact")

    # ------------------------------------------------------------------ constraints

    def test_constraint_journal_coverage(self):
        with self.assertRaisesText(ValidationError, "already exports all its sales journals"):
            self.env["exact.division"].create(
                {
                    "connection_id": self.connection.id,
                    "division_code": 100003,
                    "division_name": "Another",
                    "company_id": self.company_data["company"].id,
                }
            )
        with self.assertRaisesText(ValidationError, "already exports to"):
            self.env["exact.division"].create(
                {
                    "connection_id": self.connection.id,
                    "division_code": 100003,
                    "division_name": "Another",
                    "company_id": self.company_data["company"].id,
                    "journal_ids": [(6, 0, self.journal_zorg.ids)],
                }
            )
        # an archived division does not block
        self.division_zorg.active = False
        self.env["exact.division"].create(
            {
                "connection_id": self.connection.id,
                "division_code": 100003,
                "division_name": "Another",
                "company_id": self.company_data["company"].id,
                "journal_ids": [(6, 0, self.journal_zorg.ids)],
            }
        )

    def test_constraint_exact_journal(self):
        bank = self.exact_record(self.division, "exact.journal", "20")
        with self.assertRaisesText(ValidationError, "not a sales journal"):
            self.division.exact_journal_id = bank
        sales = self.exact_record(self.division, "exact.journal", "70")
        sales.sudo().code = "VK"
        with self.assertRaisesText(ValidationError, "not a number"):
            self.division.exact_journal_id = sales
        with self.assertRaisesText(ValidationError, "must belong"):
            self.division.exact_journal_id = self.exact_record(
                self.division_zorg, "exact.journal", "70"
            )

    def test_constraint_null_invoice(self):
        with self.assertRaisesText(ValidationError, "revenue account"):
            self.division.null_gl_account_id = self.exact_record(
                self.division, "exact.gl.account", "1300"
            )
        with self.assertRaisesText(ValidationError, "sales VAT code"):
            self.division.null_vat_code_id = self.exact_record(self.division, "exact.vat.code", "6")

    def test_for_move(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a)
        self.assertEqual(self.env["exact.division"]._for_move(invoice), self.division)
        invoice_zorg = self.init_invoice(
            "out_invoice", products=self.product_a, journal=self.journal_zorg
        )
        self.assertEqual(self.env["exact.division"]._for_move(invoice_zorg), self.division_zorg)
        bill = self.init_invoice("in_invoice", products=self.product_a)
        self.assertFalse(self.env["exact.division"]._for_move(bill))
        self.assertEqual(
            set(self.division._covered_journals().ids),
            set(
                self.env["account.journal"]
                .search(
                    [("company_id", "=", self.company_data["company"].id), ("type", "=", "sale")]
                )
                .ids
            )
            - {self.journal_zorg.id},
        )
