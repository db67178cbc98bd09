from odoo import api, fields, models

from . import exact_master_data_mixin  # noqa: F401 - defines the parent model first

GL_TYPE_REVENUE = 110


class ExactGlAccount(models.Model):
    _name = "exact.gl.account"
    _inherit = ["exact.master.data.mixin"]
    _description = "Exact Online GL Account"

    _exact_resource = "financial/GLAccounts"
    _exact_select = ("ID", "Code", "Description", "Type", "IsBlocked")

    gl_type = fields.Integer(
        "Type", readonly=True, help="Exact's account type: 110 revenue, 20 receivable, 24 VAT..."
    )
    is_revenue = fields.Boolean(
        "Revenue Account",
        compute="_compute_is_revenue",
        store=True,
        help="Only revenue accounts (type 110) can be used on sales invoice lines.",
    )
    is_blocked = fields.Boolean("Blocked in Exact", readonly=True)

    @api.depends("gl_type")
    def _compute_is_revenue(self):
        for account in self:
            account.is_revenue = account.gl_type == GL_TYPE_REVENUE

    @api.model
    def _exact_values(self, row):
        values = super()._exact_values(row)
        values.update(gl_type=int(row.get("Type") or 0), is_blocked=bool(row.get("IsBlocked")))
        return values
