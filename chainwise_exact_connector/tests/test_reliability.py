"""The reliability run in small: a backlog through a faulty Exact, two claimers.

``bench/reliability.py`` is the full run: 500 invoices, two worker threads with their
own database connections committing for real, a sandbox clock sped up. A TransactionCase
cannot do that: all its work lives in one uncommitted transaction that no other
connection can see, and it never commits. So this test keeps what can be checked
honestly inside one transaction:

- the faults are the same (HTML 500 pages, POSTs that land and never answer, 429
  bursts, access tokens that expire every 10 sandbox minutes: the shared ManualClock
  moves by 4 minutes per cron run, so tokens expire and are refreshed mid-backlog);
- the second claimer is real where it can be: a second database connection, outside
  the test's transaction, holds one administration the way another cron worker does
  (the per-administration advisory lock is all it can hold, since it cannot see the
  test's rows); the export must leave that administration alone and finish it once the
  other worker lets go;
- "Send now" (the button) runs between the cron runs on the same invoices, the way a
  user's click lands between two cron batches.

The invariants are those of the full run: every invoice ``exported``, one sales entry
per invoice in Exact (by YourRef and by EntryID), one account per customer and one
contact per contact person, every token refresh answered 200 and the connection still
connected.
"""

from collections import Counter

from odoo import Command
from odoo.tests import tagged

from ..models.exact_exporter import DIVISION_LOCK_KEY
from ..models.exact_token_store import _read_committed
from .test_export_common import ExactExportCase

CUSTOMERS = 6
INVOICES = 30


@tagged("post_install", "-at_install")
class TestReliability(ExactExportCase):
    sandbox_options = {"rng_seed": 20260302}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Betrouwbaar {i} B.V.",
                    "is_company": True,
                    "vat": f"NL{800000000 + i:09d}B01",
                    "child_ids": [
                        Command.create(
                            {"name": f"Jan de Vries {i}", "email": f"jan{i}@betrouwbaar.example"}
                        )
                    ],
                }
                for i in range(CUSTOMERS)
            ]
        )
        journal_main = cls.company_data["default_journal_sale"]
        revenue = cls.company_data["default_account_revenue"]
        values = []
        for i in range(INVOICES):
            index = i % CUSTOMERS
            values.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.customers[index].id,
                    # customers alternate between the two administrations
                    "journal_id": (journal_main if index % 2 == 0 else cls.journal_zorg).id,
                    "invoice_date": cls.today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": f"Line {n}",
                                "account_id": revenue.id,
                                "price_unit": 10.0 + i + n,
                                "tax_ids": [Command.set(cls.tax_sale_a.ids)],
                            }
                        )
                        for n in range(1 + i % 3)
                    ],
                }
            )
        cls.moves = cls.env["account.move"].create(values)
        cls.moves.action_post()

    def setUp(self):
        super().setUp()
        # a POST that hangs must outlast the client's timeout, at a small real cost
        self.connection.request_timeout = 1
        for rule in (
            # a few for sure (a customer's POST and an invoice's), then at random
            "POST crm/Accounts store-and-hang n=2 seconds=2",
            "POST salesentry/SalesEntries store-and-hang n=3 seconds=2",
            "* [!o]* 429 p=0.03 times=3",
            "POST [!o]* store-and-hang p=0.05 seconds=2",
            "* [!o]* html500 p=0.10",
        ):
            self.sandbox.add_fault(rule)

    def hold_division(self, division):
        """A second database connection takes ``division`` the way another cron
        worker does; close the returned cursor to let go."""
        other = self.env.registry.cursor()
        other.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (DIVISION_LOCK_KEY, division.id))
        self.assertTrue(other.fetchone()[0])
        return other

    def test_backlog_through_faults_with_two_claimers(self):
        moves = self.moves
        self.assertEqual(set(moves.mapped("exact_state")), {"pending"})
        main_moves = moves.filtered(lambda m: m.exact_division_id == self.division)
        zorg_moves = moves - main_moves
        self.assertEqual(len(zorg_moves), INVOICES // 2)
        refreshes_before = self.token_refresh_calls()
        token_calls_before = len(self.sandbox.token_calls)

        # Another worker holds 100001: this run exports 100002 only and leaves every
        # record of 100001 as it was, without a single call to that administration.
        other = self.hold_division(self.division)
        try:
            self.exporter._cron_export(batch_size=8)
            self.assertEqual(set(main_moves.mapped("exact_state")), {"pending"})
            self.assertFalse([r for r in self.sandbox.requests_log if r.get("division") == 100001])
            self.assertTrue(zorg_moves.filtered(lambda m: m.exact_state == "exported"))
            counts = self.exporter._export_moves(main_moves)  # "Send now" meanwhile
            self.assertEqual(counts["busy"], len(main_moves))
            self.assertIn("Another export of administration", counts["_message"])
            self.assertEqual(set(main_moves.mapped("exact_state")), {"pending"})
        finally:
            other.close()

        # The other worker let go: cron runs (4 sandbox minutes apart, so access tokens
        # expire on the way) with "Send now" clicks in between, until nothing waits.
        for run in range(40):
            self.clock.advance(240)
            if run % 3 == 2:
                self.exporter._export_moves(moves)
            else:
                self.exporter._cron_export(batch_size=8)
            if not moves.filtered(lambda m: m.exact_state in ("pending", "sending")):
                break

        injected = Counter(r["fault"] for r in self.sandbox.requests_log if r.get("fault"))
        self.assertTrue(injected["html500"], injected)
        self.assertTrue(injected["429"], injected)
        self.assertTrue(injected["store-and-hang"], injected)

        self.assertEqual(Counter(moves.mapped("exact_state")), {"exported": INVOICES})
        entries = self.entries(100001) + self.entries(100002)
        self.assertEqual(len(entries), INVOICES)
        self.assertEqual(
            {e["YourRef"]: e["EntryID"].lower() for e in entries},
            {m.name: m.exact_entry_id.lower() for m in moves},
            "one entry per invoice, with the EntryID Odoo chose",
        )
        self.assertEqual(len({e["EntryID"] for e in entries}), INVOICES)

        names = set(self.customers.mapped("name"))
        accounts = [a for a in self.accounts(100001) + self.accounts(100002) if a["Name"] in names]
        self.assertEqual(sorted(a["Name"] for a in accounts), sorted(names), "no account twice")
        emails = set(self.customers.child_ids.mapped("email"))
        contacts = [
            c
            for c in self.sandbox.records(100001, "Contacts")
            + self.sandbox.records(100002, "Contacts")
            if c.get("Email") in emails
        ]
        self.assertEqual(sorted(c["Email"] for c in contacts), sorted(emails), "no contact twice")

        refreshes = [
            c for c in self.sandbox.token_calls[token_calls_before:] if c[1] == "refresh_token"
        ]
        self.assertGreaterEqual(self.token_refresh_calls() - refreshes_before, 2)
        self.assertEqual({c[2] for c in refreshes}, {200}, "the refresh chain is unbroken")
        self.assertEqual(self.connection.state, "connected")


@tagged("post_install", "-at_install")
class TestExportCosts(ExactExportCase):
    """What bench/benchmark.py measures, kept from coming back."""

    def test_export_state_write_leaves_the_accounting_alone(self):
        move = self.invoice(amounts=(10.0, 20.0))
        lines = move.line_ids
        self.env.flush_all()
        before = {line.id: line.write_uid for line in lines}
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk_costs",
                "groups_id": [Command.set([self.env.ref("account.group_account_invoice").id])],
            }
        )
        move.write({"is_manually_modified": False})
        # bookkeeping of the export only: no line synchronisation (which rewrites every
        # line), no balance check, no "manually modified" flag
        move.with_user(clerk).sudo().write({"exact_error": "x", "exact_state": "sending"})
        self.env.flush_all()
        lines.invalidate_recordset()
        move.invalidate_recordset()
        self.assertEqual({line.id: line.write_uid for line in lines}, before)
        self.assertFalse(move.is_manually_modified)
        self.assertEqual(move.exact_state, "sending")
        # any other write still goes through account.move's own logic
        move.with_user(clerk).sudo().write({"ref": "other"})
        self.env.flush_all()
        lines.invalidate_recordset()
        self.assertTrue(move.is_manually_modified)

    def test_same_queries_for_1_and_50_lines(self):
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_a.id,
                    "invoice_date": self.today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": f"Line {n}",
                                "price_unit": 1.0 + n,
                                "tax_ids": [Command.set(self.tax_sale_a.ids)],
                            }
                        )
                        for n in range(size)
                    ],
                }
                for size in (1, 50, 1, 50)
            ]
        )
        moves.action_post()
        self.export(self.invoice())  # the customer is in Exact: steady state
        counts = []
        for move in moves:
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            self.export(move)
            self.env.flush_all()
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(move.exact_state, "exported", move.exact_error)
        # the first one also fills Odoo's caches (record rules of the steady-state path);
        # after it, 1 line or 50 lines cost the same
        self.assertEqual(counts[1:], [counts[1]] * 3, f"no query per invoice line {counts}")

    def test_new_account_needs_no_contact_lookup(self):
        company = self.env["res.partner"].create({"name": "Nieuw B.V.", "is_company": True})
        self.env["res.partner"].create(
            {"name": "Els de Wit", "parent_id": company.id, "email": "els@nieuw.example"}
        )
        start = len(self.sandbox.requests_log)
        self.exporter._export_partners(company, self.division)
        calls = [
            (c["method"], c["path"].rsplit("/", 1)[-1]) for c in self.sandbox.requests_log[start:]
        ]
        # no name, VAT or CoC to look the account up by: created at once; its contact
        # too, without asking Exact for the contacts of an account it just made
        self.assertEqual(calls, [("POST", "Accounts"), ("POST", "Contacts")])
        self.assertEqual(self.link(company).state, "exported")

    def link(self, partner, link_type="account"):
        return self.env["exact.partner.link"].search(
            [("partner_id", "=", partner.id), ("link_type", "=", link_type)]
        )

    def test_separate_transactions_read_committed(self):
        # The connection row's token and rate-limit transactions wait for another
        # worker's commit and then read it (repeatable read would fail them with
        # "could not serialize access").
        with self.env.registry.cursor() as cr:
            _read_committed(cr, self.env.registry)
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "read committed")

    def test_spent_minute_is_known_to_the_next_batch(self):
        """A batch that spends the minute leaves that in the shared rate-limit state, so
        the next batch (a new client) waits for the reset instead of earning a 429."""
        self.export(self.invoice())  # the customer is in Exact: one call per invoice
        moves = [self.invoice(amounts=(float(n + 1),)) for n in range(4)]
        self.sandbox.configure(minutely_limit=3)
        self.addCleanup(self.sandbox.configure, minutely_limit=100000)
        self.clock.advance(60 - self.clock() % 60 + 1)  # a fresh sandbox minute
        start = len(self.sandbox.requests_log)
        sleeps = len(self.sleeps)
        self.export(moves[0] | moves[1] | moves[2])  # three calls: the minute is spent
        self.export(moves[3])
        statuses = [c["status"] for c in self.sandbox.requests_log[start:]]
        self.assertEqual(statuses, [201, 201, 201, 201])
        self.assertGreater(len(self.sleeps), sleeps, "the second batch waited for the reset")
        self.assertEqual(moves[3].exact_state, "exported")

    def test_unanswered_contact_post_under_new_account_makes_no_duplicate(self):
        company = self.env["res.partner"].create({"name": "Haast B.V.", "is_company": True})
        self.env["res.partner"].create(
            {"name": "Kees Snel", "parent_id": company.id, "email": "kees@haast.example"}
        )
        moves = self.invoice(partner=company) | self.invoice(partner=company, amounts=(5.0,))
        # the contact is stored but its POST never answers; the same run goes on with
        # the second invoice of the customer, whose account it created a moment ago
        self.sandbox.add_fault("POST crm/Contacts store-and-hang n=1 seconds=1")
        self.export(moves)
        self.export(moves)
        contacts = [
            c
            for c in self.sandbox.records(100001, "Contacts")
            if c["Email"] == "kees@haast.example"
        ]
        self.assertEqual(len(contacts), 1, "the stored contact was found, not posted again")
        self.assertEqual(moves.mapped("exact_state"), ["exported", "exported"])
