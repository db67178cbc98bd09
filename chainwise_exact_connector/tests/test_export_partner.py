"""Customers and contact persons to Exact against the sandbox."""

from odoo import Command
from odoo.tests import tagged

from .. import exact
from .test_export_common import ExactExportCase


@tagged("post_install", "-at_install")
class TestExportPartner(ExactExportCase):
    def link(self, partner, division=None, link_type="account"):
        return self.env["exact.partner.link"].search(
            [
                ("partner_id", "=", partner.id),
                ("division_id", "=", (division or self.division).id),
                ("link_type", "=", link_type),
            ]
        )

    def account(self, guid, division=100001):
        found = [a for a in self.accounts(division) if a["ID"] == guid]
        self.assertEqual(len(found), 1)
        return found[0]

    def seed_customer(self):
        customers = [a for a in self.accounts() if a["Code"].strip() == "1000"]
        self.assertEqual(len(customers), 1)
        return customers[0]

    def test_create_customer_with_numeric_code(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Bravo B.V.",
                "is_company": True,
                "ref": "4242",
                "city": "Utrecht",
                "country_id": self.env.ref("base.nl").id,
                "email": "info@bravo.example",
            }
        )
        counts = self.exporter._export_partners(partner, self.division)
        self.assertEqual(counts["exported"], 1)
        link = self.link(partner)
        account = self.account(link.exact_guid)
        self.assertEqual(account["Code"], exact.pad_account_code("4242"))
        self.assertEqual(account["Status"], "C")
        self.assertEqual(account["City"], "Utrecht")
        self.assertEqual(account["Country"].strip(), "NL")
        self.assertEqual(link.exact_code, "4242")
        self.assertEqual(link.state, "exported")
        # nothing changed: no call the second time
        calls = len(self.sandbox.requests_log)
        self.exporter._export_partners(partner, self.division)
        self.assertEqual(len(self.sandbox.requests_log), calls)

    def test_match_by_vat_number(self):
        seed = self.seed_customer()
        before = len(self.accounts())
        partner = self.env["res.partner"].create(
            {"name": "Van Dijk Bouw", "is_company": True, "vat": seed["VATNumber"]}
        )
        self.exporter._export_partners(partner, self.division)
        self.assertEqual(self.link(partner).exact_guid, seed["ID"])
        self.assertEqual(len(self.accounts()), before, "no new account")

    def test_match_by_chamber_of_commerce(self):
        seed = self.seed_customer()
        before = len(self.accounts())
        partner = self.env["res.partner"].create(
            {"name": "Van Dijk", "is_company": True, "company_registry": seed["ChamberOfCommerce"]}
        )
        self.exporter._export_partners(partner, self.division)
        self.assertEqual(self.link(partner).exact_guid, seed["ID"])
        self.assertEqual(len(self.accounts()), before)

    def test_match_non_customer_becomes_customer(self):
        client = self.client()
        prospect = client.post(
            100001,
            "crm/Accounts",
            {"Name": "Prospect", "Status": "P", "ChamberOfCommerce": "99887766"},
        )
        partner = self.env["res.partner"].create(
            {"name": "Prospect B.V.", "is_company": True, "company_registry": "99887766"}
        )
        move = self.invoice(partner=partner)
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        self.assertEqual(self.account(prospect["ID"])["Status"], "C")
        self.assertEqual(self.entry(move)["Customer"], prospect["ID"])

    def test_update_only_changed_fields(self):
        partner = self.env["res.partner"].create(
            {"name": "Charlie B.V.", "is_company": True, "city": "Delft", "phone": "015-1234567"}
        )
        self.exporter._export_partners(partner, self.division)
        link = self.link(partner)
        partner.write({"city": "Leiden"})
        self.assertEqual(link.state, "pending", "a change marks the account for an update")
        start = len(self.sandbox.requests_log)
        self.exporter._export_partners(partner, self.division)
        calls = self.sandbox.requests_log[start:]
        self.assertEqual([c["method"] for c in calls], ["PUT"])
        log = self.env["exact.sync.log"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id), ("method", "=", "PUT")]
        )
        self.assertEqual(len(log), 1)
        self.assertIn('"City": "Leiden"', log.request_body)
        self.assertNotIn("Phone", log.request_body, "only what changed is sent")
        account = self.account(link.exact_guid)
        self.assertEqual(account["City"], "Leiden")
        self.assertEqual(account["Phone"], "015-1234567")
        self.assertEqual(link.state, "exported")

    def test_contacts_and_main_contact(self):
        company = self.env["res.partner"].create({"name": "Delta B.V.", "is_company": True})
        jan = self.env["res.partner"].create(
            {
                "name": "Jan van der Berg",
                "parent_id": company.id,
                "type": "contact",
                "email": "jan@delta.example",
                "phone": "010-1",
                "function": "Inkoper",
            }
        )
        piet = self.env["res.partner"].create(
            {"name": "Piet Jansen", "parent_id": company.id, "type": "contact"}
        )
        move = self.invoice(partner=jan)
        self.assertEqual(move.commercial_partner_id, company)
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        account_guid = self.link(company).exact_guid
        contacts = [
            c for c in self.sandbox.records(100001, "Contacts") if c["Account"] == account_guid
        ]
        self.assertEqual(len(contacts), 2)
        by_last = {c["LastName"]: c for c in contacts}
        self.assertEqual(by_last["Berg"]["FirstName"], "Jan")
        self.assertEqual(by_last["Berg"]["MiddleName"], "van der")
        self.assertEqual(by_last["Berg"]["Email"], "jan@delta.example")
        self.assertEqual(by_last["Berg"]["JobTitleDescription"], "Inkoper")
        self.assertEqual(by_last["Jansen"]["FirstName"], "Piet")
        self.assertEqual(self.account(account_guid)["MainContact"], by_last["Berg"]["ID"])
        self.assertEqual(self.link(jan, link_type="contact").exact_guid, by_last["Berg"]["ID"])
        self.assertEqual(self.link(piet, link_type="contact").state, "exported")
        # a change to a contact is sent as a PUT of that field only
        jan.write({"function": "Directeur"})
        start = len(self.sandbox.requests_log)
        self.exporter._export_partners(company, self.division)
        calls = self.sandbox.requests_log[start:]
        self.assertEqual([(c["method"], "Contacts" in c["path"]) for c in calls], [("PUT", True)])
        contact = [
            c for c in self.sandbox.records(100001, "Contacts") if c["ID"] == by_last["Berg"]["ID"]
        ]
        self.assertEqual(contact[0]["JobTitleDescription"], "Directeur")

    def test_per_division(self):
        partner = self.env["res.partner"].create({"name": "Echo B.V.", "is_company": True})
        self.exporter._export_partners(partner, self.division)
        self.exporter._export_partners(partner, self.division_zorg)
        self.assertNotEqual(
            self.link(partner).exact_guid, self.link(partner, self.division_zorg).exact_guid
        )
        self.assertEqual(len(partner.exact_link_ids), 2)
        self.assertTrue([a for a in self.accounts(100002) if a["Name"] == "Echo B.V."])

    def test_partner_without_name(self):
        partner = self.env["res.partner"].create({"name": "Foxtrot", "is_company": True})
        move = self.invoice(partner=partner)
        self.env.cr.execute("UPDATE res_partner SET name = '' WHERE id = %s", [partner.id])
        partner.invalidate_recordset(["name"])
        move.commercial_partner_id.invalidate_recordset()
        self.export(move)
        self.assertEqual(move.exact_state, "error")
        self.assertIn("no name", move.exact_error)

    def test_refused_customer_shows_on_its_form(self):
        partner = self.env["res.partner"].create({"name": "Golf", "is_company": True})
        self.assertFalse(partner.exact_has_error)
        self.env.cr.execute("UPDATE res_partner SET name = '' WHERE id = %s", [partner.id])
        partner.invalidate_recordset(["name"])
        counts = self.exporter._export_partners(partner, self.division)
        self.assertEqual(counts["error"], 1)
        partner.invalidate_recordset()
        self.assertTrue(partner.exact_has_error)
        self.assertIn("no name", partner.exact_link_ids.last_error)

    def test_contacts_of_matched_account_are_matched(self):
        seed = self.seed_customer()
        client = self.client()
        existing = client.post(
            100001,
            "crm/Contacts",
            {
                "Account": seed["ID"],
                "FirstName": "Kees",
                "LastName": "Dijk",
                "Email": "kees@vandijk.example",
            },
        )
        company = self.env["res.partner"].create(
            {
                "name": "Van Dijk Bouw B.V.",
                "is_company": True,
                "vat": seed["VATNumber"],
                "child_ids": [
                    Command.create(
                        {"name": "Kees Dijk", "email": "kees@vandijk.example", "type": "contact"}
                    )
                ],
            }
        )
        before = len(self.sandbox.records(100001, "Contacts"))
        self.exporter._export_partners(company, self.division)
        self.assertEqual(len(self.sandbox.records(100001, "Contacts")), before)
        self.assertEqual(
            self.link(company.child_ids, link_type="contact").exact_guid, existing["ID"]
        )

    def test_account_post_without_answer_makes_no_duplicate(self):
        partner = self.env["res.partner"].create(
            {"name": "India Logistiek B.V.", "is_company": True}
        )
        move = self.invoice(partner=partner)
        self.sandbox.add_fault("POST crm/Accounts store-and-hang n=1 seconds=2")
        self.export(move)
        self.assertEqual(move.exact_state, "pending", "tried again later")
        self.assertEqual(len([a for a in self.accounts() if a["Name"] == partner.name]), 1)
        self.export(move)
        self.assertEqual(move.exact_state, "exported", move.exact_error)
        same = [a for a in self.accounts() if a["Name"] == partner.name]
        self.assertEqual(len(same), 1, "found by name after the unanswered POST")
        self.assertEqual(self.entry(move)["Customer"], same[0]["ID"])
