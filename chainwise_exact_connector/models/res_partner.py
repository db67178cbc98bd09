from odoo import api, fields, models

# Partner fields whose change makes the Exact account or contact out of date.
EXACT_PARTNER_FIELDS = {
    "name",
    "ref",
    "vat",
    "company_registry",
    "email",
    "phone",
    "mobile",
    "website",
    "street",
    "street2",
    "zip",
    "city",
    "country_id",
    "lang",
    "function",
    "parent_id",
    "type",
    "is_company",
    "property_payment_term_id",
    "active",
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    exact_link_ids = fields.One2many(
        "exact.partner.link", "partner_id", string="Exact Online", readonly=True
    )
    exact_log_ids = fields.One2many(
        "exact.sync.log",
        "res_id",
        string="Exact API calls",
        domain=[("res_model", "=", "res.partner")],
        readonly=True,
    )
    exact_link_count = fields.Integer(compute="_compute_exact_link_count")
    exact_has_error = fields.Boolean(
        "Exact Export Failed",
        compute="_compute_exact_link_count",
        help="Exact Online refused this customer (or one of its contacts) in an "
        "administration.",
    )

    @api.depends("exact_link_ids", "exact_link_ids.state")
    def _compute_exact_link_count(self):
        for partner in self:
            partner.exact_link_count = len(partner.exact_link_ids)
            partner.exact_has_error = "error" in partner.exact_link_ids.mapped("state")

    def write(self, vals):
        res = super().write(vals)
        if EXACT_PARTNER_FIELDS.intersection(vals):
            self._exact_mark_changed()
        return res

    def _exact_mark_changed(self):
        """The Exact accounts of these partners (or of their companies) need an update."""
        partners = self | self.commercial_partner_id
        links = (
            self.env["exact.partner.link"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("link_type", "=", "account"),
                    ("state", "=", "exported"),
                ]
            )
        )
        if links:
            links.write({"state": "pending"})
            cron = self.env.ref(
                "chainwise_exact_connector.ir_cron_exact_export", raise_if_not_found=False
            )
            if cron:
                cron.sudo()._trigger()

    def action_exact_send(self):
        """Open the Send to Exact wizard for these customers."""
        return self.env["exact.send.wizard"]._action_open(self)
