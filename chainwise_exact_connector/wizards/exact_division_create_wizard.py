from odoo import fields, models
from odoo.exceptions import UserError

from .. import exact


class ExactDivisionCreateWizard(models.TransientModel):
    """Pick the administrations to use from the divisions Exact reports."""

    _name = "exact.division.create.wizard"
    _description = "Add Exact Online Administrations"

    connection_id = fields.Many2one("exact.connection", required=True, ondelete="cascade")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    line_ids = fields.One2many(
        "exact.division.create.wizard.line", "wizard_id", "Administrations in Exact"
    )

    def _load_divisions(self):
        """Fill the lines from Exact's ``system/Divisions``."""
        self.ensure_one()
        connection = self.connection_id
        try:
            client = connection._get_exact_client()
            current = client.me().get("CurrentDivision")
            rows = client.divisions(current) if current else []
        except exact.ExactError as exc:
            raise UserError(
                self.env._("Exact did not list its administrations: %(error)s", error=exc.message)
            ) from None
        known = set(
            self.env["exact.division"]
            .with_context(active_test=False)
            .search(
                [("connection_id", "=", connection.id), ("company_id", "=", self.company_id.id)]
            )
            .mapped("division_code")
        )
        self.line_ids = [
            fields.Command.create(
                {
                    "division_code": int(row["Code"]),
                    "division_name": row.get("Description") or "",
                    "already_added": int(row["Code"]) in known,
                }
            )
            for row in rows
            if row.get("Code")
        ]

    def action_create(self):
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.selected and not line.already_added)
        if not lines:
            raise UserError(self.env._("Select at least one administration that is not added yet."))
        divisions = self.env["exact.division"].create(
            [
                {
                    "connection_id": self.connection_id.id,
                    "company_id": self.company_id.id,
                    "division_code": line.division_code,
                    "division_name": line.division_name,
                    "journal_ids": [fields.Command.set(line.journal_ids.ids)],
                }
                for line in lines
            ]
        )
        for division in divisions:
            try:
                division._refresh_master_data()
            except exact.ExactError as exc:
                division.message_post(
                    body=self.env._(
                        "Master data could not be read yet: %(error)s", error=exc.message
                    )
                )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "chainwise_exact_connector.exact_division_action"
        )
        if len(divisions) == 1:
            action.update({"res_id": divisions.id, "view_mode": "form", "views": [(False, "form")]})
        else:
            action["domain"] = [("id", "in", divisions.ids)]
        return action
