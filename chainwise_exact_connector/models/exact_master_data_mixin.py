from odoo import api, fields, models


class ExactMasterDataMixin(models.AbstractModel):
    """What the four kinds of Exact master data share: one record per Exact GUID and
    administration, read through the API, archived when Exact no longer has it."""

    _name = "exact.master.data.mixin"
    _description = "Exact Online Master Data"
    _order = "division_id, code, id"

    # What the division's refresh reads: resource path, $select, and the conversion of
    # one Exact record into field values (see _exact_values).
    _exact_resource = None
    _exact_select = ()

    division_id = fields.Many2one(
        "exact.division", "Administration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="division_id.company_id", store=True, index=True, string="Company"
    )
    exact_id = fields.Char("Exact ID", required=True, readonly=True, copy=False)
    code = fields.Char(required=True, readonly=True)
    name = fields.Char("Description", readonly=True)
    active = fields.Boolean(default=True, readonly=True)

    _sql_constraints = [
        (
            "exact_id_division_unique",
            "UNIQUE(division_id, exact_id)",
            "This Exact record is already known for this administration.",
        ),
    ]

    @api.depends("code", "name")
    def _compute_display_name(self):
        for record in self:
            record.display_name = " - ".join(part for part in (record.code, record.name) if part)

    @api.model
    def _exact_values(self, row):
        """Field values from one record of Exact's answer (override per model)."""
        return {
            "exact_id": row["ID"],
            "code": (row.get("Code") or "").strip(),
            "name": row.get("Description") or "",
        }

    @api.model
    def _exact_import(self, division, rows):
        """Create or update the records of ``division`` from Exact's rows (by Exact ID)
        and archive those Exact no longer reports. Returns (created, updated, archived)."""
        existing = {
            record.exact_id.lower(): record
            for record in self.with_context(active_test=False).search(
                [("division_id", "=", division.id)]
            )
        }
        seen = set()
        to_create = []
        updated = 0
        for row in rows:
            if not row.get("ID"):
                continue
            values = self._exact_values(row)
            key = str(values["exact_id"]).lower()
            if key in seen:
                continue
            seen.add(key)
            values["active"] = True
            record = existing.get(key)
            if record:
                changed = {name: value for name, value in values.items() if record[name] != value}
                if changed:
                    record.write(changed)
                    updated += 1
            else:
                to_create.append(dict(values, division_id=division.id))
        if to_create:
            self.create(to_create)
        gone = self.browse(
            [record.id for key, record in existing.items() if key not in seen and record.active]
        )
        gone.write({"active": False})
        return len(to_create), updated, len(gone)
