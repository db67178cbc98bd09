import logging
import re

import odoo
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import exact

_logger = logging.getLogger(__name__)

MASTER_DATA_MODELS = (
    "exact.gl.account",
    "exact.vat.code",
    "exact.payment.condition",
    "exact.journal",
)
# Words in an Odoo tax's name or description that tell which Exact 0 % code it is.
EXPORT_WORDS = re.compile(r"export|outside|extra|non[- ]?eu|buiten|world", re.IGNORECASE)
INTRA_EU_WORDS = re.compile(r"\beu\b|intra|icp|intracom|europe", re.IGNORECASE)


class ExactDivision(models.Model):
    """One Exact administration (division) used by one Odoo company or business unit."""

    _name = "exact.division"
    _description = "Exact Online Administration"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "company_id, division_code, id"

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True, tracking=True)
    connection_id = fields.Many2one(
        "exact.connection",
        required=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    division_code = fields.Integer(
        "Exact Division",
        required=True,
        readonly=True,
        tracking=True,
        help="The number of the administration in Exact (chosen from what Exact reports).",
    )
    division_name = fields.Char("Exact Administration Name", readonly=True)
    journal_ids = fields.Many2many(
        "account.journal",
        "exact_division_account_journal_rel",
        "division_id",
        "journal_id",
        "Odoo Sales Journals",
        domain="[('type', '=', 'sale')]",
        check_company=True,
        help="The Odoo sales journals whose invoices go to this administration. "
        "Leave empty for all sales journals of the company not covered by another "
        "administration.",
    )
    exact_journal_id = fields.Many2one(
        "exact.journal",
        "Exact Sales Journal",
        domain="[('division_id', '=', id), ('journal_type', '=', 20)]",
        tracking=True,
    )
    journal_code = fields.Char(related="exact_journal_id.code", store=True, string="Journal Code")
    journal_name = fields.Char(related="exact_journal_id.name", store=True, string="Journal Name")
    null_gl_account_id = fields.Many2one(
        "exact.gl.account",
        "Null-Invoice GL Account",
        domain="[('division_id', '=', id), ('gl_type', '=', 110)]",
        help="Revenue account of the single 0.00 line that keeps Exact's numbering "
        "continuous for invoices with a total of zero.",
    )
    null_vat_code_id = fields.Many2one(
        "exact.vat.code",
        "Null-Invoice VAT Code",
        domain="[('division_id', '=', id), ('transaction_type', 'in', ('S', 'B'))]",
    )
    null_invoice_policy = fields.Selection(
        [("export", "Export (one 0.00 line)"), ("skip", "Skip")],
        "Null Invoices",
        default="export",
        required=True,
    )
    default_payment_condition_id = fields.Many2one(
        "exact.payment.condition",
        domain="[('division_id', '=', id)]",
        help="Used when an invoice's payment term has no mapping.",
    )
    entry_number_policy = fields.Selection(
        [("exact", "Let Exact number"), ("odoo_number", "Digits of the Odoo invoice number")],
        "Entry Number",
        default="exact",
        required=True,
        help="Let Exact number: each entry gets the next number of the Exact sales journal. "
        "Digits of the Odoo invoice number: INV/2026/00042 becomes entry 202600042. When the "
        "Odoo journal numbers its credit notes separately (RINV/...), credit notes get "
        "1000000000 plus their digits (RINV/2026/00042 becomes 1202600042), so they never "
        "take an invoice's number. Use this policy only when Exact's sales journal receives "
        "entries from this administration alone.",
    )
    attach_pdf = fields.Boolean("Attach Invoice PDF", default=True)
    export_from_date = fields.Date(
        "Export Invoices Dated From",
        default=fields.Date.context_today,
        required=True,
        help="Invoices dated before this day are never sent, so installing does not "
        "send years of history.",
    )
    gl_account_ids = fields.One2many("exact.gl.account", "division_id", "GL Accounts")
    vat_code_ids = fields.One2many("exact.vat.code", "division_id", "VAT Codes")
    payment_condition_ids = fields.One2many(
        "exact.payment.condition", "division_id", "Payment Conditions"
    )
    exact_journal_ids = fields.One2many("exact.journal", "division_id", "Exact Journals")
    account_mapping_ids = fields.One2many("exact.account.mapping", "division_id", "Accounts")
    tax_mapping_ids = fields.One2many("exact.tax.mapping", "division_id", "Taxes")
    payment_term_mapping_ids = fields.One2many(
        "exact.payment.term.mapping", "division_id", "Payment Terms"
    )
    master_data_date = fields.Datetime("Master Data Read On", readonly=True, copy=False)
    connection_state = fields.Selection(related="connection_id.state", string="Connection State")

    _sql_constraints = [
        (
            "division_company_unique",
            "UNIQUE(connection_id, company_id, division_code)",
            "This Exact administration is already set up for this company.",
        ),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("division_code", "division_name")
    def _compute_name(self):
        for division in self:
            division.name = " - ".join(
                part for part in (str(division.division_code or ""), division.division_name) if part
            )

    # ------------------------------------------------------------------ constraints

    @api.constrains("journal_ids", "company_id", "active")
    def _check_journal_coverage(self):
        for division in self.filtered("active"):
            # sudo: the rule must see every division of the company, whatever the
            # user's record rules let them see
            others = self.sudo().search(
                [("id", "!=", division.id), ("company_id", "=", division.company_id.id)]
            )
            if not division.journal_ids:
                clash = others.filtered(lambda d: not d.journal_ids)
                if clash:
                    raise ValidationError(
                        self.env._(
                            "Company %(company)s already exports all its sales journals to "
                            "%(other)s; choose the Odoo sales journals of %(division)s.",
                            company=division.company_id.name,
                            other=clash[0].display_name,
                            division=division.display_name,
                        )
                    )
                continue
            for journal in division.journal_ids:
                clash = others.filtered(lambda d, j=journal: j in d.journal_ids)
                if clash:
                    raise ValidationError(
                        self.env._(
                            "The sales journal %(journal)s already exports to %(other)s; "
                            "a journal can export to one administration only.",
                            journal=journal.display_name,
                            other=clash[0].display_name,
                        )
                    )

    @api.constrains("exact_journal_id")
    def _check_exact_journal(self):
        for division in self.filtered("exact_journal_id"):
            journal = division.exact_journal_id
            if journal.division_id != division:
                raise ValidationError(
                    self.env._(
                        "The Exact journal must belong to administration %(division)s.",
                        division=division.display_name,
                    )
                )
            if journal.journal_type != 20:
                raise ValidationError(
                    self.env._(
                        "Exact journal %(journal)s is not a sales journal (type 20).",
                        journal=journal.display_name,
                    )
                )
            if not (journal.code or "").strip().isdigit():
                raise ValidationError(
                    self.env._(
                        "Exact journal %(journal)s has a code that is not a number; sales "
                        "entries need a numeric journal code.",
                        journal=journal.display_name,
                    )
                )

    @api.constrains("null_gl_account_id", "null_vat_code_id", "default_payment_condition_id")
    def _check_null_invoice_setup(self):
        for division in self:
            account = division.null_gl_account_id
            if account and (account.division_id != division or account.gl_type != 110):
                raise ValidationError(
                    self.env._(
                        "The null-invoice GL account %(account)s must be a revenue account "
                        "(type 110) of this administration.",
                        account=account.display_name,
                    )
                )
            vat = division.null_vat_code_id
            if vat and (vat.division_id != division or vat.transaction_type not in ("S", "B")):
                raise ValidationError(
                    self.env._(
                        "The null-invoice VAT code %(code)s must be a sales VAT code "
                        "(transaction type Sales or Both) of this administration.",
                        code=vat.display_name,
                    )
                )
            condition = division.default_payment_condition_id
            if condition and condition.division_id != division:
                raise ValidationError(
                    self.env._("The default payment condition must belong to this administration.")
                )

    # ------------------------------------------------------------------ contract helpers

    @api.model
    def _for_move(self, move):
        """The active division that covers ``move`` (its company and sales journal):
        one naming the journal wins over the company's "all journals" one."""
        if not move or move.journal_id.type != "sale":
            return self.browse()
        divisions = self.sudo().search(
            [("company_id", "=", move.company_id.id), ("active", "=", True)]
        )
        specific = divisions.filtered(lambda d: move.journal_id in d.journal_ids)
        if specific:
            return self.browse(specific[0].id)
        general = divisions.filtered(lambda d: not d.journal_ids)
        return self.browse(general[:1].id)

    def _covered_journals(self):
        """The Odoo sales journals whose invoices this division exports."""
        self.ensure_one()
        if self.journal_ids:
            return self.journal_ids
        journals = self.env["account.journal"].search(
            [("company_id", "=", self.company_id.id), ("type", "=", "sale")]
        )
        taken = self.search(
            [("company_id", "=", self.company_id.id), ("id", "!=", self.id)]
        ).journal_ids
        return journals - taken

    # The three lookups read the division's mapping lists (one2many, cached for the
    # transaction and kept up to date by the ORM when a mapping is created) and filter
    # them in memory: an invoice of 50 lines costs the same few queries as one of 1.

    def _map_account(self, account):
        self.ensure_one()
        mapping = self.sudo().account_mapping_ids.filtered(
            lambda m: m.account_id.id == account.id
        )[:1]
        return self.env["exact.gl.account"].browse(mapping.gl_account_id.id)

    def _map_tax(self, tax, fiscal_position=None):
        """The VAT code of ``tax``; a mapping for the fiscal position wins over one
        without."""
        self.ensure_one()
        position_id = fiscal_position.id if fiscal_position else False
        mappings = self.sudo().tax_mapping_ids.filtered(lambda m: m.tax_id.id == tax.id)
        specific = mappings.filtered(
            lambda m: position_id and m.fiscal_position_id.id == position_id
        )
        mapping = specific[:1] or mappings.filtered(lambda m: not m.fiscal_position_id)[:1]
        return self.env["exact.vat.code"].browse(mapping.vat_code_id.id)

    def _map_payment_term(self, term):
        self.ensure_one()
        mapping = (
            self.sudo().payment_term_mapping_ids.filtered(
                lambda m: m.payment_term_id.id == term.id
            )[:1]
            if term
            else self.env["exact.payment.term.mapping"]
        )
        condition = mapping.payment_condition_id or self.sudo().default_payment_condition_id
        return self.env["exact.payment.condition"].browse(condition.id)

    def _get_exact_client(self, on_call=None):
        self.ensure_one()
        return self.connection_id._get_exact_client(on_call=on_call)

    # ------------------------------------------------------------------ master data

    def action_refresh_master_data(self):
        """Read GL accounts, VAT codes, payment conditions and journals from Exact."""
        # the master data are written as superuser: only who may configure may ask
        self.check_access("write")
        counts = {}
        for division in self:
            try:
                counts[division.id] = division._refresh_master_data()
            except exact.ExactError as exc:
                raise UserError(
                    self.env._(
                        "Could not read the master data of %(division)s from Exact: %(error)s",
                        division=division.display_name,
                        error=exc.message,
                    )
                ) from None
        if len(self) == 1:
            created, updated, archived = counts[self.id]
            return self._notify(
                self.env._(
                    "Master data read from Exact: %(created)s new, %(updated)s changed, "
                    "%(archived)s archived.",
                    created=created,
                    updated=updated,
                    archived=archived,
                ),
                "success",
            )
        return True

    def _refresh_master_data(self, client=None):
        self.ensure_one()
        client = client or self._get_exact_client()
        totals = [0, 0, 0]
        for model_name in MASTER_DATA_MODELS:
            model = self.env[model_name].sudo()
            rows = client.get(
                self.division_code, model._exact_resource, select=list(model._exact_select)
            )
            for index, count in enumerate(model._exact_import(self, rows)):
                totals[index] += count
        self.sudo().master_data_date = fields.Datetime.now()
        return tuple(totals)

    @api.model
    def _cron_refresh_master_data(self):
        """Read the master data of every administration of a connected connection.

        One administration per transaction: its rows are committed before the next one
        starts, so a failure (Exact down, a revoked consent, anything unexpected) costs
        that administration only; the failure is logged and the others go on."""
        divisions = self.sudo().search([("connection_id.state", "=", "connected")])
        for done, division in enumerate(divisions, start=1):
            try:
                with self.env.cr.savepoint():
                    division.with_company(division.company_id)._refresh_master_data()
            except exact.ExactError as exc:
                _logger.info(
                    "Exact master data of division %s not refreshed: %s",
                    division.division_code,
                    exc.message,
                )
            except Exception:  # noqa: BLE001 - one administration must not stop the others
                _logger.exception(
                    "Exact master data of division %s not refreshed", division.division_code
                )
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(divisions) - done)
            if not odoo.modules.module.current_test:
                # each administration's master data is complete on its own: keep it even
                # if a later one fails hard (a test owns its transaction: no commit there)
                self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------ mappings

    def _notify(self, message, kind="info", sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Exact Online"),
                "message": message,
                "type": kind,
                "sticky": sticky,
                # the button's form reloads: it shows the new master data and mappings
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_suggest_mappings(self):
        """Fill the obvious mappings and list what could not be matched."""
        self.ensure_one()
        created, missing = self._suggest_mappings()
        message = self.env._("%(count)s mappings suggested.", count=created)
        if missing:
            message += " " + self.env._(
                "Not matched, map these by hand: %(items)s", items="; ".join(missing)
            )
        return self._notify(message, "warning" if missing else "success", sticky=bool(missing))

    def _suggest_mappings(self):
        """Create the mappings that equal codes, percentages and days make obvious.

        Returns (number created, list of descriptions of what could not be matched)."""
        self.ensure_one()
        created = 0
        missing = []
        company = self.company_id
        env = self.env

        # GL accounts: equal code, income accounts only.
        gl_by_code = {gl.code: gl for gl in self.gl_account_ids if gl.is_revenue and gl.active}
        mapped_accounts = self.account_mapping_ids.account_id
        accounts = env["account.account"].search(
            [
                *env["account.account"]._check_company_domain(company),
                ("account_type", "in", ("income", "income_other")),
            ]
        )
        for account in accounts - mapped_accounts:
            code = account.with_company(company).code
            gl = gl_by_code.get(code)
            if gl:
                env["exact.account.mapping"].create(
                    {"division_id": self.id, "account_id": account.id, "gl_account_id": gl.id}
                )
                created += 1
            else:
                missing.append(self.env._("account %(account)s", account=account.display_name))

        # Taxes: sale taxes with the same percentage.
        vat_codes = self.vat_code_ids.filtered(
            lambda v: v.is_sales and v.active and not v.is_blocked
        )
        mapped_taxes = self.tax_mapping_ids.filtered(lambda m: not m.fiscal_position_id).tax_id
        taxes = env["account.tax"].search(
            [
                *env["account.tax"]._check_company_domain(company),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
            ]
        )
        for tax in taxes - mapped_taxes:
            code = self._suggest_vat_code(tax, vat_codes)
            if code:
                env["exact.tax.mapping"].create(
                    {"division_id": self.id, "tax_id": tax.id, "vat_code_id": code.id}
                )
                created += 1
            else:
                missing.append(self.env._("tax %(tax)s", tax=tax.display_name))

        # Payment terms: equal number of days.
        conditions = self.payment_condition_ids.filtered("active")
        mapped_terms = self.payment_term_mapping_ids.payment_term_id
        terms = env["account.payment.term"].search(
            env["account.payment.term"]._check_company_domain(company)
        )
        for term in terms - mapped_terms:
            days = self._payment_term_days(term)
            condition = conditions.filtered(
                lambda c, d=days: (
                    d is not None and c.payment_days == d and not c.payment_end_of_months
                )
            )[:1]
            if condition:
                env["exact.payment.term.mapping"].create(
                    {
                        "division_id": self.id,
                        "payment_term_id": term.id,
                        "payment_condition_id": condition.id,
                    }
                )
                created += 1
            else:
                fallback = self.default_payment_condition_id
                missing.append(
                    self.env._(
                        "payment term %(term)s (uses the default %(default)s)",
                        term=term.display_name,
                        default=fallback.display_name or self.env._("none"),
                    )
                )
        return created, missing

    @api.model
    def _suggest_vat_code(self, tax, vat_codes):
        """The Exact VAT code for an Odoo sale tax: same percentage; among several (0 %
        has many), intra-EU taxes get a code with EU sales listing L/S, export taxes the
        export code, other taxes the plain one."""
        candidates = vat_codes.filtered(lambda v: abs(v.percentage * 100.0 - tax.amount) < 0.001)
        if len(candidates) <= 1:
            return candidates
        text = " ".join(filter(None, [tax.name, tax.description or "", tax.invoice_label or ""]))
        intra = candidates.filtered(lambda v: v.eu_sales_listing in ("L", "S"))
        export = (candidates - intra).filtered(lambda v: EXPORT_WORDS.search(v.name or ""))
        plain = candidates - intra - export
        if EXPORT_WORDS.search(text):
            return export[:1]
        if INTRA_EU_WORDS.search(text):
            services = intra.filtered(lambda v: v.eu_sales_listing == "S")
            if tax.tax_scope == "service" and services:
                return services[:1]
            goods = intra.filtered(lambda v: v.eu_sales_listing == "L")
            return (goods or intra)[:1]
        return (plain.filtered(lambda v: v.vat_type != "N") or plain)[:1]

    @api.model
    def _payment_term_days(self, term):
        """Days of a one-instalment term due a number of days after the invoice, else None."""
        lines = term.line_ids
        if len(lines) != 1 or lines.value != "percent" or lines.delay_type != "days_after":
            return None
        if term.early_discount:
            return None
        return lines.nb_days

    def action_check_mappings(self):
        self.ensure_one()
        wizard = self.env["exact.mapping.check.wizard"].create({"division_id": self.id})
        wizard._compute_lines()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Check Mappings"),
            "res_model": "exact.mapping.check.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def _moves_to_check(self):
        """Posted customer invoices and credit notes of this division, not yet in Exact."""
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("journal_id", "in", self._covered_journals().ids),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("invoice_date", ">=", self.export_from_date),
        ]
        if "exact_state" in self.env["account.move"]._fields:
            domain.append(("exact_state", "not in", ("exported", "skipped")))
        return self.env["account.move"].search(domain)

    def action_open_mappings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Account Mappings"),
            "res_model": "exact.account.mapping",
            "view_mode": "list,form",
            "domain": [("division_id", "=", self.id)],
            "context": {"default_division_id": self.id},
        }
