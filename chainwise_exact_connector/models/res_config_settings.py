from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    exact_connection_id = fields.Many2one("exact.connection", compute="_compute_exact_connection")
    exact_connection_state = fields.Selection(
        related="exact_connection_id.state", string="Exact Connection State"
    )
    exact_division_count = fields.Integer(
        "Exact Administrations", compute="_compute_exact_connection"
    )
    exact_daily_reserve = fields.Float(
        "Exact Daily Quota Reserve",
        config_parameter="chainwise_exact_connector.daily_reserve",
        default=0.10,
        help="Share of Exact's daily API quota (per administration) the export leaves "
        "unused, for people and other apps: when only this much is left, the export stops "
        "and resumes after Exact's daily reset.",
    )

    @api.constrains("exact_daily_reserve")
    def _check_exact_daily_reserve(self):
        for settings in self:
            if not 0.0 <= settings.exact_daily_reserve < 1.0:
                raise ValidationError(
                    self.env._(
                        "The Exact daily quota reserve must be 0 % or more, and below 100 %."
                    )
                )

    @api.depends("company_id")
    def _compute_exact_connection(self):
        for settings in self:
            connections = self.env["exact.connection"].search(
                [("company_id", "=", settings.company_id.id)]
            )
            settings.exact_connection_id = connections[:1]
            settings.exact_division_count = self.env["exact.division"].search_count(
                [("company_id", "=", settings.company_id.id)]
            )

    def action_open_exact_connections(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "chainwise_exact_connector.exact_connection_action"
        )

    def action_open_exact_divisions(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "chainwise_exact_connector.exact_division_action"
        )
