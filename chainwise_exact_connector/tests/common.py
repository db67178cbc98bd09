"""Shared fixtures of the Odoo tests: a real Exact sandbox on a loopback port.

``ExactSandboxCase`` starts ``exact_sandbox`` (seed "demo") once per test class on
127.0.0.1, creates a connected ``exact.connection`` and the two demo administrations,
reads their master data through the API and maps the obvious accounts, taxes and
payment terms, so a test can post an invoice and export it at once.

Class attributes for subclasses:

- ``sandbox`` (the ``exact_sandbox.Sandbox``), ``sandbox_server`` (its HTTP server,
  ``.base_url``), ``clock`` (the sandbox's ``ManualClock``, started at the real time;
  ``exact.connection._exact_now`` is patched to read it, so token times in Odoo and in
  the sandbox agree: ``cls.clock.advance(600)`` or ``age_tokens()`` expires the token;
  ``_exact_sleep`` is patched too: the client's waits advance the clock and are
  recorded in ``cls.sleeps`` instead of sleeping);
- ``connection`` (state ``connected``; every test starts with a fresh token pair from
  ``sandbox.issue_tokens()``, because the sandbox keeps its state across the tests of
  a class while Odoo rolls back: a refresh in one test kills the stored refresh token
  of the next one);
- ``division`` (100001 "ChainWise Demo B.V.": all sales journals of the company, except
  ``journal_zorg``), ``division_zorg`` (100002 "ChainWise Zorg B.V.": the business unit
  whose sales journal is ``journal_zorg``);
- both divisions: Exact journal 70, null-invoice GL 8999 and VAT code 0, default
  payment condition 30, every income account of the company mapped to GL 8000, the
  company's sale taxes (``tax_sale_a``, ``tax_sale_b``) mapped to VAT code 2, and the
  payment terms immediate/15/30 days (when they exist) mapped to 00/14/30.

Tests that need an empty Exact call ``cls.sandbox.reset(seed="empty")`` themselves.
"""

import os
import time
from contextlib import contextmanager

from odoo import Command
from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from exact_sandbox import ManualClock, Sandbox
from exact_sandbox.testing import serve_in_thread

CLIENT_ID = "chainwise-test-client"
CLIENT_SECRET = "chainwise-test-secret-do-not-log"  # noqa: S105 - a fake for the sandbox


class ExactSandboxCase(AccountTestInvoicingCommon):
    """Accounting fixtures plus a connected Exact sandbox (see the module docstring)."""

    sandbox_options = {}  # extra keyword arguments for Sandbox(), per subclass

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The layer sets OAUTHLIB_INSECURE_TRANSPORT itself for a loopback base URL and
        # logs a warning when it does; the test log must stay warning-free, and the
        # sandbox is on 127.0.0.1 by construction, so say it here once.
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

        cls.clock = ManualClock(start=time.time())
        cls.classPatch(type(cls.env["exact.connection"]), "_exact_now", lambda self: cls.clock())
        # the client's waits (rate-limit reset, retry backoff) move the clock instead
        cls.sleeps = []

        def fake_sleep(self, seconds):
            cls.sleeps.append(seconds)
            cls.clock.advance(seconds)

        cls.classPatch(type(cls.env["exact.connection"]), "_exact_sleep", fake_sleep)
        connection = cls.env["exact.connection"].new({"region": "custom"})
        redirect_uri = connection.redirect_uri
        options = {
            "minutely_limit": 100000,
            "daily_limit": 1000000,
            **cls.sandbox_options,
        }
        cls.sandbox = Sandbox(
            clock=cls.clock,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=redirect_uri,
            seed="demo",
            **options,
        )
        cls.sandbox_server = cls.enterClassContext(
            serve_in_thread(cls.sandbox, host="127.0.0.1", port=0)
        )

        cls.connection = cls.env["exact.connection"].create(
            {
                "name": "Exact sandbox",
                "company_id": cls.company_data["company"].id,
                "region": "custom",
                "custom_base_url": cls.sandbox_server.base_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "request_timeout": 3,
            }
        )
        cls.give_tokens(cls.connection)

        company = cls.company_data["company"]
        cls.journal_zorg = cls.env["account.journal"].create(
            {
                "name": "Sales Zorg",
                "code": "ZORG",
                "type": "sale",
                "company_id": company.id,
            }
        )
        cls.division = cls.env["exact.division"].create(
            {
                "connection_id": cls.connection.id,
                "company_id": company.id,
                "division_code": 100001,
                "division_name": "ChainWise Demo B.V.",
            }
        )
        cls.division_zorg = cls.env["exact.division"].create(
            {
                "connection_id": cls.connection.id,
                "company_id": company.id,
                "division_code": 100002,
                "division_name": "ChainWise Zorg B.V.",
                "journal_ids": [Command.set(cls.journal_zorg.ids)],
            }
        )
        for division in cls.division | cls.division_zorg:
            cls.setup_division(division)

    def setUp(self):
        super().setUp()
        self.give_tokens(self.connection)

    # ------------------------------------------------------------------ helpers

    @classmethod
    def give_tokens(cls, connection, division_codes=None):
        """Store a fresh token pair from the sandbox on ``connection`` (connected)."""
        tokens = cls.sandbox.issue_tokens(division_codes)
        now = cls.clock()
        connection.sudo().write(
            {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "token_obtained_at": now,
                "token_expires_at": now + float(tokens["expires_in"]),
                "state": "connected",
                "last_error": False,
            }
        )
        return tokens

    @classmethod
    def age_tokens(cls, connection=None, seconds=600.0):
        """Move the shared clock (sandbox and Odoo) by ``seconds``: the access token is
        expired and a refresh is allowed (Exact refuses one within 570 s)."""
        cls.clock.advance(seconds)

    @classmethod
    def setup_division(cls, division):
        """Master data from the sandbox, journal 70, null GL 8999 / VAT 0, condition 30
        and the mappings of the income accounts, sale taxes and payment terms."""
        division.action_refresh_master_data()
        env = cls.env
        division.write(
            {
                "exact_journal_id": cls.exact_record(division, "exact.journal", "70").id,
                "null_gl_account_id": cls.exact_record(division, "exact.gl.account", "8999").id,
                "null_vat_code_id": cls.exact_record(division, "exact.vat.code", "0").id,
                "default_payment_condition_id": cls.exact_record(
                    division, "exact.payment.condition", "30"
                ).id,
            }
        )
        company = division.company_id
        gl_8000 = cls.exact_record(division, "exact.gl.account", "8000")
        income_accounts = env["account.account"].search(
            [
                *env["account.account"]._check_company_domain(company),
                ("account_type", "in", ("income", "income_other")),
            ]
        )
        env["exact.account.mapping"].create(
            [
                {"division_id": division.id, "account_id": account.id, "gl_account_id": gl_8000.id}
                for account in income_accounts
            ]
        )
        vat_2 = cls.exact_record(division, "exact.vat.code", "2")
        sale_taxes = (cls.tax_sale_a | cls.tax_sale_b).filtered(lambda t: t.company_id == company)
        env["exact.tax.mapping"].create(
            [
                {"division_id": division.id, "tax_id": tax.id, "vat_code_id": vat_2.id}
                for tax in sale_taxes
            ]
        )
        for xmlid, code in (
            ("account.account_payment_term_immediate", "00"),
            ("account.account_payment_term_15days", "14"),
            ("account.account_payment_term_30days", "30"),
        ):
            term = env.ref(xmlid, raise_if_not_found=False)
            if term:
                env["exact.payment.term.mapping"].create(
                    {
                        "division_id": division.id,
                        "payment_term_id": term.id,
                        "payment_condition_id": cls.exact_record(
                            division, "exact.payment.condition", code
                        ).id,
                    }
                )

    @contextmanager
    def assertRaisesText(self, exception, text):
        """``assertRaises`` (which Odoo wraps in a savepoint, unlike
        ``assertRaisesRegex``) plus a check of the message."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertIn(text, str(caught.exception))

    @classmethod
    def exact_record(cls, division, model, code):
        """The master-data record of ``division`` with this Exact code (active or not)."""
        record = (
            cls.env[model]
            .with_context(active_test=False)
            .search([("division_id", "=", division.id), ("code", "=", code)], limit=1)
        )
        assert record, f"{model} {code} not read from the sandbox for {division.division_code}"
        return record

    @classmethod
    def token_refresh_calls(cls):
        """How many refresh_token grants the sandbox has seen."""
        return len([call for call in cls.sandbox.token_calls if call[1] == "refresh_token"])
