from datetime import timedelta

from odoo import api, fields, models


class ExactSyncLog(models.Model):
    """One API call to Exact that changed something or failed (bodies without secrets)."""

    _name = "exact.sync.log"
    _description = "Exact Online API call"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    division_id = fields.Many2one(
        "exact.division", ondelete="cascade", index=True, string="Administration"
    )
    company_id = fields.Many2one(
        "res.company", related="division_id.company_id", store=True, string="Company"
    )
    res_model = fields.Char(string="Model", index=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", index=True)
    record_name = fields.Char(string="Record")
    method = fields.Char()
    endpoint = fields.Char()
    status_code = fields.Integer(string="HTTP status")
    duration_ms = fields.Integer(string="Duration (ms)")
    message = fields.Text()
    request_body = fields.Text(string="Request (secrets removed)")
    response_text = fields.Text(string="Response")
    success = fields.Boolean()

    @api.model
    def _cron_prune(self, days=90):
        """Remove log rows older than ``days`` days."""
        limit = fields.Datetime.now() - timedelta(days=days)
        self.sudo().search([("create_date", "<", limit)]).unlink()

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
