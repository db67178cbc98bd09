#!/usr/bin/env python3
"""Reliability run: a backlog exported by two workers at once through a faulty Exact.

What it does:

1. creates a real database from a template that has ``account`` (default
   ``odoo_tpl_account``), installs (or updates) the addon in-process;
2. starts the sandbox on a loopback port with a clock running ``--time-scale`` times
   faster, and aligns the addon's clock hooks to it (``exact.connection._exact_now``
   reads the sandbox clock, ``_exact_sleep`` sleeps sandbox seconds), so access tokens
   expire every 10 sandbox minutes and the 570 s refresh rule, the token expiry and the
   rate-limit resets agree on both sides;
3. injects faults: ``--html500`` of the API calls get an HTML 500 page, ``--hang`` of
   the POSTs are stored and never answered (the connection's request timeout is
   ``--timeout`` seconds, the hang lasts longer), and 429 bursts of three;
4. creates ``--customers`` customers (half per administration, each with one contact
   person) and ``--invoices`` posted invoices spread over them;
5. runs the export cron method (``exact.exporter._cron_export``) in ``--workers``
   threads at once, each with its own registry cursor, committing for real, in a loop
   until nothing is pending or sending (bounded by ``--max-runs`` and ``--deadline``);
6. checks: every invoice ``exported``; in the sandbox exactly one sales entry per
   invoice (by YourRef and by EntryID) and one account per customer, one contact per
   contact person, none twice; the refresh-token chain unbroken (every refresh answered
   200, the connection still ``connected``); no exception escaped a worker; no
   WARNING/ERROR was logged.

It prints what was injected and what came out, and exits 1 if a check failed.

    $ODOO_PYTHON bench/reliability.py             # 500 invoices, 50 customers
    $ODOO_PYTHON bench/reliability.py --invoices 60 --customers 10   # quick

Two threads of one process stand for two cron workers: each has its own database
connection and transaction, so row locks, ``SKIP LOCKED`` claims and commits behave as
between two Odoo processes (Odoo itself runs one cron job on one worker at a time; the
second caller stands for the same job of another database copy, "Send now" buttons, or a
per-administration job).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="cwx_bench_reliability")
    parser.add_argument("--template", default="odoo_tpl_account")
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-scale", type=float, default=30.0)
    parser.add_argument("--html500", type=float, default=0.10)
    parser.add_argument("--hang", type=float, default=0.05)
    parser.add_argument("--burst-p", type=float, default=0.01, help="chance a 429 burst starts")
    parser.add_argument("--timeout", type=int, default=2, help="request timeout (s)")
    parser.add_argument("--hang-seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-runs", type=int, default=200, help="cron runs per worker")
    parser.add_argument("--deadline", type=float, default=540.0, help="seconds for the export")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def fault_rules(args):
    # "[!o]*": every API path, not the OAuth endpoints (oauth2/token, oauth2/auth): the
    # refresh chain itself must stay intact, and each refresh is checked to answer 200.
    return [
        f"* [!o]* 429 p={args.burst_p} times=3",
        f"POST [!o]* store-and-hang p={args.hang} seconds={args.hang_seconds}",
        f"* [!o]* html500 p={args.html500}",
    ]


def main(argv=None):  # noqa: C901 - one script, read top to bottom
    args = parse_args(argv)
    started = time.monotonic()
    registry, logs = benchlib.load_odoo(args.db, args.template)
    from odoo import SUPERUSER_ID, api

    from exact_sandbox import ScaledClock

    clock = ScaledClock(args.time_scale)
    benchlib.patch_clock(registry, clock, args.time_scale)
    sandbox, cm, server = benchlib.start_sandbox(clock, rng_seed=args.seed)
    setup_started = time.monotonic()
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = benchlib.configure_exact(
                env, sandbox, server.base_url, clock, request_timeout=args.timeout
            )
            journals = env["account.journal"].browse(ids["journals"])
            customers = benchlib.make_customers(env, args.customers, prefix="Betrouwbaar")
            values = []
            for i in range(args.invoices):
                index = i % len(customers)
                partner = customers[index]
                # customers alternate between administrations 100001 and 100002
                journal = journals[index % 2]
                values.append(
                    benchlib.invoice_values(env, partner, journal, lines=1 + i % 3, amount=10.0 + i)
                )
            moves = env["account.move"].create(values)
            moves.action_post()
            move_ids = moves.ids
            customer_ids = customers.ids
            contact_ids = customers.child_ids.ids
            cr.commit()
        setup_seconds = time.monotonic() - setup_started
        # the setup's calls (master data) are not part of the run
        sandbox.requests_log.clear()
        token_calls_before = len(sandbox.token_calls)
        for rule in fault_rules(args):
            sandbox.add_fault(rule)

        deadline = time.monotonic() + args.deadline
        worker_stats = [Counter() for _ in range(args.workers)]
        worker_errors: list[str] = []

        def remaining(env):
            env.cr.execute(
                "SELECT count(*) FROM account_move WHERE id IN %s AND exact_state IN %s",
                (tuple(move_ids), ("pending", "sending")),
            )
            moves_left = env.cr.fetchone()[0]
            env.cr.execute(
                "SELECT count(*) FROM exact_partner_link WHERE state = 'pending'"
                " AND link_type = 'account'"
            )
            return moves_left + env.cr.fetchone()[0]

        # which worker exported which administration (bench-side instrumentation)
        Exporter = registry["exact.exporter"]
        export_division = Exporter._cron_export_division
        local = threading.local()

        def counted_export_division(self, division, batch_size):
            local.stats[f"batches of {division.division_code}"] += 1
            return export_division(self, division, batch_size)

        Exporter._cron_export_division = counted_export_division

        def worker(index):
            stats = local.stats = worker_stats[index]
            while stats["runs"] < args.max_runs and time.monotonic() < deadline:
                stats["runs"] += 1
                try:
                    with registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        env["exact.exporter"]._cron_export()
                except Exception:  # noqa: BLE001 - counted and reported, the loop goes on
                    stats["exceptions"] += 1
                    worker_errors.append(traceback.format_exc(limit=6))
                with registry.cursor() as cr:
                    if not remaining(api.Environment(cr, SUPERUSER_ID, {})):
                        return
                time.sleep(0.1)  # as a cron runner would, between two runs

        export_started = time.monotonic()
        benchlib.run_threads([lambda i=i: worker(i) for i in range(args.workers)])
        export_seconds = time.monotonic() - export_started
        sandbox.clear_faults()
        report = collect(args, registry, sandbox, move_ids, customer_ids, contact_ids, ids)
        fault_list = fault_counts(sandbox)
    finally:
        benchlib.stop_sandbox(cm)
    token_calls = sandbox.token_calls[token_calls_before:]
    refreshes = [c for c in token_calls if c[1] == "refresh_token"]
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    check(
        "every invoice exported",
        report["states"] == {"exported": args.invoices},
        dict(report["states"]),
    )
    check(
        "sales entries = invoices",
        report["entries"] == args.invoices,
        f"{report['entries']} entries",
    )
    check("no YourRef twice", not report["dup_yourref"], report["dup_yourref"][:5])
    check("no EntryID twice", not report["dup_entryid"], report["dup_entryid"][:5])
    check(
        "every YourRef is an Odoo invoice, EntryIDs agree",
        not report["entry_mismatch"],
        report["entry_mismatch"][:5],
    )
    check(
        "accounts = customers",
        report["accounts"] == args.customers,
        f"{report['accounts']} accounts",
    )
    check("no account twice", not report["dup_accounts"], report["dup_accounts"][:5])
    check(
        "contacts = contact persons",
        report["contacts"] == len(contact_ids),
        f"{report['contacts']} contacts",
    )
    check("no contact twice", not report["dup_contacts"], report["dup_contacts"][:5])
    # the access token lives 600 sandbox seconds: a run this long must have refreshed
    expected_refreshes = int(export_seconds * args.time_scale // 660)
    check(
        f"every refresh answered 200 (at least {expected_refreshes})",
        len(refreshes) >= expected_refreshes and all(c[2] == 200 for c in refreshes),
        Counter(c[2] for c in refreshes),
    )
    check(
        "connection still connected",
        report["connection_state"] == "connected",
        report["connection_state"],
    )
    check("no exception in a worker", not worker_errors, len(worker_errors))
    check("no WARNING/ERROR logged by Odoo", not logs.records, len(logs.records))

    print()
    print(
        f"Reliability run: {args.invoices} invoices, {args.customers} customers, "
        f"{args.workers} workers, sandbox clock x{args.time_scale:g}, "
        f"request timeout {args.timeout} s"
    )
    print()
    injected = benchlib.Table(["injected (sandbox)", "count"])
    for name, value in fault_list:
        injected.add(name, value)
    print(injected.render())
    print()
    out = benchlib.Table(["what came out", "value"])
    out.add("API calls to the sandbox (run)", report["calls"])
    out.add("  of which answered 2xx", report["calls_ok"])
    out.add(
        "token refreshes (all 200?)",
        f"{len(refreshes)} ({'yes' if all(c[2] == 200 for c in refreshes) else 'NO'})",
    )
    out.add("invoices exported / total", f"{report['states'].get('exported', 0)} / {args.invoices}")
    out.add("sales entries in the sandbox", report["entries"])
    out.add(
        "  duplicate YourRef / EntryID",
        f"{len(report['dup_yourref'])} / {len(report['dup_entryid'])}",
    )
    out.add("accounts (ours) in the sandbox", report["accounts"])
    out.add("contacts in the sandbox", report["contacts"])
    out.add(
        "  duplicate accounts / contacts",
        f"{len(report['dup_accounts'])} / {len(report['dup_contacts'])}",
    )
    out.add("connection state", report["connection_state"])
    out.add("sync log rows (failed calls)", f"{report['log_rows']} ({report['log_failed']})")
    for i, stats in enumerate(worker_stats):
        out.add(
            f"worker {i + 1}: cron runs / exceptions / batches of 100001 + 100002",
            f"{stats['runs']} / {stats['exceptions']} / "
            f"{stats['batches of 100001']} + {stats['batches of 100002']}",
        )
    out.add("parallel requests per division (peak)", report["parallel_peak"])
    out.add(
        "WARNING/ERROR lines: Odoo / sandbox server", f"{len(logs.records)} / {len(logs.others)}"
    )
    out.add("setup (data, master data) seconds", f"{setup_seconds:.1f}")
    out.add("export seconds (wall)", f"{export_seconds:.1f}")
    out.add("sandbox minutes elapsed in the export", f"{export_seconds * args.time_scale / 60:.1f}")
    out.add("total seconds", f"{time.monotonic() - started:.1f}")
    print(out.render())
    print()
    result = benchlib.Table(["check", "result", "detail"])
    for name, ok, detail in checks:
        result.add(name, "ok" if ok else "FAILED", "" if ok else detail)
    print(result.render())
    for text in worker_errors[:3]:
        print("\nworker exception:\n" + text)
    for line in logs.lines()[:20]:
        print("log:", line)
    for line in logs.lines(logs.others)[:5]:
        print("sandbox server log:", line)
    if not args.keep_db:
        registry.delete(args.db)
        benchlib.drop_database(args.db)
    failed = [c for c in checks if not c[1]]
    print("\nRESULT:", "all checks passed" if not failed else f"{len(failed)} check(s) FAILED")
    return 1 if failed else 0


def fault_counts(sandbox):
    """What the sandbox injected, from its request log (every request of the run)."""
    log = sandbox.requests_log
    kinds = Counter(entry["fault"] for entry in log if entry.get("fault"))
    real_429 = sum(1 for e in log if e["status"] == 429 and not e.get("fault"))
    expired = sum(1 for e in log if e["status"] == 401 and not e.get("fault"))
    return [
        ("HTML 500 pages", kinds.get("html500", 0)),
        ("POSTs stored, never answered (store-and-hang)", kinds.get("store-and-hang", 0)),
        ("429 answers in injected bursts", kinds.get("429", 0)),
        ("429 answers from the rate limit itself", real_429),
        ("401 (token expired or unknown)", expired),
        ("requests in the run", len(log)),
    ]


def collect(args, registry, sandbox, move_ids, customer_ids, contact_ids, ids):
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        moves = env["account.move"].browse(move_ids)
        states = Counter(moves.mapped("exact_state"))
        by_name = {m.name: m for m in moves}
        customers = env["res.partner"].browse(customer_ids)
        names = set(customers.mapped("name"))
        contact_names = set(env["res.partner"].browse(contact_ids).mapped("email"))
        connection = env["exact.connection"].browse(ids["connection"])
        connection_state = connection.state
        log_rows = env["exact.sync.log"].search_count([])
        log_failed = env["exact.sync.log"].search_count([("success", "=", False)])
        entries, accounts, contacts = [], [], []
        for code in (100001, 100002):
            entries += sandbox.records(code, "SalesEntries")
            accounts += [a for a in sandbox.records(code, "Accounts") if a.get("Name") in names]
            contacts += [
                c for c in sandbox.records(code, "Contacts") if c.get("Email") in contact_names
            ]
        yourrefs = Counter(e.get("YourRef") for e in entries)
        entry_ids = Counter(e.get("EntryID") for e in entries)
        mismatch = []
        for entry in entries:
            move = by_name.get(entry.get("YourRef"))
            if not move or (move.exact_entry_id or "").lower() != str(entry["EntryID"]).lower():
                mismatch.append(entry.get("YourRef"))
        account_names = Counter(a["Name"] for a in accounts)
        contact_keys = Counter(c.get("Email") for c in contacts)
        log = sandbox.requests_log
        return {
            "states": states,
            "entries": len(entries),
            "dup_yourref": [k for k, n in yourrefs.items() if n > 1],
            "dup_entryid": [k for k, n in entry_ids.items() if n > 1],
            "entry_mismatch": mismatch,
            "accounts": len(accounts),
            "dup_accounts": [k for k, n in account_names.items() if n > 1],
            "contacts": len(contacts),
            "dup_contacts": [k for k, n in contact_keys.items() if n > 1],
            "connection_state": connection_state,
            "log_rows": log_rows,
            "log_failed": log_failed,
            "calls": len(log),
            "calls_ok": sum(1 for e in log if isinstance(e["status"], int) and e["status"] < 300),
            "parallel_peak": dict(sandbox.parallel_peak),
        }


if __name__ == "__main__":
    sys.exit(main())
