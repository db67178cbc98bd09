from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ExactTaxMapping(models.Model):
    """Odoo sale tax (optionally only under a fiscal position) -> Exact VAT code.

    Odoo's fiscal positions replace the domestic tax by an intra-EU or export tax, so
    mapping those taxes covers intra-EU and export invoices; a mapping restricted to a
    fiscal position wins over the general one for invoices with that position."""

    _name = "exact.tax.mapping"
    _description = "Exact Online Tax Mapping"
    _check_company_auto = True
    _order = "division_id, tax_id, fiscal_position_id"

    division_id = fields.Many2one(
        "exact.division", "Administration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="division_id.company_id", store=True, index=True, string="Company"
    )
    tax_id = fields.Many2one(
        "account.tax",
        "Odoo Tax",
        required=True,
        ondelete="cascade",
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        "Only for Fiscal Position",
        ondelete="cascade",
        check_company=True,
        help="Leave empty for every invoice with this tax.",
    )
    vat_code_id = fields.Many2one(
        "exact.vat.code",
        "Exact VAT Code",
        required=True,
        ondelete="cascade",
        domain="[('division_id', '=', division_id), ('transaction_type', 'in', ('S', 'B'))]",
    )

    _sql_constraints = [
        (
            "division_tax_position_unique",
            "UNIQUE NULLS NOT DISTINCT(division_id, tax_id, fiscal_position_id)",
            "This tax (with this fiscal position) is already mapped for this administration.",
        ),
    ]

    @api.depends("tax_id", "fiscal_position_id", "vat_code_id")
    def _compute_display_name(self):
        for mapping in self:
            tax = mapping.tax_id.display_name or ""
            if mapping.fiscal_position_id:
                tax = f"{tax} ({mapping.fiscal_position_id.display_name})"
            mapping.display_name = f"{tax} → {mapping.vat_code_id.display_name or ''}"

    @api.constrains("vat_code_id", "division_id")
    def _check_vat_code(self):
        for mapping in self:
            code = mapping.vat_code_id
            if code.division_id != mapping.division_id:
                raise ValidationError(
                    self.env._(
                        "VAT code %(code)s belongs to another administration.",
                        code=code.display_name,
                    )
                )
            if code.transaction_type not in ("S", "B"):
                raise ValidationError(
                    self.env._(
                        "Exact VAT code %(code)s is not a sales VAT code (transaction type "
                        "Sales or Both).",
                        code=code.display_name,
                    )
                )
