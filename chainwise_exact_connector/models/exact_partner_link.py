from odoo import api, fields, models


class ExactPartnerLink(models.Model):
    """Where one Odoo partner lives in one Exact administration.

    A customer (commercial partner) becomes an Exact Account (``link_type`` account), a
    contact person under it an Exact Contact (``link_type`` contact). ``exported_values``
    keeps the payload last sent, so an update PUTs only what changed.
    """

    _name = "exact.partner.link"
    _description = "Exact Online partner link"
    _order = "division_id, link_type, id"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    division_id = fields.Many2one(
        "exact.division",
        required=True,
        ondelete="cascade",
        index=True,
        string="Administration",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company", related="division_id.company_id", store=True, string="Company"
    )
    link_type = fields.Selection(
        [("account", "Account"), ("contact", "Contact")],
        required=True,
        default="account",
        string="Type",
    )
    exact_guid = fields.Char(string="Exact ID", copy=False, index=True)
    exact_code = fields.Char(string="Exact code", copy=False)
    state = fields.Selection(
        [("pending", "To send"), ("exported", "In Exact"), ("error", "Error")],
        default="pending",
        required=True,
        string="Status",
        copy=False,
    )
    last_error = fields.Text(copy=False)
    last_export = fields.Datetime(copy=False)
    exported_values = fields.Json(copy=False)

    _sql_constraints = [
        (
            "partner_division_type_uniq",
            "unique(partner_id, division_id, link_type)",
            "A partner is linked once per Exact administration.",
        )
    ]

    @api.depends("partner_id", "division_id", "exact_code")
    def _compute_display_name(self):
        for link in self:
            code = f" [{link.exact_code}]" if link.exact_code else ""
            link.display_name = f"{link.partner_id.display_name}{code}"
