"""What the reliability run and the benchmark share: a real Odoo database with the addon,
a sandbox on a loopback port whose clock may run faster, and the data to export.

Nothing here is a test fixture: the database is a real one (copied from a template that
has ``account`` installed), transactions commit for real, and the sandbox is served over
HTTP by ``exact_sandbox.testing.serve_in_thread``.

Usage (inside a script)::

    env_info = benchlib.OdooBench("bench_rel", template="odoo_tpl_account")
    registry = env_info.registry
    sandbox, server = benchlib.start_sandbox(clock, faults=[...])
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        ids = benchlib.configure_exact(env, sandbox, server.base_url)
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLIENT_ID = "chainwise-bench-client"
CLIENT_SECRET = "chainwise-bench-secret"  # noqa: S105 - a fake for the sandbox
MODULE = "chainwise_exact_connector"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def odoo_root() -> Path:
    """The folder holding odoo-bin: $ODOO_ROOT, else the one of the importable odoo."""
    if os.environ.get("ODOO_ROOT"):
        return Path(os.environ["ODOO_ROOT"])
    import odoo

    return Path(odoo.__file__).resolve().parent.parent


def addons_path() -> str:
    root = odoo_root()
    parts = [root / "odoo" / "addons", root / "addons", REPO]
    return ",".join(str(p) for p in parts if p.is_dir())


def filestore(db: str) -> Path:
    return Path.home() / ".local" / "share" / "Odoo" / "filestore" / db


def database_exists(db: str) -> bool:
    listing = subprocess.run(["psql", "-lqtA"], check=True, capture_output=True, text=True)
    return db in {line.split("|", 1)[0] for line in listing.stdout.splitlines()}


def build_template(template: str) -> None:
    """Create ``template`` with Odoo's ``account`` installed (once per machine, ~1 min), so
    that every run starts from a copy instead of installing accounting again."""
    import odoo

    odoo_bin = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    print(f"bench: building template database {template} (account, no demo data)")
    subprocess.run(
        [
            sys.executable,
            str(odoo_bin),
            f"--addons-path={addons_path()}",
            "-d",
            template,
            "-i",
            "account",
            "--without-demo=all",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        check=True,
    )


def recreate_database(db: str, template: str) -> None:
    """Drop ``db`` and create it again as a copy of ``template`` (with its filestore)."""
    if not database_exists(template):
        build_template(template)
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=True, capture_output=True)
    subprocess.run(["createdb", "-T", template, db], check=True, capture_output=True)
    shutil.rmtree(filestore(db), ignore_errors=True)
    if filestore(template).is_dir():
        shutil.copytree(filestore(template), filestore(db))


def drop_database(db: str) -> None:
    """Drop ``db`` and its filestore, closing Odoo's pooled connections to it first."""
    if "odoo" in sys.modules:
        import odoo

        odoo.sql_db.close_db(db)
    result = subprocess.run(
        ["dropdb", "--if-exists", "--force", db], check=False, capture_output=True, text=True
    )
    if result.returncode:
        print(f"could not drop database {db}: {result.stderr.strip()}", file=sys.stderr)
    shutil.rmtree(filestore(db), ignore_errors=True)


class LogCounter(logging.Handler):
    """Keeps the WARNING and ERROR records logged while a run goes on: Odoo's (``odoo.*``)
    in ``records``, the others (the sandbox's HTTP server) in ``others``."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.others: list[logging.LogRecord] = []

    def emit(self, record):
        if record.name.startswith("odoo"):
            self.records.append(record)
        else:  # the sandbox's HTTP server (werkzeug) and other libraries
            self.others.append(record)

    def lines(self, records=None) -> list[str]:
        return [
            f"{r.levelname} {r.name}: {r.getMessage()}"[:300]
            for r in (self.records if records is None else records)
        ]


def load_odoo(db: str, template: str, *, log_level: str = "warn") -> tuple:
    """A fresh database copied from ``template`` with the addon installed (or updated, if
    the template already has it); returns (registry, LogCounter)."""
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is on 127.0.0.1
    recreate_database(db, template)
    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={addons_path()}", "-d", db, f"--log-level={log_level}"],
        setup_logging=True,
    )
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [MODULE])
        row = cr.fetchone()
    installed = bool(row and row[0] == "installed")
    config["update" if installed else "init"][MODULE] = 1
    config["without_demo"] = "all"
    counter = LogCounter()
    registry = odoo.modules.registry.Registry.new(db, update_module=True)
    config["init"].clear()
    config["update"].clear()
    logging.getLogger().addHandler(counter)  # count only what happens after the install
    return registry, counter


def patch_clock(registry, clock, scale: float) -> None:
    """Make the addon read the sandbox's (scaled) clock and wait in sandbox seconds.

    ``_exact_now`` returns the sandbox time, so the 570 s refresh rule, the token expiry
    and the rate-limit resets are computed on the same clock on both sides; ``_exact_sleep``
    sleeps ``seconds / scale`` real seconds (a wait for a minute reset lasts a sandbox
    minute)."""
    Connection = registry["exact.connection"]
    Connection._exact_now = lambda self: clock()
    Connection._exact_sleep = lambda self, seconds: time.sleep(max(0.0, seconds) / scale)


def start_sandbox(clock, *, faults=(), rng_seed=42, minutely_limit=60, daily_limit=5000):
    """A demo-seeded sandbox served on a free loopback port; returns (sandbox, cm).

    ``cm`` is the ``serve_in_thread`` context manager, already entered: call
    ``cm.__exit__(None, None, None)`` to stop it (``stop_sandbox``)."""
    import exact_sandbox.app as sandbox_app
    from exact_sandbox import Sandbox
    from exact_sandbox.testing import serve_in_thread

    sandbox_app.LOG_SIZE = 10_000_000  # keep every request for the counts
    sandbox = Sandbox(
        clock=clock,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        seed="demo",
        rng_seed=rng_seed,
        minutely_limit=minutely_limit,
        daily_limit=daily_limit,
        language="en",
    )
    cm = serve_in_thread(sandbox, host="127.0.0.1", port=0)
    server = cm.__enter__()
    for rule in faults:
        sandbox.add_fault(rule)
    return sandbox, cm, server


def stop_sandbox(cm) -> None:
    cm.__exit__(None, None, None)


def exact_record(env, division, model, code):
    record = (
        env[model]
        .with_context(active_test=False)
        .search([("division_id", "=", division.id), ("code", "=", code)], limit=1)
    )
    if not record:
        raise RuntimeError(f"{model} {code} not read from the sandbox")
    return record


def configure_exact(env, sandbox, base_url, clock, *, request_timeout=30, attach_pdf=False):
    """Connection (connected with a fresh token pair), the two demo administrations with
    master data read through the API and the mappings; returns a dict of ids.

    Division 100001 takes the company's sales journal INV, 100002 a journal ZORG."""
    company = env.ref("base.main_company")
    Journal = env["account.journal"]
    journal_main = Journal.search(
        [("company_id", "=", company.id), ("type", "=", "sale"), ("code", "!=", "ZORG")],
        order="sequence, id",
        limit=1,
    )
    journal_zorg = Journal.search([("company_id", "=", company.id), ("code", "=", "ZORG")])
    if not journal_zorg:
        journal_zorg = Journal.create(
            {
                "name": "Sales Zorg",
                "code": "ZORG",
                "type": "sale",
                "company_id": company.id,
                "default_account_id": journal_main.default_account_id.id,
            }
        )
    connection = env["exact.connection"].create(
        {
            "name": "Exact sandbox (bench)",
            "company_id": company.id,
            "region": "custom",
            "custom_base_url": base_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "request_timeout": request_timeout,
        }
    )
    give_tokens(connection, sandbox, clock)
    env.cr.commit()  # the token store works in its own cursor: it must see the connection
    divisions = env["exact.division"]
    for code, name, journals in (
        (100001, "ChainWise Demo B.V.", journal_main),
        (100002, "ChainWise Zorg B.V.", journal_zorg),
    ):
        division = env["exact.division"].create(
            {
                "connection_id": connection.id,
                "company_id": company.id,
                "division_code": code,
                "division_name": name,
                "journal_ids": [(6, 0, journals.ids)],
                "export_from_date": date(2000, 1, 1),
                "attach_pdf": attach_pdf,
            }
        )
        env.cr.commit()
        setup_division(env, division)
        divisions |= division
    env.cr.commit()
    return {
        "company": company.id,
        "connection": connection.id,
        "divisions": divisions.ids,
        "journals": [journal_main.id, journal_zorg.id],
    }


def give_tokens(connection, sandbox, clock):
    tokens = sandbox.issue_tokens()
    now = clock()
    connection.sudo().write(
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "token_obtained_at": now,
            "token_expires_at": now + float(tokens["expires_in"]),
            "state": "connected",
            "last_error": False,
        }
    )


def setup_division(env, division):
    """Master data from the sandbox, journal 70, null GL 8999 / VAT 0, condition 30, every
    income account to GL 8000 and every sale tax to VAT code 2 (as the Odoo tests do)."""
    division.action_refresh_master_data()
    division.write(
        {
            "exact_journal_id": exact_record(env, division, "exact.journal", "70").id,
            "null_gl_account_id": exact_record(env, division, "exact.gl.account", "8999").id,
            "null_vat_code_id": exact_record(env, division, "exact.vat.code", "0").id,
            "default_payment_condition_id": exact_record(
                env, division, "exact.payment.condition", "30"
            ).id,
        }
    )
    company = division.company_id
    gl_8000 = exact_record(env, division, "exact.gl.account", "8000")
    accounts = env["account.account"].search(
        [
            *env["account.account"]._check_company_domain(company),
            ("account_type", "in", ("income", "income_other")),
        ]
    )
    env["exact.account.mapping"].create(
        [
            {"division_id": division.id, "account_id": a.id, "gl_account_id": gl_8000.id}
            for a in accounts
        ]
    )
    vat_2 = exact_record(env, division, "exact.vat.code", "2")
    taxes = env["account.tax"].search(
        [("company_id", "=", company.id), ("type_tax_use", "=", "sale")]
    )
    env["exact.tax.mapping"].create(
        [{"division_id": division.id, "tax_id": t.id, "vat_code_id": vat_2.id} for t in taxes]
    )


def make_customers(env, count, *, prefix="Klant", with_contact=True, start=1):
    """``count`` companies (VAT and CoC numbers, so the exporter looks them up first),
    each with one contact person when ``with_contact``."""
    Partner = env["res.partner"]
    values = []
    for i in range(start, start + count):
        value = {
            "name": f"{prefix} {i:04d} B.V.",
            "is_company": True,
            "vat": f"NL{700000000 + i:09d}B01",
            "company_registry": f"{60000000 + i:08d}",
            "email": f"info{i}@{prefix.lower()}.example",
            "street": f"Hoofdstraat {i}",
            "zip": "1000 AA",
            "city": "Amsterdam",
            "country_id": env.ref("base.nl").id,
        }
        if with_contact:
            value["child_ids"] = [
                (
                    0,
                    0,
                    {
                        "name": f"Jan van Dam {i:04d}",
                        "type": "contact",
                        "email": f"jan{i}@{prefix.lower()}.example",
                    },
                )
            ]
        values.append(value)
    return Partner.create(values)


def invoice_values(env, partner, journal, *, lines=1, amount=100.0, when=None):
    tax = env["account.tax"].search(
        [("company_id", "=", journal.company_id.id), ("type_tax_use", "=", "sale")], limit=1
    )
    return {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "journal_id": journal.id,
        "invoice_date": when or date.today(),
        "invoice_line_ids": [
            (
                0,
                0,
                {
                    "name": f"Line {n + 1}",
                    "quantity": 1 + n % 3,
                    "price_unit": amount + n,
                    "tax_ids": [(6, 0, tax.ids)],
                },
            )
            for n in range(lines)
        ],
    }


class Table:
    """A plain-text table: ``Table(["what", "value"]).add(...).render()``."""

    def __init__(self, header):
        self.header = [str(h) for h in header]
        self.rows: list[list[str]] = []

    def add(self, *row):
        self.rows.append([str(c) for c in row])
        return self

    def render(self) -> str:
        widths = [len(h) for h in self.header]
        for row in self.rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))

        def fmt(row):
            return "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(row)) + " |"

        rule = "|-" + "-|-".join("-" * w for w in widths) + "-|"
        return "\n".join([fmt(self.header), rule, *(fmt(r) for r in self.rows)])


def run_threads(targets):
    """Start one thread per callable, wait for all; returns the threads."""
    threads = [threading.Thread(target=t, name=f"worker-{i + 1}") for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads
