from odoo import fields, models
from odoo.exceptions import UserError

EXACT_STATES = [
    ("pending", "To send"),
    ("sending", "Sending"),
    ("exported", "In Exact"),
    ("error", "Error"),
    ("skipped", "Skipped"),
]


class AccountMove(models.Model):
    _inherit = "account.move"

    exact_division_id = fields.Many2one(
        "exact.division",
        string="Exact administration",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )
    exact_state = fields.Selection(
        EXACT_STATES,
        string="Exact status",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Where the invoice stands in Exact Online. To send: the scheduled export takes it "
        "(or use Send to Exact). Sending: it may have reached Exact; the next attempt checks "
        "Exact before sending again. Error: someone must fix what the message says, then "
        "Retry. Skipped: the administration's policy does not export it.",
    )
    exact_entry_id = fields.Char(
        string="Exact entry ID",
        copy=False,
        readonly=True,
        help="The GUID chosen for the Exact sales entry before it is first sent.",
    )
    exact_entry_number = fields.Char(
        string="Exact entry number", copy=False, readonly=True, index="btree_not_null"
    )
    exact_error = fields.Text(string="Exact error", copy=False, readonly=True)
    exact_error_hint = fields.Text(string="What to do", copy=False, readonly=True)
    exact_last_attempt = fields.Datetime(string="Last Exact attempt", copy=False, readonly=True)
    exact_document_guid = fields.Char(string="Exact document ID", copy=False, readonly=True)
    exact_pdf_state = fields.Selection(
        [("pending", "To send"), ("done", "Attached"), ("error", "Error")],
        string="Exact PDF",
        copy=False,
        readonly=True,
    )
    exact_pdf_error = fields.Text(string="Exact PDF error", copy=False, readonly=True)
    exact_log_ids = fields.One2many(
        "exact.sync.log",
        "res_id",
        string="Exact API calls",
        domain=[("res_model", "=", "account.move")],
        readonly=True,
    )

    # ------------------------------------------------------------------ writing

    def write(self, vals):
        """A write of export bookkeeping alone (``exact_*`` fields: state, EntryID,
        errors...) changes no accounting data: it skips account.move's line
        synchronisation and balance check, which cost more than the export itself, and
        does not flag the invoice as manually modified."""
        if vals and all(name.startswith("exact_") for name in vals):
            return super(
                AccountMove,
                self.with_context(
                    skip_invoice_sync=True,
                    check_move_validity=False,
                    skip_is_manually_modified=True,
                ),
            ).write(vals)
        return super().write(vals)

    # ------------------------------------------------------------------ marking

    def _exact_covering_division(self):
        """The administration that exports this invoice, if it is one to export."""
        self.ensure_one()
        if self.move_type not in ("out_invoice", "out_refund"):
            return self.env["exact.division"]
        division = self.env["exact.division"].sudo()._for_move(self)
        if not division:
            return division
        date = self.invoice_date or self.date
        if division.export_from_date and date and date < division.export_from_date:
            return self.env["exact.division"]
        return division

    def _exact_mark_pending(self):
        """Mark the invoices covered by an administration ``pending`` and wake the cron.

        No API call here: the export happens in the cron (or Send now), after commit.
        """
        marked = self.env["account.move"]
        for move in self:
            if move.exact_state in ("sending", "exported"):
                continue
            division = move._exact_covering_division()
            if not division:
                continue
            move.write(
                {
                    "exact_state": "pending",
                    "exact_division_id": division.id,
                    "exact_error": False,
                    "exact_error_hint": False,
                }
            )
            marked |= move
        if marked:
            cron = self.env.ref(
                "chainwise_exact_connector.ir_cron_exact_export", raise_if_not_found=False
            )
            if cron:
                cron.sudo()._trigger()
        return marked

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.is_sale_document(include_receipts=False))._exact_mark_pending()
        return posted

    def _exact_check_unchanged(self):
        in_exact = self.filtered(lambda m: m.exact_state in ("sending", "exported"))
        if in_exact:
            raise UserError(
                self.env._(
                    "%(names)s is already in Exact Online and cannot be changed or cancelled "
                    "here any more: issue a credit note instead.",
                    names=", ".join(in_exact.mapped("display_name")),
                )
            )

    def button_draft(self):
        self._exact_check_unchanged()
        res = super().button_draft()
        self.filtered(lambda m: m.exact_state).write(
            {
                "exact_state": False,
                "exact_entry_id": False,
                "exact_error": False,
                "exact_error_hint": False,
            }
        )
        return res

    def button_cancel(self):
        self._exact_check_unchanged()
        res = super().button_cancel()
        # An invoice that got a number and is then cancelled keeps its number in Odoo;
        # Exact gets a null entry for it, so its number series stays as complete.
        cancelled = self.filtered(
            lambda m: (
                m.state == "cancel"
                and m.name
                and m.name != "/"
                and m.is_sale_document(include_receipts=False)
            )
        )
        cancelled._exact_mark_pending()
        return res

    # ------------------------------------------------------------------ actions

    def action_exact_send(self):
        """Open the Send to Exact wizard for these invoices."""
        return self.env["exact.send.wizard"]._action_open(self)

    def action_exact_retry(self):
        """Send again after an error was fixed (or a skipped invoice after a policy change)."""
        todo = self.filtered(lambda m: m.exact_state in ("error", "skipped"))
        for move in todo:
            move.write(
                {
                    "exact_state": "pending",
                    "exact_division_id": move._exact_covering_division().id
                    or move.exact_division_id.id,
                    "exact_error": False,
                    "exact_error_hint": False,
                }
            )
        if todo:
            self.env.ref("chainwise_exact_connector.ir_cron_exact_export").sudo()._trigger()
        return True

    def action_exact_retry_pdf(self):
        self.filtered(lambda m: m.exact_pdf_state == "error").write({"exact_pdf_state": "pending"})
        self.env.ref("chainwise_exact_connector.ir_cron_exact_export").sudo()._trigger()
        return True

    def action_exact_send_again(self):
        """Managers only: forget the Exact entry and send the invoice once more.

        Exact may then hold it twice (the view asks for confirmation).
        """
        if not self.env.user.has_group("chainwise_exact_connector.group_exact_manager"):
            raise UserError(self.env._("Only an Exact Online manager may send an invoice again."))
        for move in self.filtered(lambda m: m.exact_state):
            old = move.exact_entry_number or move.exact_entry_id or ""
            move.write(
                {
                    "exact_state": "pending",
                    "exact_entry_id": False,
                    "exact_entry_number": False,
                    "exact_document_guid": False,
                    "exact_pdf_state": False,
                    "exact_pdf_error": False,
                    "exact_error": False,
                    "exact_error_hint": False,
                }
            )
            move.sudo().message_post(
                body=self.env._(
                    "Will be sent to Exact Online again (previous entry: %(old)s). Exact may "
                    "now hold this invoice twice.",
                    old=old or "-",
                )
            )
        self.env.ref("chainwise_exact_connector.ir_cron_exact_export").sudo()._trigger()
        return True
