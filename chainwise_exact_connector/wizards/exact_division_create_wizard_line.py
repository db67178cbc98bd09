from odoo import api, fields, models


class ExactDivisionCreateWizardLine(models.TransientModel):
    _name = "exact.division.create.wizard.line"
    _description = "Exact Online Administration to Add"
    _order = "division_code"

    wizard_id = fields.Many2one("exact.division.create.wizard", required=True, ondelete="cascade")
    selected = fields.Boolean("Add")
    division_code = fields.Integer("Division", readonly=True)
    division_name = fields.Char("Name", readonly=True)
    already_added = fields.Boolean(readonly=True)
    journal_ids = fields.Many2many(
        "account.journal",
        "exact_division_create_wizard_line_journal_rel",
        "line_id",
        "journal_id",
        "Odoo Sales Journals",
        domain="[('type', '=', 'sale')]",
        help="Empty: every sales journal of the company that no other administration takes.",
    )

    @api.depends("division_code", "division_name")
    def _compute_display_name(self):
        for line in self:
            line.display_name = f"{line.division_code} - {line.division_name or ''}"
