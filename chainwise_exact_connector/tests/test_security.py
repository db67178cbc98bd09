from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CLIENT_ID, CLIENT_SECRET, ExactSandboxCase

SECRET_FIELDS = ("client_secret", "access_token", "refresh_token", "token_expires_at")


@tagged("post_install", "-at_install")
class TestExactSecurity(ExactSandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_data_2 = cls.setup_other_company()
        cls.company_b = cls.company_data_2["company"]
        cls.connection_b = cls.env["exact.connection"].create(
            {
                "name": "Exact B",
                "company_id": cls.company_b.id,
                "region": "custom",
                "custom_base_url": cls.sandbox_server.base_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        )
        cls.give_tokens(cls.connection_b)
        cls.division_b = cls.env["exact.division"].create(
            {
                "connection_id": cls.connection_b.id,
                "company_id": cls.company_b.id,
                "division_code": 100002,
                "division_name": "ChainWise Zorg B.V.",
            }
        )
        cls.division_b.action_refresh_master_data()
        cls.invoicer_a = new_test_user(
            cls.env,
            login="exact_invoicer_a",
            groups="account.group_account_invoice",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.manager_b = new_test_user(
            cls.env,
            login="exact_manager_b",
            groups="account.group_account_manager",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.plain_user = new_test_user(
            cls.env, login="exact_plain", groups="base.group_user", company_id=cls.company_a.id
        )

    def test_groups_implied(self):
        self.assertTrue(self.invoicer_a.has_group("chainwise_exact_connector.group_exact_user"))
        self.assertFalse(self.invoicer_a.has_group("chainwise_exact_connector.group_exact_manager"))
        self.assertTrue(self.manager_b.has_group("chainwise_exact_connector.group_exact_manager"))
        self.assertFalse(self.plain_user.has_group("chainwise_exact_connector.group_exact_user"))

    def test_user_reads_but_not_secrets(self):
        connection = self.connection.with_user(self.invoicer_a)
        self.assertEqual(connection.state, "connected")
        self.assertTrue(connection.redirect_uri)
        self.assertTrue(connection.is_configured)
        for field in SECRET_FIELDS:
            connection.invalidate_recordset()
            with self.assertRaises(AccessError, msg=field):
                connection.read([field])
        with self.assertRaises(AccessError):
            connection.mapped("client_secret")
        # the web client's read of the form skips what the user may not see
        fields_seen = connection.fields_get()
        for field in SECRET_FIELDS:
            self.assertNotIn(field, fields_seen)
        # read-only on the configuration
        division = self.division.with_user(self.invoicer_a)
        self.assertEqual(division.division_code, 100001)
        self.assertTrue(division.gl_account_ids)
        self.assertTrue(division.account_mapping_ids)
        with self.assertRaises(AccessError):
            division.write({"attach_pdf": False})
        with self.assertRaises(AccessError):
            connection.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            division.account_mapping_ids[:1].unlink()
        with self.assertRaises(AccessError):
            connection.action_connect()
        with self.assertRaises(AccessError):
            connection.action_disconnect()

    def test_plain_user_sees_nothing(self):
        with self.assertRaises(AccessError):
            self.connection.with_user(self.plain_user).read(["name"])
        with self.assertRaises(AccessError):
            self.env["exact.division"].with_user(self.plain_user).search([])

    def test_manager_configures_but_not_secrets(self):
        division = self.division_b.with_user(self.manager_b)
        division.write({"attach_pdf": False, "null_invoice_policy": "skip"})
        gl = self.exact_record(self.division_b, "exact.gl.account", "8010")
        account = self.company_data_2["default_account_revenue"]
        mapping = (
            self.env["exact.account.mapping"]
            .with_user(self.manager_b)
            .create({"division_id": division.id, "account_id": account.id, "gl_account_id": gl.id})
        )
        self.assertEqual(mapping.company_id, self.company_b)
        with self.assertRaises(AccessError):
            self.connection_b.with_user(self.manager_b).read(["refresh_token"])
        with self.assertRaises(AccessError):
            self.connection_b.with_user(self.manager_b).action_connect()

    def test_company_isolation(self):
        models = (
            "exact.connection",
            "exact.division",
            "exact.gl.account",
            "exact.vat.code",
            "exact.payment.condition",
            "exact.journal",
            "exact.account.mapping",
            "exact.tax.mapping",
            "exact.payment.term.mapping",
        )
        for model in models:
            records_a = self.env[model].with_user(self.invoicer_a).search([])
            records_b = self.env[model].with_user(self.manager_b).search([])
            self.assertTrue(
                all(company == self.company_a for company in records_a.mapped("company_id")),
                model,
            )
            self.assertTrue(
                all(company == self.company_b for company in records_b.mapped("company_id")),
                model,
            )
        self.assertIn(
            self.division, self.env["exact.division"].with_user(self.invoicer_a).search([])
        )
        self.assertNotIn(
            self.division_b, self.env["exact.division"].with_user(self.invoicer_a).search([])
        )
        self.assertTrue(self.env["exact.gl.account"].with_user(self.manager_b).search([]))
        with self.assertRaises(AccessError):
            self.division_b.with_user(self.invoicer_a).read(["name"])
        with self.assertRaises(AccessError):
            self.connection.with_user(self.manager_b).read(["name"])
        # a division of company B cannot use company A's connection
        with self.assertRaisesText(UserError, "ompan"):
            self.env["exact.division"].create(
                {
                    "connection_id": self.connection.id,
                    "company_id": self.company_b.id,
                    "division_code": 100001,
                    "division_name": "Mixed",
                }
            )

    def test_company_isolation_of_links_and_logs(self):
        """What the export records (partner links, the API-call log) follows the company
        of its administration: company A's users never see company B's."""
        partner = self.env["res.partner"].create({"name": "Shared customer", "is_company": True})
        for division in (self.division, self.division_b):
            self.env["exact.partner.link"].sudo().create(
                {"partner_id": partner.id, "division_id": division.id, "state": "exported"}
            )
            self.env["exact.sync.log"].sudo().create(
                {
                    "division_id": division.id,
                    "res_model": "res.partner",
                    "res_id": partner.id,
                    "method": "POST",
                    "endpoint": "crm/Accounts",
                    "status_code": 201,
                    "success": True,
                }
            )
        for model in ("exact.partner.link", "exact.sync.log"):
            seen_a = self.env[model].with_user(self.invoicer_a).search([])
            seen_b = self.env[model].with_user(self.manager_b).search([])
            self.assertEqual(seen_a.division_id, self.division, model)
            self.assertEqual(seen_b.division_id, self.division_b, model)
        # and on the customer's form (read afresh, as the web client does)
        partner.invalidate_recordset()
        links = partner.with_user(self.invoicer_a).exact_link_ids
        self.assertEqual(links.division_id, self.division)
        logs = partner.with_user(self.invoicer_a).exact_log_ids
        self.assertEqual(logs.division_id, self.division)

    def test_settings_daily_reserve(self):
        """The share of Exact's daily quota left free is set in Accounting's settings."""
        self.env["res.config.settings"].create({"exact_daily_reserve": 0.25}).set_values()
        self.assertAlmostEqual(self.env["exact.exporter"]._daily_reserve(), 0.25)
        self.assertAlmostEqual(self.env["res.config.settings"].create({}).exact_daily_reserve, 0.25)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"exact_daily_reserve": 1.5})

    def test_settings_block(self):
        settings = self.env["res.config.settings"].with_company(self.company_a).create({})
        self.assertEqual(settings.exact_connection_id, self.connection)
        self.assertEqual(settings.exact_connection_state, "connected")
        self.assertEqual(settings.exact_division_count, 2)
        action = settings.action_open_exact_connections()
        self.assertEqual(action["res_model"], "exact.connection")
