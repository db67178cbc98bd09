from odoo import api, fields, models

from . import exact_master_data_mixin  # noqa: F401 - defines the parent model first

JOURNAL_TYPE_SALES = 20


class ExactJournal(models.Model):
    _name = "exact.journal"
    _inherit = ["exact.master.data.mixin"]
    _description = "Exact Online Journal"

    _exact_resource = "financial/Journals"
    _exact_select = ("ID", "Code", "Description", "Type", "IsBlocked")

    journal_type = fields.Integer(
        "Type", readonly=True, help="Exact's journal type: 20 sales, 22 purchase, 12 bank..."
    )
    is_sales = fields.Boolean(compute="_compute_is_sales", store=True)

    @api.depends("journal_type")
    def _compute_is_sales(self):
        for journal in self:
            journal.is_sales = journal.journal_type == JOURNAL_TYPE_SALES

    @api.model
    def _exact_values(self, row):
        values = super()._exact_values(row)
        values.update(journal_type=int(row.get("Type") or 0))
        return values
