"""The export orchestration: customers, contacts and invoices to Exact Online.

The models gather plain data, call the Exact layer (``exact/``) and record the outcome;
no JSON is built and no HTTP is done here. The state machine of one invoice (see
ARCHITECTURE.md §4):

    pending -> sending -> exported
                     \\-> error (a person must act) / skipped (policy)

- Claim: ``SELECT ... FOR UPDATE SKIP LOCKED`` on the invoice, so two cron workers and a
  button never send the same invoice at the same time.
- Pre-flight: mappings, customer name, administration, original of a credit note; a gap
  is an ``error`` naming what to map, before any API call.
- The EntryID (a uuid4) is chosen and committed with state ``sending`` before the POST.
  An ambiguous failure (timeout after the POST may have landed) leaves ``sending``; the
  next attempt GETs the entry by its EntryID before it posts again (with the same ID).
- Functional errors from Exact go to ``error`` and are never retried automatically
  (Exact blocks an app after 10 errors per endpoint per hour).
- Quota, revoked consent and outages stop the batch of that administration; the records
  keep their state and the cron resumes them.
"""

import json
import logging
import re
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal

import odoo
import psycopg2
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import exact

_logger = logging.getLogger(__name__)

CLAIMABLE_STATES = ("pending", "sending")
DEFAULT_DAILY_RESERVE = 0.10
# Entry numbers from the digits of the Odoo number ("odoo_number" policy): when the Odoo
# journal numbers its credit notes separately (INV/2026/00001 and RINV/2026/00001 share
# their digits), invoices keep numbers below this base and credit notes get base + digits,
# so the two ranges never meet in the one Exact sales journal (Int32: at most 2147483647).
CREDIT_NOTE_NUMBER_BASE = 1_000_000_000
PARTNER_ACCOUNT_SELECT = "ID,Code,Name,Status,VATNumber,ChamberOfCommerce"
# Namespace of the per-administration advisory lock (pg_try_advisory_xact_lock(key, id)).
DIVISION_LOCK_KEY = 0x45584143  # "EXAC"


class PreflightError(Exception):
    """What must be fixed in Odoo before the record can go to Exact (no API call made)."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.message = message
        self.hint = hint


class StopBatch(Exception):
    """The batch of this administration stops; the records keep their state.

    ``retry_at``: epoch seconds when the cron should run again (quota reset), or None.
    """

    def __init__(self, message, retry_at=None):
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


class RecordBusy(Exception):
    """Another worker holds the record (row lock): leave it to that worker."""


class WaitForOrigin(Exception):
    """A credit note whose original invoice is on its way to Exact: it stays ``pending``
    with this message and goes once the original is in (the cron takes them in order)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class ExportSession:
    """One run for one administration: its client, the API-call log buffer, counters.

    The client's ``on_call`` hook only appends to ``logs``; the rows are written at the
    commit points of the exporter (``_flush_logs``), after any rollback of the work they
    describe, so a failed export still leaves its log.
    """

    def __init__(self, division):
        self.division = division
        self.code = division.division_code
        self.logs = []
        self.record = ("", 0, "")
        self.counts = Counter()
        self.stopped = None
        # accounts this session created: Exact holds no contacts under them yet
        self.created_accounts = set()
        self.client = division.sudo()._get_exact_client(on_call=self.on_call)

    def on_call(self, call):
        failed = bool(call.error) or (call.status or 0) >= 400 or call.status is None
        if call.method == "GET" and not failed:
            return  # reads that worked change nothing: not logged
        res_model, res_id, name = self.record
        url = call.url or ""
        endpoint = url.split("/api/v1/", 1)[-1] if "/api/v1/" in url else url
        message = call.error or ""
        if not message and failed:
            message = exact.exact_error_message(call.response_text) or call.response_text
        self.logs.append(
            {
                "division_id": self.division.id,
                "res_model": res_model or False,
                "res_id": res_id or 0,
                "record_name": name or False,
                "method": call.method,
                "endpoint": endpoint[:500],
                "status_code": call.status or 0,
                "duration_ms": call.duration_ms,
                "message": message or False,
                "request_body": json.dumps(call.request_body, indent=1, default=str)[:20000]
                if call.request_body is not None
                else False,
                "response_text": (call.response_text or "")[:2000] or False,
                "success": not failed,
            }
        )

    @contextmanager
    def for_record(self, record):
        previous = self.record
        self.record = (record._name, record.id, record.display_name)
        try:
            yield
        finally:
            self.record = previous


class ExactExporter(models.AbstractModel):
    _name = "exact.exporter"
    _description = "Exact Online export"

    # ------------------------------------------------------------------ commit points

    def _exact_commit(self):
        """Commit the work done so far (a chosen EntryID with ``sending``, an outcome).

        The export must survive what happens after this point: a crash or timeout
        after the POST must find the EntryID stored, and one invoice's failure must not
        undo the invoices before it. Under a test (``odoo.modules.module.current_test``)
        the test owns the transaction: TransactionCase forbids commits and rolls
        everything back at the end, so only flush, which puts the same rows in the
        database for the SQL (claims, searches) that follows.
        """
        self.env.flush_all()
        if odoo.modules.module.current_test:
            return
        # Each commit point is one finished step of the state machine (see docstring).
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _exact_rollback(self):
        """Drop the unfinished step after an unexpected error; the committed steps and
        the buffered API-call log (in memory, written at the next checkpoint) stay.
        Under a test the test owns the transaction (and its unflushed data are the
        test's fixtures, committed long ago in real life): flush and reset the cache."""
        if odoo.modules.module.current_test:
            self.env.invalidate_all()
            return
        self.env.cr.rollback()

    def _unexpected_message(self, error):
        if isinstance(error, UserError):
            return error.args[0] if error.args else str(error)
        return self.env._(
            "Odoo could not finish the export (%(error)s).",
            error=f"{type(error).__name__}: {error}",
        )

    def _flush_logs(self, session):
        if session.logs:
            self.env["exact.sync.log"].sudo().create(session.logs)
            session.logs = []

    def _checkpoint(self, session):
        """Write the buffered API-call log, then commit."""
        self._flush_logs(session)
        self._exact_commit()

    # ------------------------------------------------------------------ locks

    def _lock_rows(self, records, extra=None):
        """Lock the rows of ``records`` (skipping locked ones); returns those locked.

        ``extra`` is an ``SQL`` condition the rows must also meet (read in the lock).
        """
        if not records:
            return records
        self.env.flush_all()
        table = SQL.identifier(records._table)
        condition = extra if extra is not None else SQL("TRUE")
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s AND %s FOR UPDATE SKIP LOCKED",
                table,
                tuple(records.ids),
                condition,
            )
        )
        ids = {row[0] for row in self.env.cr.fetchall()}
        locked = records.filtered(lambda r: r.id in ids)
        locked.invalidate_recordset()
        return locked

    @contextmanager
    def _division_lock(self, division):
        """Hold the administration for this worker while it exports it.

        Yields the exporter to use (with the lock noted in its context, so nested calls
        do not take it again), or None when another worker (a cron worker, a "Send now")
        exports that administration right now: its records stay queued and go out with
        that worker or the next cron run. Exact asks for no parallel requests per
        administration and counts its quota per administration, and two workers on the
        same records only meet in row locks, serialization failures and deadlocks; so
        one worker exports an administration at a time, and different administrations
        still run in parallel (ARCHITECTURE.md §7).

        The lock is a transaction-level advisory lock taken in a cursor of its own: it
        is held across the exporter's commits and released when that cursor closes,
        whatever happens (an exception, or a crash that closes the connection).
        """
        held = self.env.context.get("exact_division_locks") or ()
        if division.id in held:
            yield self
            return
        with self.env.registry.cursor() as lock_cr:
            lock_cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (DIVISION_LOCK_KEY, division.id)
            )
            if not lock_cr.fetchone()[0]:
                yield None
                return
            yield self.with_context(exact_division_locks=(*held, division.id))

    def _division_busy(self, division, count):
        """Counts for records left to the worker that holds ``division``."""
        return Counter(
            busy=count,
            _message=self.env._(
                "Another export of administration %(division)s is running; these records "
                "stay queued and go out with it.",
                division=division.display_name,
            ),
        )

    def _claim_moves(self, moves, states=CLAIMABLE_STATES):
        """Claim invoices for sending: ``FOR UPDATE SKIP LOCKED``, state re-read in the lock.

        Two cron workers and a button may run at once; each invoice is held by one of
        them until its next commit, the others skip it.
        """
        if not moves:
            return moves
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM account_move WHERE id IN %s AND exact_state IN %s "
            "FOR UPDATE SKIP LOCKED",
            (tuple(moves.ids), tuple(states)),
        )
        ids = {row[0] for row in self.env.cr.fetchall()}
        claimed = moves.filtered(lambda m: m.id in ids)
        claimed.invalidate_recordset()
        return claimed

    # ------------------------------------------------------------------ helpers

    def _daily_reserve(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("chainwise_exact_connector.daily_reserve", str(DEFAULT_DAILY_RESERVE))
        )
        try:
            return min(max(float(value), 0.0), 1.0)
        except (TypeError, ValueError):
            return DEFAULT_DAILY_RESERVE

    def _check_quota(self, session):
        limiter = session.client.rate_limiter
        if limiter.daily_exhausted(session.code, self._daily_reserve()):
            raise StopBatch(
                self.env._(
                    "The daily Exact API quota of administration %(division)s is nearly "
                    "spent; the export resumes after the reset.",
                    division=session.division.display_name,
                ),
                retry_at=limiter.daily_reset(session.code),
            )

    def _stop_for(self, session, error):
        """Turn a layer exception that concerns the whole batch into StopBatch, or None."""
        if isinstance(error, exact.ReconsentRequired):
            # In its own transaction (idempotent: the token refresh that failed marked it
            # already there). Never in this one: under repeatable read it may not update
            # the connection row another transaction has just changed.
            session.division.connection_id._mark_reconnect_separately(error.message)
            return StopBatch(error.message)
        if isinstance(error, exact.RateLimited):
            return StopBatch(error.message, retry_at=error.reset_at)
        if isinstance(error, (exact.TokenError, exact.AuthError, exact.AccessDenied)):
            return StopBatch(error.message)
        return None

    def _trigger_cron(self, at_epoch=None):
        cron = self.env.ref(
            "chainwise_exact_connector.ir_cron_exact_export", raise_if_not_found=False
        )
        if not cron:
            return
        at = None
        if at_epoch:
            at = datetime.fromtimestamp(float(at_epoch), timezone.utc).replace(tzinfo=None)
        cron.sudo()._trigger(at=at)

    @staticmethod
    def _dec(value, digits=2):
        return Decimal(repr(round(float(value or 0.0), digits)))

    # ================================================================== partners

    def _partner_link(self, partner, division, link_type):
        Link = self.env["exact.partner.link"].sudo()
        link = Link.search(
            [
                ("partner_id", "=", partner.id),
                ("division_id", "=", division.id),
                ("link_type", "=", link_type),
            ],
            limit=1,
        )
        if not link:
            try:
                with self.env.cr.savepoint():
                    link = Link.create(
                        {
                            "partner_id": partner.id,
                            "division_id": division.id,
                            "link_type": link_type,
                            "state": "pending",
                        }
                    )
                    link.flush_recordset()
            except psycopg2.IntegrityError:
                # another worker created it at the same moment: use theirs
                link = Link.search(
                    [
                        ("partner_id", "=", partner.id),
                        ("division_id", "=", division.id),
                        ("link_type", "=", link_type),
                    ],
                    limit=1,
                )
        return link

    def _language(self, partner):
        return (partner.lang or "")[:2].upper() or None

    def _account_data(self, partner, division):
        partner = partner.with_company(division.company_id)
        ref = (partner.ref or "").strip()
        code = ref if ref.isdigit() and len(ref) <= 18 else None
        vat = (partner.vat or "").strip()
        condition = None
        term = partner.property_payment_term_id
        if term:
            mapped = division._map_payment_term(term)
            condition = mapped.code if mapped else None
        return exact.AccountData(
            name=(partner.name or "").strip(),
            code=code,
            vat=vat if vat and vat != "/" else None,
            coc=(partner.company_registry or "").strip() or None,
            email=partner.email or None,
            phone=partner.phone or None,
            website=partner.website or None,
            street=partner.street or None,
            street2=partner.street2 or None,
            zip=partner.zip or None,
            city=partner.city or None,
            country=partner.country_id.code or None,
            language=self._language(partner),
            payment_condition=condition,
        )

    def _account_payload(self, partner, division):
        if not (partner.name or "").strip():
            raise PreflightError(
                self.env._("The customer (ID %(id)s) has no name.", id=partner.id),
                self.env._("Give the customer a name: Exact requires one for every account."),
            )
        return exact.account_payload(self._account_data(partner, division))

    def _contact_payload(self, contact, account_guid):
        first, middle, last = exact.split_person_name(contact.name)
        return exact.contact_payload(
            exact.ContactData(
                account_guid=account_guid,
                first_name=first or None,
                middle_name=middle or None,
                last_name=last or None,
                email=contact.email or None,
                phone=contact.phone or None,
                mobile=getattr(contact, "mobile", None) or None,
                job_title=contact.function or None,
                language=self._language(contact),
            )
        )

    def _contact_partners(self, partner, main_contact=None):
        contacts = partner.child_ids.filtered(
            lambda c: c.type == "contact" and not c.is_company and (c.name or "").strip()
        )
        if main_contact:
            contacts |= main_contact
        return contacts

    def _main_contact(self, move):
        person = move.partner_id
        commercial = move.commercial_partner_id
        if (
            person
            and person != commercial
            and not person.is_company
            and person.commercial_partner_id == commercial
            and (person.name or "").strip()
        ):
            return person
        return self.env["res.partner"]

    def _partner_needs_export(self, link, payload, contacts, main_contact):
        if link.state != "exported" or not link.exact_guid:
            return True
        old = link.exported_values or {}
        if {k: v for k, v in exact.account_changes(old, payload).items() if k != "Code"}:
            return True
        Link = self.env["exact.partner.link"].sudo()
        links = Link.search(
            [
                ("partner_id", "in", contacts.ids),
                ("division_id", "=", link.division_id.id),
                ("link_type", "=", "contact"),
            ]
        )
        by_partner = {lk.partner_id.id: lk for lk in links}
        for contact in contacts:
            clink = by_partner.get(contact.id)
            if not clink or not clink.exact_guid or clink.state != "exported":
                return True
            new = self._contact_payload(contact, link.exact_guid)
            if exact.account_changes(clink.exported_values or {}, new):
                return True
        if main_contact:
            main_link = by_partner.get(main_contact.id)
            if not main_link or old.get("MainContact") != main_link.exact_guid:
                return True
        return False

    def _ensure_customer(self, session, partner, main_contact=None):
        """The customer's Exact Account (created or updated when needed), as a link.

        No API call when the account is linked and nothing changed since its last
        export (``exported_values``). Raises PreflightError (the customer has a
        problem), RecordBusy (another worker exports it now) or a batch-level error.
        """
        division = session.division
        partner = partner.commercial_partner_id
        main_contact = main_contact or self.env["res.partner"]
        payload = self._account_payload(partner, division)
        link = self._partner_link(partner, division, "account")
        contacts = self._contact_partners(partner, main_contact)
        if not self._partner_needs_export(link, payload, contacts, main_contact):
            return link
        if not link.id or not self._lock_rows(link):
            raise RecordBusy()
        with session.for_record(partner):
            try:
                self._export_account(session, link, partner, payload)
                self._export_contacts(session, link, contacts, main_contact)
            except exact.FunctionalError as error:
                link.write(
                    {
                        "state": "error",
                        "last_error": "\n".join(
                            filter(None, [error.exact_message, self._functional_hint(error)])
                        ),
                    }
                )
                self._checkpoint(session)
                raise PreflightError(
                    self.env._(
                        "Exact refused the customer %(partner)s: %(error)s",
                        partner=partner.display_name,
                        error=error.exact_message,
                    ),
                    self._functional_hint(error),
                ) from None
            except (exact.PayloadError, exact.NotFound) as error:
                link.write({"state": "error", "last_error": str(error)})
                self._checkpoint(session)
                raise PreflightError(
                    self.env._(
                        "The customer %(partner)s cannot be sent to Exact: %(error)s",
                        partner=partner.display_name,
                        error=str(error),
                    ),
                    self.env._("Correct the customer's data, then retry."),
                ) from None
            except exact.ExactError as error:
                link.write({"last_error": error.message})
                self._checkpoint(session)
                raise
            link.write(
                {"state": "exported", "last_error": False, "last_export": fields.Datetime.now()}
            )
            self._checkpoint(session)
        return link

    def _find_account(self, session, link, payload):
        """An existing Exact Account for this customer: by code, VAT number, CoC number.

        One GET with the criteria joined by ``or``; the best match wins in that order.
        After an earlier POST that may have landed (state ``sending``) the name is a
        criterion too, so a timeout never makes a second account.
        """
        criteria = []
        if payload.get("Code"):
            criteria.append(("Code", payload["Code"]))
        if payload.get("VATNumber"):
            criteria.append(("VATNumber", payload["VATNumber"]))
        if payload.get("ChamberOfCommerce"):
            criteria.append(("ChamberOfCommerce", payload["ChamberOfCommerce"]))
        if (link.exported_values or {}).get("_post_sent"):
            criteria.append(("Name", payload["Name"]))
        if not criteria:
            return None
        flt = " or ".join(f"{key} eq {exact.quote(value)}" for key, value in criteria)
        found = session.client.get(
            session.code, "crm/Accounts", filter=flt, select=PARTNER_ACCOUNT_SELECT
        )
        for key, value in criteria:
            for record in found:
                if (
                    exact.trim_code(str(record.get(key) or "")).upper()
                    == exact.trim_code(str(value)).upper()
                ):
                    return record
        return None

    def _export_account(self, session, link, partner, payload):
        client, code = session.client, session.code
        if link.exact_guid:
            old = link.exported_values or {}
            changes = {k: v for k, v in exact.account_changes(old, payload).items() if k != "Code"}
            if changes:
                try:
                    client.put(code, "crm/Accounts", link.exact_guid, changes)
                except exact.NotFound:
                    # deleted in Exact: find or create it again
                    link.write({"exact_guid": False, "exact_code": False, "exported_values": {}})
                    return self._export_account(session, link, partner, payload)
                link.write({"exported_values": {**old, **changes}})
            return link
        found = self._find_account(session, link, payload)
        if found:
            values = dict(payload)
            if found.get("Status") != "C":
                client.put(code, "crm/Accounts", found["ID"], {"Status": "C"})
            values["Code"] = found.get("Code") or payload.get("Code")
            link.write(
                {
                    "exact_guid": found["ID"],
                    "exact_code": exact.trim_code(found.get("Code") or ""),
                    "exported_values": values,
                }
            )
            partner.sudo().message_post(
                body=self.env._(
                    "Linked to the existing Exact account %(code)s %(name)s in %(division)s.",
                    code=exact.trim_code(found.get("Code") or ""),
                    name=found.get("Name") or "",
                    division=session.division.display_name,
                )
            )
            self._checkpoint(session)
            return link
        # Remember that a POST is on its way: if it times out, the next attempt
        # also looks the account up by name before creating it again.
        link.write({"exported_values": {"_post_sent": True}})
        self._checkpoint(session)
        record = client.post(code, "crm/Accounts", payload)
        session.created_accounts.add(record.get("ID"))
        link.write(
            {
                "exact_guid": record.get("ID"),
                "exact_code": exact.trim_code(record.get("Code") or ""),
                "exported_values": dict(payload, Code=record.get("Code") or payload.get("Code")),
            }
        )
        partner.sudo().message_post(
            body=self.env._(
                "Created in Exact Online (%(division)s) as account %(code)s.",
                division=session.division.display_name,
                code=exact.trim_code(record.get("Code") or ""),
            )
        )
        self._checkpoint(session)
        return link

    def _export_contacts(self, session, link, contacts, main_contact):
        client, code = session.client, session.code
        # the contacts Exact has under the account, read once when first needed; none
        # under an account created just before (no look-up then). Only this once: after
        # a contact POST without answer, the next attempt looks them up again.
        existing = [] if link.exact_guid in session.created_accounts else None
        session.created_accounts.discard(link.exact_guid)
        for contact in contacts:
            clink = self._partner_link(contact, session.division, "contact")
            payload = self._contact_payload(contact, link.exact_guid)
            with session.for_record(contact):
                if (
                    clink.exact_guid
                    and (clink.exported_values or {}).get("Account") != payload["Account"]
                ):
                    clink.write({"exact_guid": False, "exported_values": {}})
                if clink.exact_guid:
                    old = clink.exported_values or {}
                    changes = exact.account_changes(old, payload)
                    if changes:
                        try:
                            client.put(code, "crm/Contacts", clink.exact_guid, changes)
                        except exact.NotFound:
                            clink.write({"exact_guid": False, "exported_values": {}})
                        else:
                            clink.write({"exported_values": {**old, **changes}})
                if not clink.exact_guid:
                    if existing is None:
                        existing = client.get(
                            code,
                            "crm/Contacts",
                            filter=f"Account eq {exact.guid_literal(link.exact_guid)}",
                            select="ID,FirstName,MiddleName,LastName,Email",
                        )
                    match = self._match_contact(existing, payload)
                    if match:
                        guid = match["ID"]
                    else:
                        guid = client.post(code, "crm/Contacts", payload).get("ID")
                        existing.append(dict(payload, ID=guid))
                    clink.write({"exact_guid": guid, "exported_values": payload})
                clink.write(
                    {"state": "exported", "last_error": False, "last_export": fields.Datetime.now()}
                )
                self._checkpoint(session)
        if main_contact:
            main_link = self._partner_link(main_contact, session.division, "contact")
            old = link.exported_values or {}
            if main_link.exact_guid and old.get("MainContact") != main_link.exact_guid:
                client.put(
                    code, "crm/Accounts", link.exact_guid, {"MainContact": main_link.exact_guid}
                )
                link.write({"exported_values": {**old, "MainContact": main_link.exact_guid}})
                self._checkpoint(session)

    @staticmethod
    def _match_contact(records, payload):
        email = (payload.get("Email") or "").strip().lower()
        names = tuple(
            (payload.get(k) or "").strip().lower() for k in ("FirstName", "MiddleName", "LastName")
        )
        for record in records or []:
            if email and (record.get("Email") or "").strip().lower() == email:
                return record
        for record in records or []:
            other = tuple(
                (record.get(k) or "").strip().lower()
                for k in ("FirstName", "MiddleName", "LastName")
            )
            if names == other:
                return record
        return None

    @api.model
    def _export_partners(self, partners, division):
        """Export customers (and their contacts) to one administration; returns counts."""
        with self._division_lock(division) as exporter:
            if exporter is None:
                return self._division_busy(division, len(partners.commercial_partner_id))
            return exporter._export_partners_locked(partners, division)

    def _export_partners_locked(self, partners, division):
        session = ExportSession(division)
        counts = Counter()
        try:
            for partner in partners.commercial_partner_id:
                self._check_quota(session)
                try:
                    self._ensure_customer(session, partner)
                    counts["exported"] += 1
                except PreflightError as error:
                    link = self._partner_link(partner, division, "account")
                    link.write({"state": "error", "last_error": error.message})
                    self._checkpoint(session)
                    counts["error"] += 1
                except RecordBusy:
                    counts["busy"] += 1
                except exact.ExactError as error:
                    stop = self._stop_for(session, error)
                    if stop:
                        raise stop from None
                    counts["pending"] += 1
                except psycopg2.OperationalError:
                    # a lock or serialization conflict with another worker: next run
                    self._exact_rollback()
                    counts["busy"] += 1
                except Exception as error:  # noqa: BLE001 - one customer must not stop the rest
                    _logger.exception("Exact export of partner %s failed", partner.id)
                    self._exact_rollback()
                    link = self._partner_link(partner, division, "account")
                    if self._lock_rows(link):
                        link.write(
                            {"state": "error", "last_error": self._unexpected_message(error)}
                        )
                    self._checkpoint(session)
                    counts["error"] += 1
        except StopBatch as stop:
            counts["stopped"] += 1
            session.stopped = stop
            self._checkpoint(session)
            if stop.retry_at:
                self._trigger_cron(stop.retry_at)
        self._checkpoint(session)
        counts["_message"] = session.stopped.message if session.stopped else ""
        return counts

    # ================================================================== invoices

    def _is_null_invoice(self, move):
        """A posted invoice with total 0 and no amounts on its lines, or one cancelled
        after it got a number (Odoo keeps the number: Exact's series stays continuous)."""
        if move.state == "cancel":
            return bool(move.name and move.name != "/")
        currency = move.currency_id
        if not currency.is_zero(move.amount_total):
            return False
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return all(
            currency.is_zero(line.price_subtotal) and currency.is_zero(line.price_total)
            for line in lines
        )

    def _move_plan(self, division, move):
        """Everything the sales entry needs, read from Odoo and checked: no API call.

        Returns a dict (``skip`` True for a null invoice under the skip policy) or
        raises PreflightError naming every gap at once.
        """
        _ = self.env._
        problems, hints = [], []

        def problem(message, hint):
            problems.append(message)
            if hint not in hints:
                hints.append(hint)

        if move.move_type not in ("out_invoice", "out_refund"):
            raise PreflightError(
                _("Only customer invoices and credit notes go to Exact."),
                _("This document is not a customer invoice."),
            )
        null = self._is_null_invoice(move)
        if move.state != "posted" and not (move.state == "cancel" and null):
            raise PreflightError(
                _(
                    "Only posted invoices (or cancelled invoices that kept their number) go to Exact."  # noqa: E501
                ),
                _("Post the invoice first."),
            )
        move_date = move.invoice_date or move.date
        if division.export_from_date and move_date and move_date < division.export_from_date:
            raise PreflightError(
                _(
                    "The invoice is dated before %(date)s, the day from which the "
                    "administration %(division)s exports invoices.",
                    date=division.export_from_date,
                    division=division.display_name,
                ),
                _("Change the administration's export start date if it must go to Exact."),
            )
        if null and division.null_invoice_policy == "skip":
            return {"skip": True}
        journal_code = (division.journal_code or division.exact_journal_id.code or "").strip()
        if not journal_code:
            problem(
                _(
                    "The administration %(division)s has no Exact sales journal.",
                    division=division.display_name,
                ),
                _("Set the Exact sales journal on the administration."),
            )
        partner = move.commercial_partner_id
        if not (partner.name or "").strip():
            problem(
                _("The customer of this invoice has no name."),
                _("Give the customer a name: Exact requires one."),
            )
        origin = move.reversed_entry_id
        # only an original that belongs in Exact (covered, in the export window) counts
        waits_for_origin = False
        if (
            move.move_type == "out_refund"
            and origin
            and origin._exact_covering_division()
            and origin.exact_state != "exported"
        ):
            if origin.exact_state in CLAIMABLE_STATES:
                # on its way (to send, or sent and being checked): the credit note waits
                waits_for_origin = True
            else:
                problem(
                    _(
                        "The original invoice %(origin)s of this credit note is not in Exact: "
                        "export the original first.",
                        origin=origin.name,
                    ),
                    _("Send the original invoice to Exact first, then retry this credit note."),
                )
        lines = []
        if null:
            gl, vat = division.null_gl_account_id, division.null_vat_code_id
            if not gl or not vat:
                problem(
                    _(
                        "The administration %(division)s has no GL account or VAT code for null invoices.",  # noqa: E501
                        division=division.display_name,
                    ),
                    _(
                        "Set the null-invoice GL account and VAT code on the administration, or set its null-invoice policy to skip."  # noqa: E501
                    ),
                )
            else:
                lines = exact.null_entry_lines(gl.exact_id, vat.code)
        else:
            for line in move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
                account = line.account_id
                gl = division._map_account(account)
                if not gl:
                    problem(
                        _(
                            "The account %(account)s is not mapped to an Exact GL account.",
                            account=account.with_company(move.company_id).display_name,
                        ),
                        _(
                            "Map it in Configuration > Exact Online > Mappings > "
                            "Accounts, then click Retry."
                        ),
                    )
                vat_codes = set()
                for tax in line.tax_ids:
                    vat = division._map_tax(tax, move.fiscal_position_id)
                    if not vat:
                        problem(
                            _(
                                "The tax %(tax)s is not mapped to an Exact VAT code.",
                                tax=tax.display_name,
                            )
                            if not move.fiscal_position_id
                            else _(
                                "The tax %(tax)s (fiscal position %(fp)s) is not mapped to an Exact VAT code.",  # noqa: E501
                                tax=tax.display_name,
                                fp=move.fiscal_position_id.display_name,
                            ),
                            _(
                                "Map it in Configuration > Exact Online > "
                                "Mappings > Taxes, then click Retry."
                            ),
                        )
                    else:
                        vat_codes.add(vat.code)
                if len(vat_codes) > 1:
                    problem(
                        _(
                            "The line %(line)s has taxes mapped to several Exact VAT codes.",
                            line=line.name or "",
                        ),
                        _(
                            "An Exact line has one VAT code: use one tax per line, or map the taxes to the same code."  # noqa: E501
                        ),
                    )
                if gl:
                    lines.append(
                        exact.InvoiceLineData(
                            gl_account_guid=gl.exact_id,
                            vat_code=next(iter(vat_codes), ""),
                            amount_untaxed=self._dec(
                                line.price_subtotal, move.currency_id.decimal_places + 2
                            ),
                            amount_tax=self._dec(
                                line.price_total - line.price_subtotal,
                                move.currency_id.decimal_places + 2,
                            ),
                            description=(line.name or "").split("\n")[0][:60],
                            quantity=line.quantity,
                        )
                    )
            if not move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
                problem(_("The invoice has no lines."), _("Add a line or cancel the invoice."))
        condition = self.env["exact.payment.condition"]
        term = move.invoice_payment_term_id
        if term:
            condition = division._map_payment_term(term)
            if not condition:
                problem(
                    _(
                        "The payment term %(term)s is not mapped to an Exact payment condition.",
                        term=term.display_name,
                    ),
                    _(
                        "Map it in Configuration > Exact Online > Mappings > "
                        "Payment Terms, or set a default payment condition on the "
                        "administration, then click Retry."
                    ),
                )
        else:
            condition = division.default_payment_condition_id
        entry_number = None
        if division.entry_number_policy == "odoo_number":
            try:
                entry_number = self._entry_number(move)
            except exact.EntryNumberError as error:
                problem(
                    _(
                        "No Exact entry number can be made from %(name)s: %(reason)s",
                        name=move.name,
                        reason=error.reason,
                    ),
                    _(
                        "Set the entry-number policy of the administration to let Exact number the entries."  # noqa: E501
                    ),
                )
            else:
                clash = self._entry_number_holder(division, move, entry_number)
                if clash:
                    problem(
                        _(
                            "Entry number %(number)s, made from the digits of %(name)s, is "
                            "already used in Exact by %(other)s.",
                            number=entry_number,
                            name=move.name,
                            other=clash.name,
                        ),
                        _(
                            "Invoice numbers that differ only in their letters give the same "
                            "Exact entry number. Export each Odoo sales journal to an "
                            "administration of its own, or set the administration's entry "
                            'number to "Let Exact number".'
                        ),
                    )
        if problems:
            raise PreflightError("\n".join(problems), "\n".join(hints))
        if waits_for_origin:
            raise WaitForOrigin(
                _(
                    "Waits for the original invoice %(origin)s, which goes to Exact first.",
                    origin=origin.name,
                )
            )
        company = move.company_id
        rate = None
        if move.currency_id != company.currency_id:
            if move.invoice_currency_rate:
                rate = Decimal(repr(round(1.0 / move.invoice_currency_rate, 8)))
            elif move.amount_total:
                rate = Decimal(repr(round(abs(move.amount_total_signed / move.amount_total), 8)))
        if move.move_type == "out_refund":
            if origin:
                description = _(
                    "Credit note %(name)s for invoice %(origin)s",
                    name=move.name,
                    origin=origin.name,
                )
            else:
                description = _("Credit note %(name)s", name=move.name)
        elif null and move.state == "cancel":
            description = _("Cancelled invoice %(name)s", name=move.name)
        else:
            description = move.ref or move.payment_reference or move.name
        digits = move.currency_id.decimal_places
        return {
            "skip": False,
            "null": null,
            "journal_code": journal_code,
            "lines": lines,
            "entry_date": move.invoice_date or move.date,
            "due_date": None if null else move.invoice_date_due,
            "number": move.name,
            "description": description[:60],
            "currency": move.currency_id.name,
            "rate": rate,
            "payment_condition": condition.code if condition else None,
            "entry_number": entry_number,
            "is_refund": move.move_type == "out_refund",
            "decimals": digits,
            "amount_untaxed": Decimal("0") if null else self._dec(move.amount_untaxed, digits),
            "amount_tax": Decimal("0") if null else self._dec(move.amount_tax, digits),
        }

    def _entry_number(self, move):
        """The EntryNumber of ``move`` under the "digits of the Odoo number" policy.

        Letters are ignored, so when the Odoo journal gives credit notes a sequence of
        their own (Odoo's default: INV/2026/00001 and RINV/2026/00001), invoices get
        their digits below CREDIT_NOTE_NUMBER_BASE and credit notes that base plus their
        digits (RINV/2026/00001 -> 1202600001): never the same number in Exact's
        journal. A journal that numbers both in one sequence needs no offset.
        Raises ``exact.EntryNumberError``.
        """
        if not move.journal_id.refund_sequence:
            return exact.entry_number_from_name(move.name)
        number = exact.entry_number_from_name(move.name, maximum=CREDIT_NOTE_NUMBER_BASE - 1)
        if move.move_type == "out_refund":
            return CREDIT_NOTE_NUMBER_BASE + number
        return number

    def _entry_number_holder(self, division, move, number):
        """Another invoice of ``division`` that holds (or is being sent with) ``number``:
        two Odoo journals in one administration can still produce the same digits."""
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("exact_entry_number", "=", str(number)),
                    ("exact_division_id", "=", division.id),
                    ("exact_state", "in", ("sending", "exported")),
                    ("id", "!=", move.id),
                ],
                limit=1,
            )
        )

    def _move_division(self, move):
        division = move.exact_division_id
        if division and division.active:
            return division
        return self.env["exact.division"]._for_move(move)

    def _move_preflight(self, move):
        """(ok, message, hint) for the send wizard: no API call, nothing written."""
        _ = self.env._
        if move.exact_state in ("sending", "exported"):
            return (
                True,
                _("Already in Exact") if move.exact_state == "exported" else _("Being sent"),
                "",
            )
        division = self._move_division(move)
        if not division:
            return (
                False,
                _(
                    "No active Exact administration covers journal %(journal)s of %(company)s.",
                    journal=move.journal_id.display_name,
                    company=move.company_id.display_name,
                ),
                _("Create an Exact administration for this company or add the journal to one."),
            )
        try:
            plan = self._move_plan(division, move)
        except PreflightError as error:
            return False, error.message, error.hint
        except WaitForOrigin as wait:
            return True, wait.message, ""
        if plan["skip"]:
            return True, _("Null invoice: will be skipped (policy of the administration)"), ""
        return True, _("Ready for %(division)s", division=division.display_name), ""

    def _functional_hint(self, error):
        """What to do about Exact's refusal, in plain translatable words naming what to
        fix in Odoo (one sentence per problem Exact listed)."""
        _ = self.env._
        mappings = _("Configuration > Exact Online > Mappings")
        administrations = _("Configuration > Exact Online > Administrations")
        topics = {
            "payment_condition": _(
                "Map the invoice's payment term to an Exact payment condition in %(menu)s "
                "> Payment Terms, or set a default payment condition on the administration.",
                menu=mappings,
            ),
            "vat_code": _(
                "Map every tax of the invoice to an Exact VAT code that exists in Exact, in "
                "%(menu)s > Taxes (use Refresh from Exact on the administration first).",
                menu=mappings,
            ),
            "journal": _(
                "Choose the Exact sales journal of the administration in %(menu)s.",
                menu=administrations,
            ),
            "gl_account": _(
                "Map the income accounts of the invoice lines to Exact GL accounts that "
                "exist in Exact, in %(menu)s > Accounts.",
                menu=mappings,
            ),
            "gl_account_type": _(
                "A line is booked on an Exact GL account that is not a revenue account: map "
                "the income account to a revenue GL account in %(menu)s > Accounts.",
                menu=mappings,
            ),
            "customer": _(
                "The customer is not a customer in Exact (or was deleted there): open the "
                "customer in Odoo and use Send to Exact, then send the invoice again."
            ),
            "currency": _("Activate the invoice's currency in Exact Online."),
            "vat_percentage": _(
                "Map the tax to an Exact VAT code with the same percentage in %(menu)s > Taxes.",
                menu=mappings,
            ),
            "document": _("Use Retry PDF on the invoice."),
        }
        partner_topics = {"name", "country", "email", "vat_number", "account_code"}
        hints = []
        for item in error.items:
            if item.kind == "entry_number_in_use":
                hint = _(
                    "The entry number is already used in Exact's sales journal. Check in "
                    "Exact whether this invoice is there already; if not, set the "
                    'administration\'s entry number to "Let Exact number" in %(menu)s.',
                    menu=administrations,
                )
            elif item.kind == "period_closed":
                hint = _(
                    "The accounting period of the invoice date is closed in Exact: ask your "
                    "accountant to reopen it in Exact."
                )
            elif item.kind == "already_exists":
                hint = _(
                    "Exact already holds this record: look it up in Exact before sending "
                    "it again."
                )
            elif item.kind == "unknown" and re.search(r"fiscal year|boekjaar", item.text, re.I):
                hint = _(
                    "Exact has no financial year for the invoice date: create it in Exact."
                )
            elif item.topic in topics:
                hint = topics[item.topic]
            elif item.topic in partner_topics or item.kind in ("mandatory", "invalid"):
                hint = _(
                    "Correct %(field)s in Odoo (on the customer or the invoice).",
                    field=f'"{item.field}"' if item.field else _("the value Exact names"),
                )
            else:
                hint = _("Correct what Exact's message names.")
            if hint not in hints:
                hints.append(hint)
        hints.append(_("Then click Retry."))
        return "\n".join(hints)

    def _set_move_error(self, move, message, hint=""):
        move.write(
            {
                "exact_state": "error",
                "exact_error": message,
                "exact_error_hint": hint or False,
                "exact_last_attempt": fields.Datetime.now(),
            }
        )

    def _set_move_exported(self, session, move, record):
        # Chatter notes are posted with sudo(): a user without an e-mail address may
        # send invoices, and message_post refuses an author without one otherwise.
        number = record.get("EntryNumber")
        move.write(
            {
                "exact_state": "exported",
                "exact_entry_number": str(number) if number is not None else False,
                "exact_error": False,
                "exact_error_hint": False,
                "exact_last_attempt": fields.Datetime.now(),
                "exact_pdf_state": "pending" if session.division.attach_pdf else False,
            }
        )
        move.sudo().message_post(
            body=self.env._(
                "Sent to Exact Online (%(division)s): entry %(number)s.",
                division=session.division.display_name,
                number=number if number is not None else "-",
            )
        )

    @api.model
    def _export_moves(self, moves):
        """Export invoices that are ``pending`` or ``sending``; returns counts.

        Called by the cron (per administration) and by "Send now". Records that need
        no export or are held by another worker are left as they are.
        """
        counts = Counter()
        by_division = {}
        for move in moves.exists().sorted("id"):
            if move.exact_state not in CLAIMABLE_STATES:
                continue
            division = self._move_division(move)
            if not division:
                claimed = self._claim_moves(move)
                if claimed:
                    ok, message, hint = self._move_preflight(move)
                    self._set_move_error(move, message, hint)
                    self._exact_commit()
                    counts["error"] += 1
                continue
            if move.exact_division_id != division:
                move.exact_division_id = division
            by_division.setdefault(division, self.env["account.move"])
            by_division[division] |= move
        messages = []
        for division, division_moves in by_division.items():
            result = self._export_division_moves(division, division_moves)
            messages += [result.pop("_message")] if result.get("_message") else []
            counts.update(result)
        counts["_message"] = "\n".join(messages)
        return counts

    def _export_division_moves(self, division, moves, progress=False):
        with self._division_lock(division) as exporter:
            if exporter is None:
                return self._division_busy(division, len(moves))
            return exporter._export_division_moves_locked(division, moves, progress)

    def _export_division_moves_locked(self, division, moves, progress=False):
        division = division.with_company(division.company_id)
        counts = Counter()
        session = ExportSession(division)
        done, total = 0, len(moves)
        try:
            for move in moves:
                self._check_quota(session)
                outcome = self._export_one_move(session, move)
                counts[outcome] += 1
                done += 1
                if progress:
                    self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
                self._checkpoint(session)
        except StopBatch as stop:
            session.stopped = stop
            counts["stopped"] += 1
            if stop.retry_at:
                self._trigger_cron(stop.retry_at)
        self._checkpoint(session)
        counts["_message"] = session.stopped.message if session.stopped else ""
        return counts

    def _export_one_move(self, session, move):
        """One invoice through the state machine; returns the outcome's name.

        Raises StopBatch when the administration's batch must stop.
        """
        move.invalidate_recordset()
        if move.exact_state not in CLAIMABLE_STATES:
            return "ignored"
        with session.for_record(move):
            try:
                return self._export_one_move_inner(session, move)
            except RecordBusy:
                return "busy"
            except WaitForOrigin as wait:
                # stays "pending": the cron sends it after its original
                move.write(
                    {
                        "exact_error": wait.message,
                        "exact_error_hint": False,
                        "exact_last_attempt": fields.Datetime.now(),
                    }
                )
                self._checkpoint(session)
                return "pending"
            except PreflightError as error:
                claimed = self._claim_moves(move)
                if claimed:
                    self._set_move_error(move, error.message, error.hint)
                    self._checkpoint(session)
                return "error"
            except exact.FunctionalError as error:
                self._set_move_error(move, error.exact_message, self._functional_hint(error))
                self._checkpoint(session)
                return "error"
            except exact.PayloadError as error:
                self._set_move_error(
                    move, str(error), self.env._("Correct the invoice or the mappings, then retry.")
                )
                self._checkpoint(session)
                return "error"
            except exact.ExactError as error:
                stop = self._stop_for(session, error)
                move.write(
                    {
                        "exact_error": error.message,
                        "exact_error_hint": False,
                        "exact_last_attempt": fields.Datetime.now(),
                    }
                )
                self._checkpoint(session)
                if stop:
                    raise stop from None
                # transient (timeout, 5xx, connection): the state stays, the cron retries
                _logger.info("Exact export of %s postponed: %s", move.name, error.message)
                return "pending"
            except psycopg2.OperationalError:
                # a lock or serialization conflict with another worker: the state as
                # committed stays, the next run takes the invoice again
                self._exact_rollback()
                return "busy"
            except Exception as error:  # noqa: BLE001 - one invoice must not stop the batch
                _logger.exception("Exact export of invoice %s failed", move.id)
                self._exact_rollback()
                if self._claim_moves(move, states=("pending", "sending", "error")):
                    values = {
                        "exact_error": self._unexpected_message(error),
                        "exact_error_hint": self.env._(
                            "Correct what the message says and click Retry. If it is not "
                            "clear, give the message to your Odoo administrator."
                        ),
                        "exact_last_attempt": fields.Datetime.now(),
                    }
                    # "sending" stays: the POST may have landed, the next attempt looks
                    # the entry up by its EntryID before it posts again
                    if move.exact_state != "sending":
                        values["exact_state"] = "error"
                    move.write(values)
                self._checkpoint(session)
                return "error"

    def _export_one_move_inner(self, session, move):
        division = session.division
        client, code = session.client, session.code
        # 1. An earlier POST may have landed: look the entry up before anything else.
        if move.exact_state == "sending" and move.exact_entry_id:
            if not self._claim_moves(move):
                raise RecordBusy()
            found = client.get_one(
                code, "salesentry/SalesEntries", move.exact_entry_id, select="EntryID,EntryNumber"
            )
            if found:
                self._set_move_exported(session, move, found)
                self._checkpoint(session)
                self._export_move_pdf(session, move)
                return "exported"
        # 2. Pre-flight (no API call).
        plan = self._move_plan(division, move)
        if plan["skip"]:
            if self._claim_moves(move):
                move.write(
                    {
                        "exact_state": "skipped",
                        "exact_error": False,
                        "exact_error_hint": False,
                        "exact_last_attempt": fields.Datetime.now(),
                    }
                )
                self._checkpoint(session)
            return "skipped"
        # 3. The customer (and contacts) first; commits its own progress.
        customer = self._ensure_customer(
            session, move.commercial_partner_id, self._main_contact(move)
        )
        # 4. Claim, choose the EntryID, commit ``sending`` before the POST.
        if not self._claim_moves(move):
            raise RecordBusy()
        if move.exact_state == "sending" and move.exact_entry_id:
            entry_id = move.exact_entry_id
        else:
            entry_id = str(uuid.uuid4())
        move.write(
            {
                "exact_state": "sending",
                "exact_entry_id": entry_id,
                # the number asked for, so no other invoice is sent with it meanwhile
                "exact_entry_number": str(plan["entry_number"])
                if plan["entry_number"] is not None
                else False,
                "exact_last_attempt": fields.Datetime.now(),
            }
        )
        self._checkpoint(session)
        # The commit released the lock: take it again, on the condition that nobody
        # else changed the invoice in between (else that worker owns it now).
        if not self._lock_rows(
            move, SQL("exact_state = 'sending' AND exact_entry_id = %s", entry_id)
        ):
            raise RecordBusy()
        data = exact.InvoiceData(
            entry_id=entry_id,
            journal_code=plan["journal_code"],
            customer_guid=customer.exact_guid,
            entry_date=plan["entry_date"],
            number=plan["number"],
            description=plan["description"],
            currency=plan["currency"],
            lines=plan["lines"],
            due_date=plan["due_date"],
            rate=plan["rate"],
            payment_condition=plan["payment_condition"],
            entry_number=plan["entry_number"],
            is_refund=plan["is_refund"],
            decimals=plan["decimals"],
            amount_untaxed=plan["amount_untaxed"],
            amount_tax=plan["amount_tax"],
        )
        payload = exact.sales_entry_payload(data)
        # 5. POST; an ambiguous failure leaves ``sending`` (handled by the caller).
        record = client.post(code, "salesentry/SalesEntries", payload)
        self._set_move_exported(session, move, record or {"EntryID": entry_id})
        self._checkpoint(session)
        # 6. The PDF, on its own: a failure never touches the entry.
        self._export_move_pdf(session, move)
        return "exported"

    # ------------------------------------------------------------------ PDF

    def _move_pdf(self, move):
        """(content, filename) of the invoice's document, or raise UserError.

        The PDF Odoo already stored for the invoice is used when there is one;
        otherwise the invoice report is rendered. Without wkhtmltopdf Odoo renders
        HTML instead (always so under tests): that is attached as an .html file.
        """
        attachment = move.invoice_pdf_report_id or move.message_main_attachment_id
        if attachment and attachment.raw:
            return attachment.raw, attachment.name or f"{move.name}.pdf"
        content, report_type = (
            self.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf("account.account_invoices", move.ids)
        )
        base = (move.name or "invoice").replace("/", "_")
        if isinstance(content, str):
            content = content.encode()
        return content, f"{base}.{'pdf' if report_type == 'pdf' else 'html'}"

    def _export_move_pdf(self, session, move):
        if not session.division.attach_pdf or move.exact_state != "exported":
            return
        if move.exact_pdf_state not in ("pending", "error"):
            return
        client, code = session.client, session.code
        customer = self._partner_link(move.commercial_partner_id, session.division, "account")
        try:
            try:
                content, filename = self._move_pdf(move)
            except UserError as error:
                raise exact.PayloadError(
                    self.env._("Odoo could not make the invoice's PDF: %(error)s", error=error)
                ) from None
            attachment = exact.attachment_payload(
                move.exact_document_guid or str(uuid.uuid4()), filename, content
            )
            if not move.exact_document_guid:
                found = []
                if move.exact_pdf_state == "error":
                    found = client.get(
                        code,
                        "documents/Documents",
                        filter="FinancialTransactionEntryID eq "
                        + exact.guid_literal(move.exact_entry_id),
                        select="ID",
                    )
                if found:
                    guid = found[0]["ID"]
                else:
                    document = client.post(
                        code,
                        "documents/Documents",
                        exact.document_payload(
                            move.name,
                            customer.exact_guid,
                            move.invoice_date or move.date,
                            entry_id=move.exact_entry_id,
                        ),
                    )
                    guid = document.get("ID")
                move.write({"exact_document_guid": guid})
                self._checkpoint(session)
            else:
                existing = client.get(
                    code,
                    "documents/DocumentAttachments",
                    filter="Document eq " + exact.guid_literal(move.exact_document_guid),
                    select="ID",
                )
                if existing:
                    move.write({"exact_pdf_state": "done", "exact_pdf_error": False})
                    self._checkpoint(session)
                    return
            attachment["Document"] = move.exact_document_guid
            client.post(code, "documents/DocumentAttachments", attachment)
            move.write({"exact_pdf_state": "done", "exact_pdf_error": False})
        except exact.TransientError as error:
            # an outage: the cron tries the PDF again by itself (the entry is not touched)
            move.write({"exact_pdf_state": "pending", "exact_pdf_error": str(error)})
        except (exact.FunctionalError, exact.NotFound, exact.PayloadError) as error:
            # refused: waits for "Retry PDF", so the same refusal is not repeated every
            # run (Exact blocks an app after 10 errors per endpoint and hour)
            move.write({"exact_pdf_state": "error", "exact_pdf_error": str(error)})
        self._checkpoint(session)

    # ================================================================== cron

    def _division_backlog_domain(self, division):
        """Invoices of the administration that should be in Exact but were never marked
        (e.g. posted before the administration was configured)."""
        domain = [
            ("company_id", "=", division.company_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("exact_state", "=", False),
            ("state", "in", ("posted", "cancel")),
            ("name", "not in", (False, "/")),
        ]
        if division.export_from_date:
            domain.append(("invoice_date", ">=", division.export_from_date))
        if division.journal_ids:
            domain.append(("journal_id", "in", division.journal_ids.ids))
        else:
            domain.append(("journal_id.type", "=", "sale"))
        return domain

    @api.model
    def _cron_export(self, batch_size=50):
        """Customers first, then invoices, then PDFs, per administration in small
        committed batches; progress is reported to the cron runner."""
        divisions = self.env["exact.division"].sudo().search([])
        remaining = 0
        done = 0
        for division in divisions:
            if division.connection_id.state != "connected":
                continue
            division = division.with_company(division.company_id)
            try:
                with self._division_lock(division) as exporter:
                    if exporter is None:
                        # another worker has it: come back in a minute rather than spin,
                        # in case that worker is a "Send now" that leaves the rest queued
                        self._trigger_cron(time.time() + 60)
                        continue
                    division_done, division_remaining = exporter._cron_export_division(
                        division, batch_size
                    )
            except Exception:  # noqa: BLE001 - one administration must not stop the others
                # per record, errors are stored on the record; this is what is left
                # (an unreadable configuration, a database error): log, undo, go on
                _logger.exception(
                    "Exact export of administration %s failed", division.division_code
                )
                self._exact_rollback()
                continue
            done += division_done
            remaining += division_remaining
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    def _cron_export_division(self, division, batch_size):
        """One administration's share of the cron, its lock held; returns (done,
        remaining)."""
        Move = self.env["account.move"].sudo()
        done = remaining = 0
        # invoices nobody marked yet (posted before the administration existed...)
        backlog = Move.search(self._division_backlog_domain(division), limit=batch_size * 4)
        for move in backlog:
            if move.state == "cancel" and not self._is_null_invoice(move):
                continue
            if self.env["exact.division"]._for_move(move) == division:
                move.write({"exact_state": "pending", "exact_division_id": division.id})
        self._exact_commit()
        links = (
            self.env["exact.partner.link"]
            .sudo()
            .search(
                [
                    ("division_id", "=", division.id),
                    ("link_type", "=", "account"),
                    ("state", "=", "pending"),
                ],
                limit=batch_size,
            )
        )
        if links:
            result = self._export_partners(links.partner_id, division)
            done += len(links)
            if result.get("stopped"):
                # quota (the cron is triggered at the reset) or consent (a person must
                # act): nothing to do before that, so no work "left" for the runner
                return done, 0
        domain = [
            ("exact_division_id", "=", division.id),
            ("exact_state", "in", CLAIMABLE_STATES),
        ]
        moves = Move.search(domain, order="id", limit=batch_size)
        total = Move.search_count(domain)
        if moves:
            result = self._export_division_moves(division, moves, progress=True)
            done += len(moves)
            if result.get("stopped"):
                return done, 0  # see above: nothing to do before the reset or a person
            remaining += max(total - len(moves), 0)
        # PDFs still to send, or whose upload failed for a passing reason; a refused
        # one ("error") waits for "Retry PDF"
        pdf_moves = Move.search(
            [
                ("exact_division_id", "=", division.id),
                ("exact_state", "=", "exported"),
                ("exact_pdf_state", "=", "pending"),
            ],
            limit=batch_size,
        )
        if pdf_moves:
            session = ExportSession(division)
            for move in pdf_moves:
                with session.for_record(move):
                    try:
                        self._export_move_pdf(session, move)
                    except exact.ExactError as error:
                        if self._stop_for(session, error):
                            break
                    except Exception as error:  # noqa: BLE001 - the next PDF goes on
                        _logger.exception("Exact PDF of invoice %s failed", move.id)
                        self._exact_rollback()
                        move.write(
                            {
                                "exact_pdf_state": "error",
                                "exact_pdf_error": self._unexpected_message(error),
                            }
                        )
                        self._checkpoint(session)
            self._checkpoint(session)
        return done, remaining
