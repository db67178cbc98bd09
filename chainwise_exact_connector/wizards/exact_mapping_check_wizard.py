from odoo import api, fields, models


class ExactMappingCheckWizard(models.TransientModel):
    """What the posted, not yet exported invoices of an administration need and is not
    mapped yet: accounts, taxes (with fiscal position) and payment terms."""

    _name = "exact.mapping.check.wizard"
    _description = "Check Exact Online Mappings"

    division_id = fields.Many2one("exact.division", required=True, ondelete="cascade")
    move_count = fields.Integer("Invoices Checked", readonly=True)
    line_ids = fields.One2many("exact.mapping.check.wizard.line", "wizard_id", "Missing")
    is_complete = fields.Boolean(compute="_compute_is_complete")

    @api.depends("line_ids")
    def _compute_is_complete(self):
        for wizard in self:
            wizard.is_complete = not wizard.line_ids

    def _compute_lines(self):
        """Fill the lines (not a compute field: called once on creation)."""
        self.ensure_one()
        division = self.division_id
        moves = division._moves_to_check()
        missing = {}

        def add(key, values, move):
            line = missing.setdefault(key, dict(values, move_ids=set()))
            line["move_ids"].add(move.id)

        for move in moves:
            for line in move.invoice_line_ids.filtered(lambda aml: aml.display_type == "product"):
                if line.account_id and not division._map_account(line.account_id):
                    add(
                        ("account", line.account_id.id),
                        {"kind": "account", "account_id": line.account_id.id},
                        move,
                    )
                for tax in line.tax_ids:
                    if not division._map_tax(tax, move.fiscal_position_id):
                        position = move.fiscal_position_id
                        add(
                            ("tax", tax.id, position.id),
                            {"kind": "tax", "tax_id": tax.id, "fiscal_position_id": position.id},
                            move,
                        )
            term = move.invoice_payment_term_id
            if term and term not in division.sudo().payment_term_mapping_ids.payment_term_id:
                add(("term", term.id), {"kind": "payment_term", "payment_term_id": term.id}, move)
        self.write(
            {
                "move_count": len(moves),
                "line_ids": [fields.Command.clear()]
                + [
                    fields.Command.create(
                        dict(values, move_ids=[fields.Command.set(sorted(values["move_ids"]))])
                    )
                    for values in missing.values()
                ],
            }
        )

    def action_recheck(self):
        self._compute_lines()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Check Mappings"),
        }
