from odoo import api, fields, models


class ExactMappingCheckWizardLine(models.TransientModel):
    _name = "exact.mapping.check.wizard.line"
    _description = "Missing Exact Online Mapping"

    wizard_id = fields.Many2one("exact.mapping.check.wizard", required=True, ondelete="cascade")
    kind = fields.Selection(
        [("account", "Account"), ("tax", "Tax"), ("payment_term", "Payment Term")],
        required=True,
        readonly=True,
    )
    account_id = fields.Many2one("account.account", readonly=True)
    tax_id = fields.Many2one("account.tax", readonly=True)
    fiscal_position_id = fields.Many2one("account.fiscal.position", readonly=True)
    payment_term_id = fields.Many2one("account.payment.term", readonly=True)
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    move_count = fields.Integer("Number of Invoices", compute="_compute_move_count")
    description = fields.Char(compute="_compute_description")

    @api.depends("move_ids")
    def _compute_move_count(self):
        for line in self:
            line.move_count = len(line.move_ids)

    @api.depends("kind", "account_id", "tax_id", "fiscal_position_id", "payment_term_id")
    def _compute_description(self):
        for line in self:
            if line.kind == "account":
                line.description = line.account_id.display_name
            elif line.kind == "tax":
                line.description = line.tax_id.display_name
                if line.fiscal_position_id:
                    line.description += f" ({line.fiscal_position_id.display_name})"
            else:
                line.description = line.payment_term_id.display_name

    def action_open_mapping_form(self):
        """The mapping form, filled in with what is missing, to pick the Exact side."""
        self.ensure_one()
        division = self.wizard_id.division_id
        model, context = {
            "account": ("exact.account.mapping", {"default_account_id": self.account_id.id}),
            "tax": (
                "exact.tax.mapping",
                {
                    "default_tax_id": self.tax_id.id,
                    "default_fiscal_position_id": self.fiscal_position_id.id,
                },
            ),
            "payment_term": (
                "exact.payment.term.mapping",
                {"default_payment_term_id": self.payment_term_id.id},
            ),
        }[self.kind]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map %(item)s", item=self.description),
            "res_model": model,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": dict(context, default_division_id=division.id),
        }
