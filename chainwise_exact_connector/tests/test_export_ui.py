"""Send to Exact (wizard, buttons, server actions), Retry, Send again, cron, log."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_export_common import ExactExportCase


@tagged("post_install", "-at_install")
class TestExportUi(ExactExportCase):
    def open_wizard(self, records):
        action = records.action_exact_send()
        self.assertEqual(action["res_model"], "exact.send.wizard")
        return self.env["exact.send.wizard"].browse(action["res_id"])

    def test_wizard_preflight_and_send_now(self):
        good = self.invoice()
        bad = self.invoice(taxes=self.tax_sale_a.copy({"name": "Unmapped tax"}))
        wizard = self.open_wizard(good | bad)
        self.assertEqual(wizard.record_count, 2)
        self.assertEqual(wizard.ready_count, 1)
        problem = wizard.line_ids.filtered(lambda line: not line.ok)
        self.assertIn("Unmapped tax", problem.message)
        self.assertFalse(self.entries(), "pre-flight makes no API call")
        action = wizard.action_send_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("1 exported, 1 with errors", action["params"]["message"])
        self.assertEqual(good.exact_state, "exported")
        self.assertEqual(bad.exact_state, "error")

    def test_wizard_queue(self):
        move = self.invoice()
        move.exact_state = False
        wizard = self.open_wizard(move)
        action = wizard.action_queue()
        self.assertIn("queued", action["params"]["message"])
        self.assertEqual(move.exact_state, "pending")
        self.assertFalse(self.entries())

    def test_wizard_for_customers(self):
        partner = self.env["res.partner"].create({"name": "Golf B.V.", "is_company": True})
        wizard = self.open_wizard(partner)
        self.assertEqual(wizard.res_model, "res.partner")
        action = wizard.action_send_now()
        self.assertIn("exported", action["params"]["message"])
        self.assertTrue([a for a in self.accounts() if a["Name"] == "Golf B.V."])
        self.assertTrue(partner.exact_link_ids.filtered(lambda link: link.state == "exported"))

    def test_server_actions_bound(self):
        for xmlid, model in (
            ("chainwise_exact_connector.action_server_exact_send_moves", "account.move"),
            ("chainwise_exact_connector.action_server_exact_send_partners", "res.partner"),
        ):
            action = self.env.ref(xmlid)
            self.assertEqual(action.binding_model_id.model, model)
            self.assertEqual(action.binding_view_types, "list,form")
            self.assertIn(
                self.env.ref("chainwise_exact_connector.group_exact_user"), action.groups_id
            )
        move = self.invoice()
        result = (
            self.env.ref("chainwise_exact_connector.action_server_exact_send_moves")
            .with_context(active_model="account.move", active_ids=move.ids, active_id=move.id)
            .run()
        )
        self.assertEqual(result["res_model"], "exact.send.wizard")

    def test_retry_and_send_again(self):
        move = self.invoice()
        mapping = self.env["exact.tax.mapping"].search(
            [("division_id", "=", self.division.id), ("tax_id", "=", self.tax_sale_a.id)]
        )
        vat_code = mapping.vat_code_id
        mapping.unlink()
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        # not retried until someone acts
        self.exporter._cron_export()
        self.assertEqual(move.exact_state, "error")
        self.env["exact.tax.mapping"].create(
            {
                "division_id": self.division.id,
                "tax_id": self.tax_sale_a.id,
                "vat_code_id": vat_code.id,
            }
        )
        move.action_exact_retry()
        self.assertEqual(move.exact_state, "pending")
        self.exporter._cron_export()
        self.assertEqual(move.exact_state, "exported")
        first_entry = move.exact_entry_id
        # a manager may send it again (Exact then holds it twice)
        move.action_exact_send_again()
        self.assertEqual(move.exact_state, "pending")
        self.assertFalse(move.exact_entry_id)
        self.exporter._cron_export()
        self.assertEqual(move.exact_state, "exported")
        self.assertNotEqual(move.exact_entry_id, first_entry)
        self.assertEqual(len([e for e in self.entries() if e["YourRef"] == move.name]), 2)

    def test_send_again_is_for_managers(self):
        move = self.invoice()
        self.export(move)
        user = self.env["res.users"].create(
            {
                "name": "Invoicing clerk",
                "login": "clerk_exact",
                "groups_id": [(6, 0, [self.env.ref("account.group_account_invoice").id])],
                "company_id": self.env.company.id,
                "company_ids": [(6, 0, self.env.company.ids)],
            }
        )
        self.assertTrue(user.has_group("chainwise_exact_connector.group_exact_user"))
        with self.assertRaises(UserError):
            move.with_user(user).action_exact_send_again()
        # but the clerk may send invoices, customer included, with plain user rights
        partner = self.env["res.partner"].create({"name": "Juliet B.V.", "is_company": True})
        other = self.invoice(partner=partner)
        action = other.with_user(user).action_exact_send()
        wizard = self.env["exact.send.wizard"].with_user(user).browse(action["res_id"])
        wizard.action_send_now()
        self.assertEqual(other.exact_state, "exported", other.exact_error)
        self.assertTrue(other.exact_log_ids)

    def test_cron_exports_backlog_customers_first(self):
        move = self.invoice()
        move.write({"exact_state": False, "exact_division_id": False})  # posted before setup
        partner = self.env["res.partner"].create({"name": "Hotel B.V.", "is_company": True})
        self.exporter._export_partners(partner, self.division)
        partner.write({"city": "Zwolle"})
        start = len(self.sandbox.requests_log)
        self.exporter._cron_export()
        self.assertEqual(move.exact_state, "exported")
        calls = [(c["method"], c["path"].split("/")[-1]) for c in self.sandbox.requests_log[start:]]
        self.assertEqual(calls[0], ("PUT", calls[0][1]))
        self.assertIn("Accounts", calls[0][1], "customers first")
        self.assertEqual(calls[-1], ("POST", "SalesEntries"))

    def test_log_written_and_pruned(self):
        move = self.invoice()
        self.export(move)
        log = move.exact_log_ids
        self.assertEqual(log.method, "POST")
        self.assertEqual(log.status_code, 201)
        self.assertEqual(log.division_id, self.division)
        self.assertNotIn("access_token", log.request_body or "")
        self.env.cr.execute(
            "UPDATE exact_sync_log SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=91), log.id),
        )
        self.env["exact.sync.log"]._cron_prune()
        self.assertFalse(log.exists())

    def test_views_load(self):
        for model, view_type in (
            ("account.move", "form"),
            ("account.move", "search"),
            ("res.partner", "form"),
            ("exact.sync.log", "list"),
            ("exact.send.wizard", "form"),
        ):
            arch = self.env[model].get_view(view_type=view_type)["arch"]
            self.assertTrue(arch)
        form = self.env["account.move"].get_view(self.env.ref("account.view_move_form").id, "form")[
            "arch"
        ]
        self.assertIn("exact_state", form)
        self.assertIn("action_exact_send_again", form)
