from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ExactAccountMapping(models.Model):
    """Odoo income account -> Exact revenue GL account, per administration."""

    _name = "exact.account.mapping"
    _description = "Exact Online Account Mapping"
    _check_company_auto = True
    _order = "division_id, account_id"

    division_id = fields.Many2one(
        "exact.division", "Administration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="division_id.company_id", store=True, index=True, string="Company"
    )
    account_id = fields.Many2one(
        "account.account", "Odoo Account", required=True, ondelete="cascade", check_company=True
    )
    gl_account_id = fields.Many2one(
        "exact.gl.account",
        "Exact GL Account",
        required=True,
        ondelete="cascade",
        domain="[('division_id', '=', division_id), ('gl_type', '=', 110)]",
    )

    _sql_constraints = [
        (
            "division_account_unique",
            "UNIQUE(division_id, account_id)",
            "This Odoo account is already mapped for this administration.",
        ),
    ]

    @api.depends("account_id", "gl_account_id")
    def _compute_display_name(self):
        for mapping in self:
            account = mapping.account_id.display_name or ""
            mapping.display_name = f"{account} → {mapping.gl_account_id.display_name or ''}"

    @api.constrains("gl_account_id", "division_id")
    def _check_gl_account(self):
        for mapping in self:
            gl = mapping.gl_account_id
            if gl.division_id != mapping.division_id:
                raise ValidationError(
                    self.env._(
                        "GL account %(account)s belongs to another administration.",
                        account=gl.display_name,
                    )
                )
            if gl.gl_type != 110:
                raise ValidationError(
                    self.env._(
                        "Exact GL account %(account)s is not a revenue account (type 110); "
                        "Exact refuses it on sales invoice lines.",
                        account=gl.display_name,
                    )
                )
