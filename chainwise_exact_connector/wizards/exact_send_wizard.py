from odoo import api, fields, models
from odoo.exceptions import UserError


class ExactSendWizard(models.TransientModel):
    """Send to Exact: what pre-flight finds per record, then send now or queue."""

    _name = "exact.send.wizard"
    _description = "Send to Exact Online"

    res_model = fields.Selection(
        [("account.move", "Invoices"), ("res.partner", "Customers")], required=True
    )
    move_ids = fields.Many2many("account.move", string="Invoices")
    partner_ids = fields.Many2many("res.partner", string="Customers")
    record_count = fields.Integer(compute="_compute_summary")
    ready_count = fields.Integer(compute="_compute_summary")
    problem_count = fields.Integer(compute="_compute_summary")
    line_ids = fields.One2many("exact.send.wizard.line", "wizard_id", string="Pre-flight")

    @api.depends("line_ids.ok")
    def _compute_summary(self):
        for wizard in self:
            wizard.record_count = len(wizard.line_ids)
            wizard.ready_count = len(wizard.line_ids.filtered("ok"))
            wizard.problem_count = wizard.record_count - wizard.ready_count

    @api.model
    def _action_open(self, records):
        if not self.env.user.has_group("chainwise_exact_connector.group_exact_user"):
            raise UserError(self.env._("You may not send records to Exact Online."))
        if not records:
            raise UserError(self.env._("Select at least one record to send."))
        vals = {"res_model": records._name}
        if records._name == "account.move":
            records = records.filtered(
                lambda m: (
                    m.move_type in ("out_invoice", "out_refund")
                    and (m.state == "posted" or (m.state == "cancel" and m.name and m.name != "/"))
                )
            )
            if not records:
                raise UserError(
                    self.env._("Only posted customer invoices and credit notes go to Exact.")
                )
            vals["move_ids"] = [fields.Command.set(records.ids)]
        else:
            vals["partner_ids"] = [fields.Command.set(records.commercial_partner_id.ids)]
        wizard = self.create(vals)
        wizard._preflight()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send to Exact"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def _partner_divisions(self, partner):
        domain = [("company_id", "in", self.env.companies.ids)]
        if partner.company_id:
            domain = [("company_id", "=", partner.company_id.id)]
        return self.env["exact.division"].search(domain)

    def _preflight(self):
        self.ensure_one()
        exporter = self.env["exact.exporter"]
        lines = []
        if self.res_model == "account.move":
            for move in self.move_ids:
                ok, message, hint = exporter._move_preflight(move)
                lines.append(
                    {
                        "res_model": "account.move",
                        "res_id": move.id,
                        "name": move.display_name,
                        "ok": ok,
                        "message": message,
                        "hint": hint,
                    }
                )
        else:
            for partner in self.partner_ids:
                divisions = self._partner_divisions(partner)
                if not divisions:
                    ok, message = (
                        False,
                        self.env._("No active Exact administration for this company."),
                    )
                elif not (partner.name or "").strip():
                    ok, message = False, self.env._("The customer has no name.")
                else:
                    ok, message = (
                        True,
                        self.env._(
                            "Ready for %(divisions)s",
                            divisions=", ".join(divisions.mapped("display_name")),
                        ),
                    )
                lines.append(
                    {
                        "res_model": "res.partner",
                        "res_id": partner.id,
                        "name": partner.display_name,
                        "ok": ok,
                        "message": message,
                    }
                )
        self.line_ids = [fields.Command.clear()] + [fields.Command.create(v) for v in lines]

    def _queue_moves(self):
        moves = self.move_ids.filtered(lambda m: m.exact_state not in ("sending", "exported"))
        for move in moves:
            division = move._exact_covering_division() or self.env[
                "exact.division"
            ].sudo()._for_move(move)
            move.write(
                {
                    "exact_state": "pending",
                    "exact_division_id": division.id,
                    "exact_error": False,
                    "exact_error_hint": False,
                }
            )
        return self.move_ids.filtered(lambda m: m.exact_state in ("pending", "sending"))

    def action_queue(self):
        """Leave the work to the scheduled export."""
        self.ensure_one()
        if self.res_model == "account.move":
            count = len(self._queue_moves())
        else:
            links = self.env["exact.partner.link"]
            for partner in self.partner_ids:
                for division in self._partner_divisions(partner):
                    link = self.env["exact.exporter"]._partner_link(partner, division, "account")
                    if link.state != "pending":
                        link.write({"state": "pending"})
                    links |= link
            count = len(links.partner_id)
        self.env.ref("chainwise_exact_connector.ir_cron_exact_export").sudo()._trigger()
        return self._notify(
            self.env._(
                "%(count)s record(s) queued for the scheduled export to Exact.", count=count
            ),
            "info",
        )

    def action_send_now(self):
        """Send at once and report the outcome."""
        self.ensure_one()
        exporter = self.env["exact.exporter"]
        if self.res_model == "account.move":
            moves = self._queue_moves()
            counts = exporter._export_moves(moves)
            moves.invalidate_recordset()
            exported = len(moves.filtered(lambda m: m.exact_state == "exported"))
            errors = len(self.move_ids.filtered(lambda m: m.exact_state == "error"))
            skipped = len(moves.filtered(lambda m: m.exact_state == "skipped"))
            waiting = len(moves.filtered(lambda m: m.exact_state in ("pending", "sending")))
            message = self.env._(
                "Exact: %(exported)s exported, %(errors)s with errors, %(skipped)s skipped, "
                "%(waiting)s still waiting.",
                exported=exported,
                errors=errors,
                skipped=skipped,
                waiting=waiting,
            )
        else:
            exported = errors = waiting = 0
            notes = []
            for partner in self.partner_ids:
                for division in self._partner_divisions(partner):
                    counts = exporter._export_partners(partner, division)
                    exported += counts.get("exported", 0)
                    errors += counts.get("error", 0)
                    waiting += counts.get("pending", 0) + counts.get("busy", 0)
                    if counts.get("_message"):
                        notes.append(counts["_message"])
            counts = {"_message": "\n".join(notes)}
            message = self.env._(
                "Exact: %(exported)s customer(s) exported, %(errors)s with errors, "
                "%(waiting)s still waiting.",
                exported=exported,
                errors=errors,
                waiting=waiting,
            )
        if counts.get("_message"):
            message = f"{message}\n{counts['_message']}"
        return self._notify(message, "danger" if errors else ("success" if exported else "warning"))

    def _notify(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Send to Exact"),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class ExactSendWizardLine(models.TransientModel):
    _name = "exact.send.wizard.line"
    _description = "Send to Exact Online: pre-flight of one record"

    wizard_id = fields.Many2one("exact.send.wizard", required=True, ondelete="cascade")
    res_model = fields.Char()
    res_id = fields.Integer()
    name = fields.Char(string="Record")
    ok = fields.Boolean(string="Ready")
    message = fields.Char(string="Pre-flight")
    hint = fields.Char(string="What to do")
