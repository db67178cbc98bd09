from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ExactPaymentTermMapping(models.Model):
    """Odoo payment term -> Exact payment condition (unmapped terms use the
    administration's default condition)."""

    _name = "exact.payment.term.mapping"
    _description = "Exact Online Payment Term Mapping"
    _check_company_auto = True
    _order = "division_id, payment_term_id"

    division_id = fields.Many2one(
        "exact.division", "Administration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="division_id.company_id", store=True, index=True, string="Company"
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        "Odoo Payment Term",
        required=True,
        ondelete="cascade",
        check_company=True,
    )
    payment_condition_id = fields.Many2one(
        "exact.payment.condition",
        "Exact Payment Condition",
        required=True,
        ondelete="cascade",
        domain="[('division_id', '=', division_id)]",
    )

    _sql_constraints = [
        (
            "division_term_unique",
            "UNIQUE(division_id, payment_term_id)",
            "This payment term is already mapped for this administration.",
        ),
    ]

    @api.depends("payment_term_id", "payment_condition_id")
    def _compute_display_name(self):
        for mapping in self:
            mapping.display_name = (
                f"{mapping.payment_term_id.display_name or ''} → "
                f"{mapping.payment_condition_id.display_name or ''}"
            )

    @api.constrains("payment_condition_id", "division_id")
    def _check_payment_condition(self):
        for mapping in self:
            if mapping.payment_condition_id.division_id != mapping.division_id:
                raise ValidationError(
                    self.env._(
                        "Payment condition %(condition)s belongs to another administration.",
                        condition=mapping.payment_condition_id.display_name,
                    )
                )
