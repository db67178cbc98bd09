"""Browser end-to-end test of the demo: what a bookkeeper does, in headless Chromium.

Run it with the interpreter of your Odoo 18 (it needs the ``playwright`` package there and a
Chromium; no browser is downloaded):

    /path/to/odoo-venv/bin/python bench/e2e_browser.py [--keep] [--screenshots DIR]

It builds a demo database of its own with ``bench/demo --no-serve`` (DB ``cwx_e2e_...``),
starts the Exact sandbox and Odoo on free loopback ports with ``bench/demo``, and then, in
the browser: logs in, opens the connection, "Connect to Exact", approves on the sandbox's
consent page, lands back in Odoo connected, refreshes the master data of administration
100001, checks its mappings, opens a posted invoice, "Send to Exact" > "Send now", sees the
badge say "In Exact", and finds the entry on the sandbox's ``/sandbox`` page. Every step is
asserted; a failing step stops the run with its message and a screenshot. The last line is
``e2e: N passed, M failed`` (./test shows it under "suites run").

--screenshots DIR   write the screenshots of the main screens there (docs/screenshots for
                    the README); by default they go to the run's temporary folder
--keep              keep the database and the run's folder (logs, screenshots)
--chromium PATH     the Chromium binary (default: $CHROMIUM, else chromium on PATH)
Environment: ODOO_PYTHON etc. as for ./test (bench/demo finds Odoo with .ci/find-odoo;
this script passes its own interpreter).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_TIMEOUT = 20_000  # ms, any one wait in the browser
STEPS = [
    "build the demo database (bench/demo --no-serve)",
    "start the Exact sandbox and Odoo (bench/demo)",
    "log in as admin",
    "open the connection from the menu: not connected",
    "Connect to Exact: the sandbox's consent page",
    "approve: back in Odoo, connected",
    "administration 100001: Refresh from Exact",
    "Check Mappings: everything mapped",
    "open a posted invoice: To send",
    "Send to Exact, Send now: the badge says In Exact",
    "the entry is on the sandbox's /sandbox page",
    "no ERROR in the Odoo and sandbox logs",
]


class StepFailed(Exception):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(condition, message):
    if not condition:
        raise StepFailed(message)


class Run:
    def __init__(self, args):
        self.args = args
        stamp = time.strftime("%Y%m%d%H%M%S")
        self.db = f"cwx_e2e_{stamp}_{os.getpid()}"
        self.workdir = Path(tempfile.mkdtemp(prefix="cwx-e2e-"))
        self.shots = Path(args.screenshots).resolve() if args.screenshots else self.workdir
        self.shots.mkdir(parents=True, exist_ok=True)
        self.odoo_port, self.sandbox_port = free_port(), free_port()
        while self.sandbox_port == self.odoo_port:
            self.sandbox_port = free_port()
        self.odoo_url = f"http://127.0.0.1:{self.odoo_port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.env = dict(
            os.environ,
            ODOO_PYTHON=os.environ.get("ODOO_PYTHON") or sys.executable,
            DEMO_DB=self.db,
            DEMO_ODOO_PORT=str(self.odoo_port),
            DEMO_SANDBOX_PORT=str(self.sandbox_port),
            XDG_STATE_HOME=str(self.workdir),
        )
        self.logs = self.workdir / "chainwise_exact"
        self.server = None
        self.page = None
        self.page_errors = []
        self.results = []  # (step, ok, seconds)
        self.entry_number = None
        self.invoice = None  # the demo's first invoice, e.g. INV/2026/00001 (from its output)

    # ---------------------------------------------------------------- plumbing

    def log(self, message):
        print(f"e2e: {message}", flush=True)

    def screenshot(self, name, full_page=False):
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def demo(self, *options, timeout):
        command = [str(HERE / "bench" / "demo"), *options]
        out = subprocess.run(
            command,
            env=self.env,
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return out.returncode, out.stdout + out.stderr

    # ---------------------------------------------------------------- steps

    def step_build(self):
        rc, output = self.demo("--no-serve", timeout=600)
        (self.workdir / "demo-build.out").write_text(output)
        check(rc == 0, f"bench/demo --no-serve exited with {rc}:\n{output[-2000:]}")
        check(f"database {self.db} is ready" in output, f"no 'ready' line:\n{output[-2000:]}")
        for kind in ("out_invoice", "out_refund"):
            check(f" {kind} " in output, f"the demo data made no {kind}:\n{output}")
        found = re.search(r"^demo: (\S+) out_invoice Bakkerij De Molen", output, re.MULTILINE)
        check(found, f"no invoice of Bakkerij De Molen in the demo's output:\n{output}")
        self.invoice = found.group(1)

    def step_start(self):
        out = open(self.workdir / "demo-serve.out", "w")  # noqa: SIM115 (closed in stop())
        self.server_out = out
        self.server = subprocess.Popen(
            [str(HERE / "bench" / "demo")],
            env=self.env,
            cwd=HERE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        text = ""
        while time.monotonic() < deadline:
            text = (self.workdir / "demo-serve.out").read_text()
            if "Stop:" in text:
                break
            if self.server.poll() is not None:
                raise StepFailed(f"bench/demo ended with {self.server.returncode}:\n{text}")
            time.sleep(0.3)
        check("Stop:" in text, f"bench/demo printed no URLs within 120 s:\n{text}")
        check(f"{self.odoo_url}/odoo" in text, f"Odoo's URL is not in the output:\n{text}")
        check(f"{self.sandbox_url}/sandbox" in text, f"the sandbox URL is missing:\n{text}")
        check("admin" in text, f"the login is missing:\n{text}")

    def step_login(self):
        page = self.page
        # the first pages of a new database build Odoo's asset bundles: give them time
        page.goto(f"{self.odoo_url}/web/login", timeout=120_000)
        page.fill("input[name=login]", "admin")
        page.fill("input[name=password]", "admin")
        page.click("button[type=submit]")
        page.wait_for_selector(".o_main_navbar", timeout=120_000)
        check("/web/login" not in page.url, f"still on the login page: {page.url}")

    def open_menu(self, app, section, item):
        """Home menu > app > top menu section > item, as a user clicks."""
        page = self.page
        page.click(".o_navbar_apps_menu button")
        page.locator(".o_navbar_apps_menu .dropdown-item, .o_app").filter(
            has_text=re.compile(rf"^\s*{re.escape(app)}\s*$")
        ).first.click()
        page.wait_for_selector(f".o_main_navbar .o_menu_brand:has-text('{app}')")
        page.locator(".o_menu_sections > button, .o_menu_sections > a").filter(
            has_text=section
        ).first.click()
        page.locator(".dropdown-menu .dropdown-item").filter(
            has_text=re.compile(rf"^\s*{re.escape(item)}\s*$")
        ).first.click()

    def step_open_connection(self):
        from playwright.sync_api import expect

        page = self.page
        self.open_menu("Invoicing", "Configuration", "Connections")
        page.wait_for_selector(".o_list_view .o_data_row")
        row = page.locator(".o_data_row").filter(has_text="Exact sandbox (demo)")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Not Connected")
        row.locator("td.o_data_cell").first.click()
        page.wait_for_selector(".o_form_view .o_form_statusbar")
        expect(
            page.locator("button[name=action_connect]", has_text="Connect to Exact")
        ).to_be_visible()
        expect(page.locator("div[name=redirect_uri]")).to_contain_text(
            f"{self.odoo_url}/chainwise_exact/oauth/callback"
        )

    def step_consent(self):
        from playwright.sync_api import expect

        page = self.page
        page.click("button[name=action_connect]:has-text('Connect to Exact')")
        page.wait_for_url(f"{self.sandbox_url}/api/oauth2/auth?**")
        expect(page.locator("h1")).to_contain_text("Exact Online")
        for code, name in (("100001", "ChainWise Demo B.V."), ("100002", "ChainWise Zorg B.V.")):
            box = page.locator(f"input[name=division][value='{code}']")
            expect(box).to_be_checked()
            expect(page.locator("li", has=box)).to_contain_text(name)
        self.screenshot("consent-page")

    def step_approve(self):
        from playwright.sync_api import expect

        page = self.page
        page.click("button[value=approve]")
        page.wait_for_url(f"{self.odoo_url}/odoo/**")
        page.wait_for_selector(".o_form_view .o_form_statusbar")
        check("exact.connection" in page.url, f"not back on the connection: {page.url}")
        expect(page.locator(".o_statusbar_status button.o_arrow_button_current")).to_contain_text(
            "Connected"
        )
        expect(page.locator("div[name=state] .badge, span[name=state] .badge").first).to_have_text(
            "Connected"
        )
        expect(page.locator("div[name=exact_user_name]")).not_to_be_empty()
        expect(page.locator("button[name=action_add_division]")).to_be_visible()
        self.screenshot("connection-form")

    def step_refresh_master_data(self):
        from playwright.sync_api import expect

        page = self.page
        page.click("button[name=action_open_divisions]")
        page.wait_for_selector(".o_list_view .o_data_row")
        rows = page.locator(".o_data_row")
        expect(rows).to_have_count(2)
        demo = rows.filter(has_text="ChainWise Demo B.V.")
        expect(demo).to_contain_text("Verkoop Demo")
        expect(demo.locator("td[name=division_code]")).to_have_text("100001")  # no "100,001"
        expect(rows.filter(has_text="ChainWise Zorg B.V.")).to_contain_text("Verkoop Zorg")
        demo.locator("td.o_data_cell").first.click()
        page.wait_for_selector(".o_form_view button[name=action_refresh_master_data]")
        expect(page.locator(".o_form_view .oe_title")).to_contain_text(
            "100001 - ChainWise Demo B.V."
        )
        master_date = page.locator("div[name=master_data_date]")
        check(
            not master_date.inner_text().strip(),
            "the master data was read before anyone pressed Refresh",
        )
        page.click("button[name=action_refresh_master_data]")
        note = page.locator(".o_notification").filter(has_text="Master data read from Exact")
        expect(note).to_be_visible()
        # the form shows the refresh date without a reload by hand
        expect(master_date).not_to_be_empty()
        expect(page.locator("div[name=exact_journal_id] input")).to_have_value(re.compile("^70 "))
        page.click(".o_notification .o_notification_close")
        expect(note).to_have_count(0)
        self.screenshot("administration")

    def step_check_mappings(self):
        from playwright.sync_api import expect

        page = self.page
        page.click("button[name=action_check_mappings]")
        dialog = page.locator(".modal .o_form_view")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Everything the invoices waiting for export need is mapped")
        expect(dialog.locator("div[name=move_count]")).to_have_text("3")
        self.screenshot("mappings-check")
        page.click(".modal .modal-footer button:has-text('Close')")
        expect(page.locator(".modal")).to_have_count(0)

    def step_open_invoice(self):
        from playwright.sync_api import expect

        page = self.page
        self.open_menu("Invoicing", "Customers", "Invoices")
        page.wait_for_selector(".o_list_view .o_data_row")
        row = page.locator(".o_data_row").filter(has_text=self.invoice)
        expect(row).to_have_count(1)
        row.locator("td[name=name]").click()
        page.wait_for_selector(".o_form_view button[name=action_exact_send]")
        expect(page.locator(".o_form_view .oe_title")).to_contain_text(self.invoice)
        expect(page.locator(".o_statusbar_status button.o_arrow_button_current")).to_contain_text(
            "Posted"
        )
        badge = page.locator("div[name=exact_div] div[name=exact_state]")
        expect(badge).to_have_text("To send")

    def step_send(self):
        from playwright.sync_api import expect

        page = self.page
        page.click("button[name=action_exact_send]")
        dialog = page.locator(".modal .o_form_view")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("1 ready, 0 to fix first")
        expect(dialog).to_contain_text("Ready for 100001 - ChainWise Demo B.V.")
        page.click(".modal button[name=action_send_now]")
        note = page.locator(".o_notification").filter(has_text="1 exported, 0 with errors")
        expect(note).to_be_visible(timeout=60_000)
        expect(page.locator(".modal")).to_have_count(0)
        badge = page.locator("div[name=exact_div] div[name=exact_state]")
        expect(badge).to_have_text("In Exact")
        expect(badge.locator(".badge")).to_have_class(re.compile(r"text-bg-success"))
        number = page.locator("div[name=exact_div] div[name=exact_entry_number]")
        expect(number).to_have_text(re.compile(r"^\d+$"))
        self.entry_number = number.inner_text().strip()
        expect(page.locator(".o_form_view .alert-danger:visible")).to_have_count(0)
        page.click(".o_notification .o_notification_close")
        self.screenshot("invoice-in-exact")

    def step_sandbox(self):
        from playwright.sync_api import expect

        page = self.page
        state = json.loads(page.request.get(f"{self.sandbox_url}/sandbox/api/state").text())
        entries = [
            e
            for e in state["divisions"]["100001"]["SalesEntries"]
            if e.get("YourRef") == self.invoice
        ]
        check(len(entries) == 1, f"{len(entries)} sales entries for {self.invoice} in 100001")
        check(
            str(entries[0].get("EntryNumber")) == self.entry_number,
            f"Exact's entry number {entries[0].get('EntryNumber')} is not the one Odoo shows "
            f"({self.entry_number})",
        )
        page.goto(f"{self.sandbox_url}/sandbox")
        expect(page.locator("h1")).to_contain_text("Exact Online sandbox")
        row = page.locator("tr").filter(has_text=self.invoice).filter(has_text=self.entry_number)
        expect(row).to_have_count(1)
        expect(page.locator("tr").filter(has_text="Bakkerij De Molen B.V.")).to_have_count(1)
        self.screenshot("sandbox-page")

    def step_logs(self):
        problems = []
        for name in (f"{self.db}-odoo.log", f"{self.db}-sandbox.log"):
            path = self.logs / name
            if not path.exists():
                problems.append(f"{name}: missing")
                continue
            for line in path.read_text(errors="replace").splitlines():
                if re.search(r"\b(ERROR|CRITICAL)\b|Traceback", line):
                    problems.append(f"{name}: {line[:300]}")
        check(not problems, "\n".join(problems[:20]))
        check(not self.page_errors, "JavaScript errors:\n" + "\n".join(self.page_errors[:10]))

    # ---------------------------------------------------------------- running

    def failure_details(self):
        """What the screen says when a step fails: Odoo's error dialog or notifications."""
        if not self.page:
            return ""
        details = []
        try:
            for selector in (".o_error_dialog", ".modal .modal-body", ".o_notification"):
                for text in self.page.locator(selector).all_inner_texts()[:3]:
                    details.append(f"{selector}: {text.strip()[:500]}")
            details.append(f"URL: {self.page.url}")
        except Exception as error:  # the browser itself is gone
            details.append(f"(no page details: {error})")
        return "\n".join(details)

    def run(self):
        from playwright.sync_api import expect, sync_playwright

        expect.set_options(timeout=UI_TIMEOUT)  # Playwright's default is 5 s

        steps = [
            self.step_build,
            self.step_start,
            self.step_login,
            self.step_open_connection,
            self.step_consent,
            self.step_approve,
            self.step_refresh_master_data,
            self.step_check_mappings,
            self.step_open_invoice,
            self.step_send,
            self.step_sandbox,
            self.step_logs,
        ]
        assert len(steps) == len(STEPS)
        self.log(
            f"database {self.db}, Odoo {self.odoo_url}, sandbox {self.sandbox_url}, "
            f"folder {self.workdir}"
        )
        started = time.monotonic()
        failed = False
        with sync_playwright() as playwright:
            browser = None
            try:
                for index, (title, step) in enumerate(zip(STEPS, steps, strict=True), 1):
                    if index == 3:  # the servers are up: open the browser
                        browser = playwright.chromium.launch(
                            executable_path=self.args.chromium, args=CHROMIUM_ARGS, headless=True
                        )
                        context = browser.new_context(
                            viewport={"width": 1400, "height": 900}, locale="en-US"
                        )
                        context.set_default_timeout(UI_TIMEOUT)
                        self.page = context.new_page()
                        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
                    t0 = time.monotonic()
                    try:
                        step()
                    except Exception as error:
                        seconds = time.monotonic() - t0
                        self.results.append((title, False, seconds))
                        self.log(f"FAIL {index:2}. {title} ({seconds:.1f} s)")
                        message = (
                            str(error)
                            if isinstance(error, StepFailed)
                            else (f"{type(error).__name__}: {error}")
                        )
                        # Playwright appends its call log and the page's whole aria tree
                        message = message.split("\nCall log:")[0].split("\nAria snapshot:")[0]
                        print(f"      {message.strip()}".replace("\n", "\n      "), flush=True)
                        if not isinstance(error, (StepFailed, AssertionError)):
                            traceback.print_exc()
                        details = self.failure_details()
                        if details:
                            print("      " + details.replace("\n", "\n      "), flush=True)
                        if self.page:
                            shot = self.workdir / f"FAILED-{index:02d}.png"
                            try:
                                self.page.screenshot(path=str(shot), full_page=True)
                                self.log(f"screenshot of the failure: {shot}")
                            except Exception as shot_error:
                                self.log(f"no screenshot: {shot_error}")
                        failed = True
                        break
                    seconds = time.monotonic() - t0
                    self.results.append((title, True, seconds))
                    self.log(f"ok   {index:2}. {title} ({seconds:.1f} s)")
            finally:
                if browser:
                    browser.close()
                self.stop()
        passed = sum(1 for _title, ok, _s in self.results if ok)
        bad = len(self.results) - passed
        not_run = len(STEPS) - len(self.results)
        if not_run:
            self.log(f"not run: {not_run} step(s) after the failure")
        if failed or self.args.keep:
            self.log(f"logs and screenshots kept in {self.workdir}")
        self.log(f"took {time.monotonic() - started:.0f} s")
        if self.shots != self.workdir:
            self.log(f"screenshots in {self.shots}")
        summary = f"e2e: {passed} passed, {bad} failed" + (
            f" ({not_run} not run)" if not_run else ""
        )
        print(summary, flush=True)
        if not failed and not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return 1 if failed else 0

    def stop(self):
        if self.server and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.server.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.server.wait(timeout=10)
        if getattr(self, "server_out", None):
            self.server_out.close()
        if not self.args.keep:
            subprocess.run(["dropdb", "--if-exists", self.db], check=False, capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    parser.add_argument("--screenshots", metavar="DIR", help="where to write the screenshots")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium",
    )
    args = parser.parse_args()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print(f"e2e: the playwright package is not installed in {sys.executable}")
        print("e2e: not run (no playwright)")
        return 2
    if not Path(args.chromium).exists():
        print(f"e2e: no Chromium at {args.chromium} (set CHROMIUM or --chromium)")
        print("e2e: not run (no chromium)")
        return 2
    return Run(args).run()


if __name__ == "__main__":
    sys.exit(main())
