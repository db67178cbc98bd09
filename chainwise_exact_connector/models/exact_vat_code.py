from odoo import api, fields, models

from .. import exact
from . import exact_master_data_mixin  # noqa: F401 - defines the parent model first


class ExactVatCode(models.Model):
    _name = "exact.vat.code"
    _inherit = ["exact.master.data.mixin"]
    _description = "Exact Online VAT Code"

    _exact_resource = "vat/VATCodes"
    _exact_select = (
        "ID",
        "Code",
        "Description",
        "Percentage",
        "Type",
        "VATTransactionType",
        "EUSalesListing",
        "IsBlocked",
    )

    percentage = fields.Float(
        readonly=True, digits=(16, 6), help="A fraction, as Exact gives it: 0.21 for 21 %."
    )
    vat_type = fields.Selection(
        [
            ("B", "Excluding (reverse)"),
            ("E", "Excluding"),
            ("I", "Including"),
            ("N", "No VAT"),
        ],
        "VAT Type",
        readonly=True,
    )
    transaction_type = fields.Selection(
        [("S", "Sales"), ("P", "Purchase"), ("B", "Both")], readonly=True
    )
    eu_sales_listing = fields.Selection(
        [("L", "Goods"), ("S", "Services"), ("T", "Triangulation"), ("N", "None")],
        "EU Sales Listing",
        readonly=True,
        help="Intra-EU listing (ICP) flag of the VAT code.",
    )
    is_blocked = fields.Boolean("Blocked in Exact", readonly=True)
    is_sales = fields.Boolean(
        compute="_compute_is_sales",
        store=True,
        help="Usable on sales: transaction type Sales or Both.",
    )

    @api.depends("transaction_type")
    def _compute_is_sales(self):
        for code in self:
            code.is_sales = code.transaction_type in ("S", "B")

    @api.model
    def _exact_values(self, row):
        values = super()._exact_values(row)
        percentage = float(row.get("Percentage") or 0.0)
        if percentage > 1.0:  # some Exact sites report 21 instead of 0.21
            percentage /= 100.0

        def pick(field, key):
            value = exact.trim_code(row.get(key) or "") or False
            allowed = dict(self._fields[field]._description_selection(self.env))
            return value if value in allowed else False

        values.update(
            code=exact.trim_code(row.get("Code") or ""),
            percentage=percentage,
            vat_type=pick("vat_type", "Type"),
            transaction_type=pick("transaction_type", "VATTransactionType"),
            eu_sales_listing=pick("eu_sales_listing", "EUSalesListing"),
            is_blocked=bool(row.get("IsBlocked")),
        )
        return values
