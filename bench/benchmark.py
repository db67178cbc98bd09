#!/usr/bin/env python3
"""Benchmark: what exporting a backlog costs, in API calls, quota, SQL and time.

For each backlog size N (100 and 1,000; ``--quick``: 20 and 100) it creates N/10
customers and N invoices in a real database (copied from a template that has
``account``), exports the customers first, then the invoices with the export cron, and
measures against the sandbox (on a loopback port, its clock ``--time-scale`` times
faster, the addon's clock hooks aligned to it, Exact's limits of 60 calls a minute):

- API calls per invoice in steady state (the customers are already in Exact; target
  1.0 without PDF, at most 3 with PDF) and how many of the calls were look-ups, for the
  customers' export and for the invoices';
- 429 answers (target 0: the limiter waits for the minute's reset) and the share of
  the minute quota used while the backlog waits (target >= 90 %, full minutes only);
- SQL queries to export one invoice of 1 line and one of 50 lines (target: the same
  constant), counted with ``odoo.sql_db.sql_counter`` around ``_export_moves``;
- the time to export an invoice as a ratio to the time Odoo takes to post it.

    $ODOO_PYTHON bench/benchmark.py            # N = 100 and 1,000
    $ODOO_PYTHON bench/benchmark.py --quick    # N = 20 and 100

The quota figure measures the limiter only when Odoo is faster than the quota: at the
default x5 a sandbox minute lasts 12 s, and 60 invoices take Odoo about 5 s to export
here, so the backlog waits for the quota, as it would in production. (At x20 or x60 the
sandbox minute would be shorter than Odoo's work for 60 invoices, and the figure would
measure Odoo's speed instead.) Customers and PDFs are counted under a high limit, so
only the invoice backlog is paced.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

MINUTELY_LIMIT = 60
PDF_BYTES = b"%PDF-1.4\n% a stand-in for the invoice PDF\n" + b"0" * 20000 + b"\n%%EOF\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="cwx_bench_benchmark")
    parser.add_argument("--template", default="odoo_tpl_account")
    parser.add_argument("--quick", action="store_true", help="N = 20 and 100")
    parser.add_argument("--sizes", help="comma-separated backlog sizes, e.g. 100,1000")
    parser.add_argument("--time-scale", type=float, default=5.0)
    parser.add_argument("--pdf", type=int, help="invoices exported with their PDF")
    parser.add_argument("--samples", type=int, default=5, help="invoices per SQL/time figure")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, args):
        from exact_sandbox import ScaledClock

        self.args = args
        self.next_customer = 1
        self.registry, self.logs = benchlib.load_odoo(args.db, args.template)
        self.clock = ScaledClock(args.time_scale)
        benchlib.patch_clock(self.registry, self.clock, args.time_scale)
        self.sandbox, self.cm, self.server = benchlib.start_sandbox(
            self.clock, minutely_limit=MINUTELY_LIMIT, daily_limit=100_000
        )
        with self.cursor() as env:
            self.ids = benchlib.configure_exact(env, self.sandbox, self.server.base_url, self.clock)

    # -- helpers -----------------------------------------------------------------------

    def cursor(self):
        registry = self.registry

        class _Env:
            def __enter__(self):
                from odoo import SUPERUSER_ID, api

                self.cr = registry.cursor()
                return api.Environment(self.cr, SUPERUSER_ID, {})

            def __exit__(self, kind, value, tb):
                if kind is None:
                    self.cr.commit()
                self.cr.close()

        return _Env()

    def division(self, env, code):
        return env["exact.division"].search([("division_code", "=", code)])

    def journal(self, env, code):
        return env["account.journal"].browse(self.ids["journals"][0 if code == 100001 else 1])

    def log_slice(self, start, division=None):
        return [
            entry
            for entry in self.sandbox.requests_log[start:]
            if division is None or entry.get("division") == division
        ]

    @staticmethod
    def classify(entries):
        kinds = Counter()
        for entry in entries:
            path = entry["path"].split("/api/v1/", 1)[-1]
            resource = path.split("/", 1)[-1].split("(", 1)[0]
            kinds[f"{entry['method']} {resource}"] += 1
        return kinds

    def export_backlog(self, code, invoice_ids):
        """Run the export cron (one worker) until none of ``invoice_ids`` waits."""
        runs = 0
        while runs < 500:
            runs += 1
            with self.cursor() as env:
                env["exact.exporter"]._cron_export(batch_size=50)
            with self.cursor() as env:
                env.cr.execute(
                    "SELECT count(*) FROM account_move WHERE id IN %s AND exact_state IN %s",
                    (tuple(invoice_ids), ("pending", "sending")),
                )
                if not env.cr.fetchone()[0]:
                    return runs
        raise RuntimeError("the backlog did not drain in 500 cron runs")

    def make_invoices(self, code, customers, count, lines=1, post=True):
        with self.cursor() as env:
            journal = self.journal(env, code)
            partners = env["res.partner"].browse(customers)
            values = [
                benchlib.invoice_values(
                    env, partners[i % len(partners)], journal, lines=lines, amount=20.0 + i
                )
                for i in range(count)
            ]
            moves = env["account.move"].create(values)
            if post:
                moves.action_post()
            return moves.ids

    def export_customers(self, code, count, prefix):
        with self.cursor() as env:
            # numbered on from the last batch: VAT and CoC numbers stay unique
            customers = benchlib.make_customers(env, count, prefix=prefix, start=self.next_customer)
            self.next_customer += count
            customer_ids = customers.ids
        start = len(self.sandbox.requests_log)
        with self.cursor() as env:
            division = self.division(env, code)
            counts = env["exact.exporter"]._export_partners(
                env["res.partner"].browse(customer_ids), division
            )
        if counts.get("exported") != count:
            raise RuntimeError(f"customers not all exported: {dict(counts)}")
        return customer_ids, self.log_slice(start, code)

    def set_limit(self, minutely_limit):
        """Exact's minute limit (60) where the pace is measured, a very high one where
        only calls are counted; a new limit starts at the next sandbox minute, so no
        calls made under the old one count against it."""
        self.sandbox.configure(minutely_limit=minutely_limit)
        now = self.clock()
        time.sleep((60 - now % 60 + 0.05) / self.args.time_scale)

    # -- sections ----------------------------------------------------------------------

    def backlog(self, size):
        """Customers first, then a backlog of ``size`` invoices, in 100001."""
        code = 100001
        self.set_limit(1_000_000)
        customers, customer_calls = self.export_customers(code, max(1, size // 10), f"B{size}x")
        invoices = self.make_invoices(code, customers, size)
        self.set_limit(MINUTELY_LIMIT)
        start = len(self.sandbox.requests_log)
        started_wall, started_clock = time.monotonic(), self.clock()
        runs = self.export_backlog(code, invoices)
        wall = time.monotonic() - started_wall
        sandbox_seconds = self.clock() - started_clock
        calls = self.log_slice(start, code)
        with self.cursor() as env:
            states = Counter(env["account.move"].browse(invoices).mapped("exact_state"))
        kinds = self.classify(calls)
        per_minute = Counter(int(entry["ts"] // 60) for entry in calls)
        # the last minute is partial (the backlog ran dry); so is the first, unless the
        # backlog started at its beginning (set_limit waits for it)
        full = sorted(per_minute)[:-1]
        if full and started_clock % 60 > 5:
            full = full[1:]
        shares = [per_minute[m] / MINUTELY_LIMIT for m in full]
        customer_kinds = self.classify(customer_calls)
        return {
            "size": size,
            "customers": len(customers),
            "customer_calls": len(customer_calls),
            "customer_lookups": sum(n for k, n in customer_kinds.items() if k.startswith("GET")),
            "customer_kinds": customer_kinds,
            "calls": len(calls),
            "lookups": sum(n for k, n in kinds.items() if k.startswith("GET")),
            "kinds": kinds,
            "per_invoice": len(calls) / size,
            "429": sum(1 for entry in calls if entry["status"] == 429),
            "statuses": Counter(entry["status"] for entry in calls),
            "full_minutes": len(full),
            "share": statistics.mean(shares) if shares else None,
            "min_share": min(shares) if shares else None,
            "states": states,
            "runs": runs,
            "wall": wall,
            "sandbox_minutes": sandbox_seconds / 60,
        }

    def pdf(self, count):
        """``count`` invoices of customers already in Exact, with their PDF, in 100002."""
        code = 100002
        self.set_limit(1_000_000)
        with self.cursor() as env:
            self.division(env, code).attach_pdf = True
        customers, _calls = self.export_customers(code, max(1, count // 10), f"P{count}x")
        invoices = self.make_invoices(code, customers, count)
        with self.cursor() as env:
            # The PDF Odoo keeps of a sent invoice (wkhtmltopdf, which renders a new one,
            # is not needed for counting calls): a small stored attachment per invoice.
            for move in env["account.move"].browse(invoices):
                attachment = env["ir.attachment"].create(
                    {
                        "name": f"{move.name.replace('/', '_')}.pdf",
                        "res_model": "account.move",
                        "res_id": move.id,
                        "raw": PDF_BYTES,
                        "mimetype": "application/pdf",
                    }
                )
                move.message_main_attachment_id = attachment
        start = len(self.sandbox.requests_log)
        started = time.monotonic()
        self.export_backlog(code, invoices)
        wall = time.monotonic() - started
        calls = self.log_slice(start, code)
        with self.cursor() as env:
            moves = env["account.move"].browse(invoices)
            pdf_states = Counter(moves.mapped("exact_pdf_state"))
            self.division(env, code).attach_pdf = False
        kinds = self.classify(calls)
        return {
            "count": count,
            "calls": len(calls),
            "per_invoice": len(calls) / count,
            "lookups": sum(n for k, n in kinds.items() if k.startswith("GET")),
            "kinds": kinds,
            "pdf_states": pdf_states,
            "wall": wall,
        }

    def per_invoice_costs(self, lines, samples):
        """SQL queries and seconds to export one invoice of ``lines`` lines, and seconds
        to post it, over ``samples`` invoices (medians); the rate limit is lifted so the
        figures hold the export alone."""
        import odoo

        code = 100001
        customers, _calls = self.export_customers(code, 1, f"S{lines}x")
        # one more than asked: the first export warms the caches and is not counted
        drafts = self.make_invoices(code, customers, samples + 1, lines=lines, post=False)
        queries, export_seconds, post_seconds = [], [], []
        for index, move_id in enumerate(drafts):
            with self.cursor() as env:
                started = time.perf_counter()
                env["account.move"].browse(move_id).action_post()
                env.flush_all()
                env.cr.commit()
                posted = time.perf_counter() - started
            with self.cursor() as env:
                move = env["account.move"].browse(move_id)
                before = odoo.sql_db.sql_counter
                started = time.perf_counter()
                env["exact.exporter"]._export_moves(move)
                env.cr.commit()
                exported = time.perf_counter() - started
                count = odoo.sql_db.sql_counter - before
                if move.exact_state != "exported":
                    raise RuntimeError(f"invoice not exported: {move.exact_error}")
            if index:
                queries.append(count)
                export_seconds.append(exported)
                post_seconds.append(posted)
        return {
            "lines": lines,
            "queries": statistics.median(queries),
            "queries_range": (min(queries), max(queries)),
            "export": statistics.median(export_seconds),
            "post": statistics.median(post_seconds),
        }

    def close(self):
        benchlib.stop_sandbox(self.cm)
        if not self.args.keep_db:
            self.registry.delete(self.args.db)
            benchlib.drop_database(self.args.db)


def main(argv=None):  # noqa: C901 - a script: measure, then print
    args = parse_args(argv)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [20, 100] if args.quick else [100, 1000]
    pdf_count = args.pdf if args.pdf is not None else (10 if args.quick else 50)
    started = time.monotonic()
    bench = Bench(args)
    try:
        backlogs = [bench.backlog(size) for size in sizes]
        pdf = bench.pdf(pdf_count) if pdf_count else None
        costs = [bench.per_invoice_costs(lines, args.samples) for lines in (1, 50)]
    finally:
        bench.close()

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print()
    print(
        f"Benchmark ({when}): sandbox clock x{args.time_scale:g}, "
        f"limit {MINUTELY_LIMIT} calls/minute per administration, one worker"
    )
    print()
    table = benchlib.Table(["backlog", *[f"N = {b['size']}" for b in backlogs], "target"])

    def row(label, values, target=""):
        table.add(label, *values, target)

    row("customers exported first", [b["customers"] for b in backlogs])
    row(
        "  API calls for them (per customer)",
        [f"{b['customer_calls']} ({b['customer_calls'] / b['customers']:.1f})" for b in backlogs],
    )
    row("  of which look-ups (GET)", [b["customer_lookups"] for b in backlogs])
    row("invoices exported", [b["states"].get("exported", 0) for b in backlogs])
    row("  API calls for them", [b["calls"] for b in backlogs])
    row(
        "  API calls per invoice (steady state)",
        [f"{b['per_invoice']:.2f}" for b in backlogs],
        "1.0",
    )
    row("  of which look-ups (GET)", [b["lookups"] for b in backlogs], "0")
    row("  answers by HTTP status", [dict(sorted(b["statuses"].items())) for b in backlogs])
    row("429 answers received", [b["429"] for b in backlogs], "0")
    row(
        "minute quota used while the backlog waits",
        [
            f"{b['share'] * 100:.1f} % (min {b['min_share'] * 100:.0f} %, "
            f"{b['full_minutes']} full min)"
            if b["share"] is not None
            else "no full minute"
            for b in backlogs
        ],
        ">= 90 %",
    )
    row(
        "sandbox minutes / wall seconds",
        [f"{b['sandbox_minutes']:.1f} / {b['wall']:.1f}" for b in backlogs],
    )
    row("cron runs", [b["runs"] for b in backlogs])
    print(table.render())
    print()
    for b in backlogs:
        print(
            f"N = {b['size']}: customer calls {dict(b['customer_kinds'])}; "
            f"invoice calls {dict(b['kinds'])}"
        )
    if pdf:
        print()
        ptable = benchlib.Table(["with PDF (customers in Exact)", "value", "target"])
        ptable.add("invoices", pdf["count"], "")
        ptable.add("API calls per invoice", f"{pdf['per_invoice']:.2f}", "<= 3")
        ptable.add("  of which look-ups (GET)", pdf["lookups"], "0")
        ptable.add("  calls by kind", dict(pdf["kinds"]), "")
        ptable.add("PDF states", dict(pdf["pdf_states"]), "")
        print(ptable.render())
    print()
    ctable = benchlib.Table(["one invoice", *[f"{c['lines']} line(s)" for c in costs], "target"])
    ctable.add(
        "SQL queries to export it (median, range)",
        *[f"{c['queries']:g} ({c['queries_range'][0]}-{c['queries_range'][1]})" for c in costs],
        "same for both",
    )
    ctable.add("seconds to post it in Odoo (median)", *[f"{c['post']:.3f}" for c in costs], "")
    ctable.add("seconds to export it (median)", *[f"{c['export']:.3f}" for c in costs], "")
    ctable.add("export time / post time", *[f"{c['export'] / c['post']:.2f}" for c in costs], "")
    print(ctable.render())
    print()
    print(f"WARNING/ERROR lines logged by Odoo: {len(bench.logs.records)}")
    for line in bench.logs.lines()[:10]:
        print("log:", line)
    print(f"total seconds: {time.monotonic() - started:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
