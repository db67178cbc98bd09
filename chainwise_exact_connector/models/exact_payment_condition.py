from odoo import api, fields, models

from . import exact_master_data_mixin  # noqa: F401 - defines the parent model first


class ExactPaymentCondition(models.Model):
    _name = "exact.payment.condition"
    _inherit = ["exact.master.data.mixin"]
    _description = "Exact Online Payment Condition"

    _exact_resource = "cashflow/PaymentConditions"
    _exact_select = ("ID", "Code", "Description", "PaymentDays", "PaymentEndOfMonths")

    payment_days = fields.Integer("Days", readonly=True)
    payment_end_of_months = fields.Integer("End of Months", readonly=True)

    @api.model
    def _exact_values(self, row):
        values = super()._exact_values(row)
        values.update(
            payment_days=int(row.get("PaymentDays") or 0),
            payment_end_of_months=int(row.get("PaymentEndOfMonths") or 0),
        )
        return values
