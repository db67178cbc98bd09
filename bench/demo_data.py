"""Demo data for `./setup demo`, run inside `odoo-bin shell` (``env`` is given).

The database's own company becomes "ChainWise Demo B.V.", a Dutch company with the Dutch
chart of accounts and taxes (l10n_nl). Two business units, one Odoo sales journal each,
export into the sandbox's two demo administrations (100001 and 100002); the GL-account,
tax and payment-term mappings are filled in; three customers with contact persons (one in
Belgium with a VAT number, for the intra-EU case) and posted invoices, a credit note and a
null invoice wait to be sent. The connection is left unconnected: the person running the
demo clicks "Connect to Exact" and approves on the sandbox's consent page.

Master data carries the sandbox seed's GUIDs, so "Refresh from Exact" after connecting
updates these records instead of adding new ones.

Idempotent: a second run finds what the first made. Prints lines starting with "demo:".
"""

import os
import shutil
from datetime import date, timedelta

from exact_sandbox.seed import (
    GL_ACCOUNTS,
    JOURNALS,
    PAYMENT_CONDITIONS,
    VAT_CODES,
    seed_guid,
)

SANDBOX_URL = os.environ.get("DEMO_SANDBOX_URL", "http://127.0.0.1:8765")
CLIENT_ID = os.environ.get("DEMO_CLIENT_ID", "demo-client")
CLIENT_SECRET = os.environ.get("DEMO_CLIENT_SECRET", "demo-secret")
ODOO_URL = os.environ.get("DEMO_ODOO_URL", "http://127.0.0.1:8069")
COMPANY_NAME = "ChainWise Demo B.V."
CONNECTION_NAME = "Exact sandbox (demo)"


def ensure_company(env):
    """The main company, made Dutch, with the Dutch chart of accounts (l10n_nl)."""
    company = env.ref("base.main_company")
    if company.chart_template == "nl":
        return company
    eur = env.ref("base.EUR")
    eur.active = True
    company.write(
        {
            "name": COMPANY_NAME,
            "country_id": env.ref("base.nl").id,
            "currency_id": eur.id,
            "street": "Keizersgracht 100",
            "zip": "1015 AA",
            "city": "Amsterdam",
            "vat": "NL001234572B01",
            "company_registry": "87654321",
            "email": "administratie@chainwise-demo.example",
        }
    )
    # Replaces the generic chart Odoo installed with `account` (no entries exist yet).
    env["account.chart.template"].try_loading("nl", company=company, install_demo=False)
    return company


def ensure_base_url(env):
    """The redirect URI Odoo shows and sends to Exact comes from web.base.url; freeze it on
    the address the sandbox has registered, whatever host name the browser uses."""
    params = env["ir.config_parameter"].sudo()
    params.set_param("web.base.url", ODOO_URL)
    params.set_param("web.base.url.freeze", "True")


def sales_journals(env, company):
    Journal = env["account.journal"].with_company(company)
    demo = Journal.search(
        [("company_id", "=", company.id), ("type", "=", "sale"), ("code", "!=", "ZORG")],
        order="sequence, id",
        limit=1,
    )
    demo.name = "Verkoop Demo"
    zorg = Journal.search([("company_id", "=", company.id), ("code", "=", "ZORG")], limit=1)
    if not zorg:
        zorg = Journal.create(
            {
                "name": "Verkoop Zorg",
                "code": "ZORG",
                "type": "sale",
                "company_id": company.id,
            }
        )
    return demo, zorg


def ensure_connection(env, company):
    Connection = env["exact.connection"]
    connection = Connection.search([("company_id", "=", company.id)], limit=1)
    values = {
        "name": CONNECTION_NAME,
        "company_id": company.id,
        "region": "custom",
        "custom_base_url": SANDBOX_URL,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    if connection:
        connection.write(values)
    else:
        connection = Connection.create(values)
    return connection


def ensure_master_data(env, division):
    code = division.division_code
    for gl_code, name, gl_type, _vat in GL_ACCOUNTS:
        _upsert(
            env["exact.gl.account"],
            division,
            seed_guid(code, "GLAccounts", gl_code),
            {"code": gl_code, "name": name, "gl_type": gl_type},
        )
    for vat_code, name, pct, vat_type, ttype, eu in VAT_CODES:
        _upsert(
            env["exact.vat.code"],
            division,
            seed_guid(code, "VATCodes", vat_code),
            {
                "code": vat_code,
                "name": name,
                "percentage": pct,
                "vat_type": vat_type,
                "transaction_type": ttype,
                "eu_sales_listing": eu,
            },
        )
    for pc_code, name, days in PAYMENT_CONDITIONS:
        _upsert(
            env["exact.payment.condition"],
            division,
            seed_guid(code, "PaymentConditions", pc_code),
            {"code": pc_code, "name": name, "payment_days": days},
        )
    for j_code, name, j_type in JOURNALS:
        _upsert(
            env["exact.journal"],
            division,
            seed_guid(code, "Journals", j_code),
            {"code": j_code, "name": name, "journal_type": j_type},
        )


def _upsert(model, division, exact_id, values):
    record = model.with_context(active_test=False).search(
        [("division_id", "=", division.id), ("exact_id", "=", exact_id)], limit=1
    )
    values = dict(values, division_id=division.id, exact_id=exact_id)
    if record:
        record.write(values)
    else:
        model.create(values)


def ensure_division(env, connection, company, code, name, journal):
    Division = env["exact.division"].with_context(active_test=False)
    division = Division.search(
        [("connection_id", "=", connection.id), ("division_code", "=", code)], limit=1
    )
    if not division:
        division = Division.create(
            {
                "connection_id": connection.id,
                "company_id": company.id,
                "division_code": code,
                "division_name": name,
                "journal_ids": [(6, 0, journal.ids)],
                "export_from_date": date.today() - timedelta(days=60),
            }
        )
    ensure_master_data(env, division)

    def one(model, exact_code):
        return env[model].search(
            [("division_id", "=", division.id), ("code", "=", exact_code)], limit=1
        )

    division.write(
        {
            "exact_journal_id": one("exact.journal", "70").id,
            "null_gl_account_id": one("exact.gl.account", "8999").id,
            "null_vat_code_id": one("exact.vat.code", "0").id,
            "default_payment_condition_id": one("exact.payment.condition", "30").id,
            # Odoo makes invoice PDFs with wkhtmltopdf; without it every PDF would fail
            "attach_pdf": bool(shutil.which("wkhtmltopdf")),
        }
    )
    return division


# Odoo income account (l10n_nl template id; code 800100...) -> Exact GL account of the seed
ACCOUNT_PAIRS = [("8001", "8000"), ("8005", "8000"), ("8002", "8100"), ("8003", "8200")]
# l10n_nl sale tax (xmlid suffix) -> Exact VAT code
TAX_PAIRS = [
    ("btw_21", "2"),
    ("btw_21_d", "2"),
    ("btw_9", "1"),
    ("btw_9_d", "1"),
    ("btw_0", "0"),
    ("btw_0_d", "0"),
    ("btw_X0_producten", "4"),
    ("btw_X0_diensten", "4"),
    ("btw_X1", "5"),
]


def company_tax(env, company, suffix):
    return env.ref(f"account.{company.id}_{suffix}", raise_if_not_found=False)


def company_account(env, company, template_id):
    """The account made from l10n_nl's template ``8001`` (its code is padded: 800100)."""
    return env.ref(f"account.{company.id}_{template_id}", raise_if_not_found=False)


def ensure_mappings(env, division, company):
    """Income accounts to 8000/8100/8200, sale taxes to VAT codes, payment terms to the
    conditions with the same number of days, as a bookkeeper would."""
    gl = {g.code: g for g in env["exact.gl.account"].search([("division_id", "=", division.id)])}
    vat = {v.code: v for v in env["exact.vat.code"].search([("division_id", "=", division.id)])}
    for odoo_code, exact_code in ACCOUNT_PAIRS:
        account = company_account(env, company, odoo_code)
        if account:
            _mapping(
                env["exact.account.mapping"],
                division,
                "account_id",
                account,
                {"gl_account_id": gl[exact_code].id},
            )
    for suffix, exact_code in TAX_PAIRS:
        tax = company_tax(env, company, suffix)
        if tax:
            _mapping(
                env["exact.tax.mapping"],
                division,
                "tax_id",
                tax,
                {"vat_code_id": vat[exact_code].id},
            )
    conditions = {
        p.payment_days: p
        for p in env["exact.payment.condition"].search([("division_id", "=", division.id)])
    }
    Term = env["account.payment.term"]
    for term in Term.search(Term._check_company_domain(company)):
        days = division._payment_term_days(term)
        if days in conditions:
            _mapping(
                env["exact.payment.term.mapping"],
                division,
                "payment_term_id",
                term,
                {"payment_condition_id": conditions[days].id},
            )


def _mapping(model, division, field, record, values):
    if not model.search([("division_id", "=", division.id), (field, "=", record.id)], limit=1):
        model.create(dict(values, division_id=division.id, **{field: record.id}))


CUSTOMERS = ("Bakkerij De Molen B.V.", "Zorggroep Oost B.V.", "Brouwerij Het Anker NV")


def ensure_customers(env, company):
    Partner = env["res.partner"]
    existing = Partner.search([("name", "in", CUSTOMERS), ("is_company", "=", True)])
    if len(existing) == len(CUSTOMERS):
        return tuple(existing.filtered(lambda p, n=name: p.name == n) for name in CUSTOMERS)
    nl, be = env.ref("base.nl"), env.ref("base.be")
    molen = Partner.create(
        {
            "name": CUSTOMERS[0],
            "is_company": True,
            "country_id": nl.id,
            "street": "Molenstraat 12",
            "zip": "3512 AB",
            "city": "Utrecht",
            "vat": "NL008123457B01",
            "company_registry": "30123456",
            "email": "info@demolen.example",
            "phone": "+31 30 123 4567",
        }
    )
    Partner.create(
        {
            "name": "Anna de Vries",
            "parent_id": molen.id,
            "type": "contact",
            "email": "anna@demolen.example",
            "function": "Bedrijfsleider",
        }
    )
    Partner.create(
        {
            "name": "Pieter van den Berg",
            "parent_id": molen.id,
            "type": "contact",
            "email": "pieter@demolen.example",
            "mobile": "+31 6 1234 5678",
        }
    )
    oost = Partner.create(
        {
            "name": CUSTOMERS[1],
            "is_company": True,
            "country_id": nl.id,
            "street": "Zorgweg 3",
            "zip": "7511 AA",
            "city": "Enschede",
            "company_registry": "06012345",
            "email": "crediteuren@zorggroepoost.example",
        }
    )
    Partner.create(
        {
            "name": "Mark Jansen",
            "parent_id": oost.id,
            "type": "contact",
            "email": "m.jansen@zorggroepoost.example",
            "function": "Inkoper",
        }
    )
    eu_position = env.ref(
        f"account.{company.id}_fiscal_position_template_eu", raise_if_not_found=False
    )
    anker = Partner.create(
        {
            "name": CUSTOMERS[2],
            "is_company": True,
            "country_id": be.id,
            "street": "Guido Gezellelaan 49",
            "zip": "2800",
            "city": "Mechelen",
            "vat": "BE0812345603",
            "email": "boekhouding@hetanker.example",
            "property_account_position_id": eu_position.id if eu_position else False,
        }
    )
    Partner.create(
        {
            "name": "Els Peeters",
            "parent_id": anker.id,
            "type": "contact",
            "email": "els@hetanker.example",
        }
    )
    return molen, oost, anker


def ensure_invoices(env, company, journals, customers):
    Move = env["account.move"].with_company(company)
    demo_journal, zorg_journal = journals
    if Move.search_count(
        [("journal_id", "in", [j.id for j in journals]), ("state", "=", "posted")]
    ):
        return Move.search(
            [("journal_id", "in", [j.id for j in journals]), ("state", "=", "posted")]
        )
    molen, oost, anker = customers
    income = company_account(env, company, "8001")
    tax21 = company_tax(env, company, "btw_21")
    tax9 = company_tax(env, company, "btw_9")
    term30 = env.ref("account.account_payment_term_30days", raise_if_not_found=False)
    eu = anker.with_company(company).property_account_position_id
    today = date.today()

    def invoice(partner, journal, lines, move_type="out_invoice", days_ago=3, **extra):
        position = partner.with_company(company).property_account_position_id
        vals = {
            "move_type": move_type,
            "partner_id": partner.id,
            "journal_id": journal.id,
            "invoice_date": today - timedelta(days=days_ago),
            "invoice_line_ids": [
                (
                    0,
                    0,
                    {
                        "name": name,
                        "quantity": qty,
                        "price_unit": price,
                        "account_id": (position.map_account(income) if position else income).id,
                        "tax_ids": [(6, 0, (position.map_tax(taxes) if position else taxes).ids)],
                    },
                )
                for name, qty, price, taxes in lines
            ],
        }
        vals.update(extra)
        return Move.create(vals)

    inv_molen = invoice(
        molen,
        demo_journal,
        [("Onderhoud broodmachine", 2, 450.0, tax21), ("Bloem (25 kg)", 10, 18.5, tax9)],
        invoice_payment_term_id=term30.id if term30 else False,
    )
    inv_anker = invoice(anker, demo_journal, [("Inspectie brouwketel", 1, 1250.0, tax21)])
    inv_oost = invoice(oost, zorg_journal, [("Zorgadvies, uren", 12, 95.0, tax21)], days_ago=2)
    null_inv = invoice(
        oost,
        zorg_journal,
        [("Vervallen regel", 1, 0.0, tax21)],
        days_ago=1,
        ref="Nulfactuur: regel vervallen",
    )
    (inv_molen | inv_anker | inv_oost | null_inv).action_post()
    refund = invoice(
        molen,
        demo_journal,
        [("Onderhoud broodmachine (correctie)", 1, 450.0, tax21)],
        move_type="out_refund",
        days_ago=1,
        reversed_entry_id=inv_molen.id,
        ref=f"Creditnota voor {inv_molen.name}",
    )
    refund.action_post()
    assert eu and inv_anker.fiscal_position_id == eu, "the Belgian invoice has no EU position"
    return inv_molen | inv_anker | inv_oost | null_inv | refund


def main(env):
    company = ensure_company(env)
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    ensure_base_url(env)
    journals = sales_journals(env, company)
    connection = ensure_connection(env, company)
    demo = ensure_division(env, connection, company, 100001, "ChainWise Demo B.V.", journals[0])
    zorg = ensure_division(env, connection, company, 100002, "ChainWise Zorg B.V.", journals[1])
    for division in demo | zorg:
        ensure_mappings(env, division, company)
    customers = ensure_customers(env, company)
    moves = ensure_invoices(env, company, journals, customers)
    # Build the web client's asset bundles now, in this one process, rather than in the first
    # concurrent page requests of the served demo (where Odoo can serve a bundle whose file
    # another request is still replacing).
    env["ir.qweb"]._pregenerate_assets_bundles()
    env.cr.commit()
    print(
        f"demo: company {company.name} (chart {company.chart_template}), connection "
        f"{connection.name} -> {SANDBOX_URL}, administrations {demo.division_code} "
        f"({journals[0].name}) and {zorg.division_code} ({journals[1].name})"
    )
    if not demo.attach_pdf:
        print("demo: invoice PDFs are not attached in Exact (Odoo needs wkhtmltopdf to make them)")
    for move in moves.sorted("id"):
        print(
            f"demo: {move.name} {move.move_type} {move.partner_id.name} "
            f"{move.amount_total:.2f} exact_state={move.exact_state or '-'}"
        )


main(env)  # noqa: F821 (given by odoo-bin shell)
