"""Exact's business rules: validation, defaults and computed fields per entity.

Records are stored as plain JSON values (dates as ISO text of the Amsterdam wall
clock, GUIDs lower-case, account codes padded to 18). ``view`` derives what Exact
adds on reading (names of referenced records, padded codes, ``IsSales``...).
Business-rule failures raise ``ODataError(500, [...])`` with every problem found.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from . import entities as E
from .messages import Messages
from .odata import (
    ODataError,
    is_guid,
    iso,
    money,
    norm_guid,
    parse_input_datetime,
    to_decimal,
)
from .table import Table

STREAM = "Error processing request stream."
_EDM_NAMES = {
    E.G: "Guid",
    E.I32: "Int32",
    E.I16: "Int16",
    E.DBL: "Double",
    E.B: "Boolean",
    E.DT: "DateTime",
    E.D: "DateTime",
    "Edm.Binary": "Byte[]",
    E.S: "String",
}
SALES_JOURNAL_TYPES = (20, 21)
REVENUE = 110
DOCUMENT_TYPES = {
    10: ("Verkoopfactuur", "Sales invoice"),
    20: ("Inkoopfactuur", "Purchase invoice"),
    55: ("Overig", "Miscellaneous"),
    183: ("Algemene bijlage", "General attachment"),
}
GL_TYPES = {
    110: "Revenue",
    20: "Accounts receivable",
    24: "VAT",
    12: "Bank",
    10: "Cash",
    90: "General",
}
JOURNAL_TYPES = {
    10: "Cash",
    12: "Bank",
    16: "Payment service",
    20: "Sales",
    21: "Return invoice",
    22: "Purchase",
    23: "Received return invoice",
    90: "General journal",
}


@dataclass
class Ctx:
    msgs: Messages
    now: datetime  # Amsterdam wall clock, naive
    refuse_zero_entries: bool = False


def new_guid() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------- body coercion


def _convert_error(prop: str, edm: str) -> ODataError:
    return ODataError(
        400,
        f"{STREAM} Error encountered in converting the value from request "
        f"payload for property '{prop}' to type '{_EDM_NAMES.get(edm, edm)}'",
    )


def _coerce(prop: str, edm: str, value):
    if value is None:
        return None
    try:
        if edm == E.S:
            if isinstance(value, (dict, list, bool)):
                raise ValueError
            return str(value)
        if edm == E.G:
            if not is_guid(value):
                raise ValueError
            return norm_guid(value)
        if edm in (E.I32, E.I16):
            d = to_decimal(value)
            if d != d.to_integral_value():
                raise ValueError
            n = int(d)
            limit = 2**31 if edm == E.I32 else 2**15
            if not -limit <= n < limit:
                raise ValueError
            return n
        if edm == E.DBL:
            return float(to_decimal(value))
        if edm == E.B:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError
        if edm in (E.DT, E.D):
            return iso(parse_input_datetime(value, date_only=edm == E.D))
        if edm == "Edm.Binary":
            if not isinstance(value, str):
                raise ValueError
            raw = base64.b64decode(value.encode("ascii"), validate=True)
            return base64.b64encode(raw).decode("ascii")
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise _convert_error(prop, edm) from None
    return value


def coerce_body(entity: E.Entity, body, method: str) -> dict:
    """Check a POST/PUT body like Exact's OData reader: a JSON object, known properties,
    convertible values. Read-only properties are dropped (Exact ignores them)."""
    if not isinstance(body, dict):
        raise ODataError(400, f"{STREAM} The request should be a valid top-level resource object.")
    out = {}
    for prop, value in body.items():
        if prop == "__metadata":
            continue
        spec = entity.props.get(prop)
        if spec is None:
            raise ODataError(
                400,
                f"{STREAM} The property '{prop}' does not exist on type "
                f"'{entity.metadata_type}'. Make sure to only use property "
                "names that are defined by the type.",
            )
        edm, mode = spec
        if mode == "r" or (mode == "p" and method == "PUT"):
            continue
        if edm == "Nav":
            child = E.BY_NAME[entity.navigation[prop]]
            if isinstance(value, dict) and "results" in value:
                value = value["results"]
            if value is None:
                value = []
            if not isinstance(value, list):
                raise ODataError(
                    400, f"{STREAM} The request should be a valid top-level resource object."
                )
            out[prop] = [coerce_body(child, item, "POST") for item in value]
            continue
        out[prop] = _coerce(prop, edm, value)
    return out


# ---------------------------------------------------------------- helpers


def pad_code(code: str) -> str:
    return code.strip().rjust(18)


def pad3(code):
    return None if code is None else str(code).rstrip().ljust(3)


def table(div: dict, name: str) -> Table:
    """The stored table of an entity, as an indexed ``Table`` (plain dicts, e.g. from a
    state file or a seed, are converted on first use)."""
    tables = div["tables"]
    tbl = tables.get(name)
    if not isinstance(tbl, Table):
        entity = E.BY_NAME.get(name)
        tbl = Table(tbl or {}, entity.indexed if entity else ())
        tables[name] = tbl
    return tbl


def find_by_code(div: dict, name: str, code) -> dict | None:
    if code is None:
        return None
    want = str(code).strip().upper()
    found = [
        rec
        for rec in table(div, name).lookup_records("Code", want)
        if str(rec.get("Code") or "").strip().upper() == want
    ]
    return min(found, key=lambda rec: str(rec.get("ID"))) if found else None


def _numeric_code(value):
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _d(value) -> Decimal:
    return Decimal(str(value or 0))


def _stamp(ctx: Ctx, rec: dict, created: bool) -> None:
    now = iso(ctx.now)
    if created:
        rec["Created"] = now
    rec["Modified"] = now


def _raise(errors: list[str]) -> None:
    if errors:
        raise ODataError(500, errors)


# ---------------------------------------------------------------- accounts


def _account_rules(ctx, div, rec, key, errors):
    m = ctx.msgs
    if not (rec.get("Name") or "").strip():
        errors.append(m.mandatory("Name"))
    code = rec.get("Code")
    if code is not None and code.strip():
        raw = code.strip()
        if not raw.isdigit() or len(raw) > 18:
            errors.append(m.invalid("Code"))
        else:
            rec["Code"] = pad_code(raw)
            for other in table(div, "Accounts").lookup_records("Code", rec["Code"]):
                if other.get("ID") != key and other.get("Code") == rec["Code"]:
                    errors.append(m.text("already_exists"))
                    break
    else:
        highest = table(div, "Accounts").max_of("Code", _numeric_code)
        rec["Code"] = pad_code(str((highest or 0) + 1))
    if rec.get("Status") is not None:
        rec["Status"] = rec["Status"].strip().upper() or None
        if rec["Status"] not in (None, "A", "S", "P", "C"):
            errors.append(m.invalid("Status"))
    if rec.get("Country"):
        rec["Country"] = rec["Country"].strip().upper()
    pc = rec.get("PaymentConditionSales")
    if pc and not find_by_code(div, "PaymentConditions", pc):
        errors.append(m.invalid_reference("PaymentCondition"))
    if rec.get("MainContact"):
        contact = table(div, "Contacts").get(rec["MainContact"])
        if not contact or contact.get("Account") != key:
            errors.append(m.invalid_reference("MainContact"))


def _contact_rules(ctx, div, rec, key, errors):
    m = ctx.msgs
    acc = rec.get("Account")
    if not acc:
        errors.append(m.mandatory("Account"))
    elif acc not in table(div, "Accounts"):
        errors.append(m.invalid_reference("Account"))
    if not (rec.get("FirstName") or "").strip() and not (rec.get("LastName") or "").strip():
        errors.append(m.mandatory("LastName"))


def _code_description_rules(name):
    def check(ctx, div, rec, key, errors):
        m = ctx.msgs
        if not (rec.get("Code") or "").strip():
            errors.append(m.mandatory("Code"))
        else:
            rec["Code"] = rec["Code"].strip()
            other = find_by_code(div, name, rec["Code"])
            if other is not None and other.get("ID") != key:
                errors.append(m.text("already_exists"))
        if not (rec.get("Description") or "").strip():
            errors.append(m.mandatory("Description"))

    return check


def _document_rules(ctx, div, rec, key, errors):
    m = ctx.msgs
    if not (rec.get("Subject") or "").strip():
        errors.append(m.mandatory("Subject"))
    if rec.get("Type") is None:
        errors.append(m.mandatory("Type"))
    elif rec["Type"] not in DOCUMENT_TYPES:
        errors.append(m.invalid_reference("Type"))
    if rec.get("Account") and rec["Account"] not in table(div, "Accounts"):
        errors.append(m.invalid_reference("Account"))
    fte = rec.get("FinancialTransactionEntryID")
    if fte and fte not in table(div, "SalesEntries"):
        errors.append(m.invalid_reference("Entry"))
    if rec.get("HID") is None:
        div["seq"]["HID"] = div["seq"].get("HID", 0) + 1
        rec["HID"] = div["seq"]["HID"]


def _attachment_rules(ctx, div, rec, key, errors):
    m = ctx.msgs
    if not rec.get("Document"):
        errors.append(m.mandatory("Document"))
    elif rec["Document"] not in table(div, "Documents"):
        errors.append(m.invalid_reference("Document"))
    if not (rec.get("FileName") or "").strip():
        errors.append(m.mandatory("FileName"))
    if rec.get("Attachment") is None:
        errors.append(m.mandatory("Attachment"))
    else:
        rec["FileSize"] = float(len(base64.b64decode(rec["Attachment"])))


SIMPLE_RULES = {
    "Accounts": _account_rules,
    "Contacts": _contact_rules,
    "GLAccounts": _code_description_rules("GLAccounts"),
    "Journals": _code_description_rules("Journals"),
    "VATCodes": _code_description_rules("VATCodes"),
    "PaymentConditions": _code_description_rules("PaymentConditions"),
    "Documents": _document_rules,
    "DocumentAttachments": _attachment_rules,
}


# ---------------------------------------------------------------- sales entries


def _entry_date(rec) -> datetime:
    return datetime.fromisoformat(rec["EntryDate"])


def _add_months(d: date, months: int) -> date:
    y, mo = divmod(d.month - 1 + months, 12)
    y += d.year
    mo += 1
    return date(y, mo, calendar.monthrange(y, mo)[1])


def _header_rules(ctx, div, rec, key, errors, creating):
    """Check/complete a sales entry header (not its lines)."""
    m = ctx.msgs
    cust = rec.get("Customer")
    if not cust:
        errors.append(m.mandatory("Customer"))
    else:
        acc = table(div, "Accounts").get(cust)
        if acc is None:
            errors.append(m.invalid_reference("Customer"))
        elif acc.get("Status") != "C":
            errors.append(m.invalid("CustomerType"))
    journal = rec.get("Journal")
    if creating:
        if journal is None or not str(journal).strip():
            errors.append(m.mandatory("Journal"))
        elif is_guid(str(journal).strip()):
            errors.append(m.invalid_reference("Journals"))
        else:
            j = find_by_code(div, "Journals", journal)
            if j is None:
                errors.append(m.invalid_reference("Journal"))
            elif j.get("Type") not in SALES_JOURNAL_TYPES:
                errors.append(m.invalid("JournalType"))
            else:
                rec["Journal"] = j["Code"]
    if not rec.get("EntryDate"):
        rec["EntryDate"] = iso(datetime.combine(ctx.now.date(), datetime.min.time()))
    edate = _entry_date(rec)
    if rec.get("ReportingYear") is None:
        rec["ReportingYear"] = edate.year
    if rec.get("ReportingPeriod") is None:
        rec["ReportingPeriod"] = edate.month
    first, last = div.get("fiscal_years", [2000, 2099])
    if not (first <= rec["ReportingYear"] <= last) or not 1 <= rec["ReportingPeriod"] <= 12:
        errors.append(m.text("unknown_fiscal_year"))
    else:
        closed = div.get("closed_before")
        if closed and date(rec["ReportingYear"], rec["ReportingPeriod"], 1) < date.fromisoformat(
            closed
        ):
            errors.append(m.text("period_closed", rec["ReportingYear"], rec["ReportingPeriod"]))
    pc_code = rec.get("PaymentCondition")
    if not pc_code:
        acc = table(div, "Accounts").get(cust or "") or {}
        pc_code = acc.get("PaymentConditionSales") or div.get("default_payment_condition")
    pc = None
    if not pc_code:
        errors.append(m.mandatory("PaymentCondition"))
    else:
        pc = find_by_code(div, "PaymentConditions", pc_code)
        if pc is None:
            errors.append(m.invalid_reference("PaymentCondition"))
        else:
            rec["PaymentCondition"] = pc["Code"]
    if rec.get("DueDate") is None and pc is not None:
        due = edate.date() + timedelta(days=pc.get("PaymentDays") or 0)
        if pc.get("PaymentEndOfMonths"):
            due = _add_months(due, pc["PaymentEndOfMonths"] - 1)
        rec["DueDate"] = iso(datetime.combine(due, datetime.min.time()))
    if rec.get("Document") and rec["Document"] not in table(div, "Documents"):
        errors.append(m.invalid_reference("Document"))
    rec["Currency"] = (rec.get("Currency") or "EUR").strip().upper()
    if rec.get("Rate") is None:
        rec["Rate"] = 1.0
    elif rec["Rate"] <= 0:
        errors.append(m.invalid("Rate"))
    if rec.get("EntryNumber") is not None and rec.get("Journal"):
        for other in table(div, "SalesEntries").lookup_records("EntryNumber", rec["EntryNumber"]):
            if (
                other.get("EntryID") != key
                and other.get("Journal") == rec["Journal"]
                and other.get("EntryNumber") == rec["EntryNumber"]
            ):
                errors.append(m.text("in_use", m.label("EntryNumber")))
                break


def _next_entry_number(div, journal: str, year: int) -> int:
    highest = table(div, "SalesEntries").max_of(
        "EntryNumber", _int_or_none, group=("Journal", journal)
    )
    if highest is not None:
        return highest + 1
    prefix = f"{year % 100:02d}{journal}" if journal.isdigit() else ""
    return int(f"{prefix}0001") if prefix else 1


def _line_rules(ctx, div, line, errors, seen: set):
    m = ctx.msgs

    def once(text):
        if text not in seen:
            seen.add(text)
            errors.append(text)

    gl_id = line.get("GLAccount")
    gl = None
    if not gl_id:
        once(m.mandatory("GLAccount"))
    else:
        gl = table(div, "GLAccounts").get(gl_id)
        if gl is None:
            once(m.invalid_reference("GLAccount"))
        elif gl.get("Type") != REVENUE:
            once(m.invalid("GLAccountType"))
    if line.get("AmountFC") is None:
        once(m.mandatory("Amount"))
    code = line.get("VATCode")
    if code is None and gl is not None:
        code = gl.get("VATCode")
    if code is not None and str(code).strip():
        vat = find_by_code(div, "VATCodes", code)
        if vat is None:
            once(m.invalid_reference("VATCode"))
        elif vat.get("IsBlocked") or vat.get("VATTransactionType") == "P":
            once(m.invalid("VATCode"))
        else:
            line["VATCode"] = vat["Code"]
            line["VATPercentage"] = vat.get("Percentage") or 0.0
    else:
        line["VATCode"] = None


def _compute(div, entry: dict, lines: list[dict]) -> None:
    rate = _d(entry.get("Rate") or 1)
    total_fc = total_vat = Decimal(0)
    for n, line in enumerate(lines, start=1):
        amount = _d(line.get("AmountFC"))
        if line.get("VATAmountFC") is None:
            pct = _d(line.get("VATPercentage")) if line.get("VATCode") else Decimal(0)
            line["VATAmountFC"] = money(amount * pct)
        if line.get("VATBaseAmountFC") is None:
            line["VATBaseAmountFC"] = money(amount)
        line["AmountFC"] = money(amount)
        line["AmountDC"] = money(amount * rate)
        line["VATAmountDC"] = money(_d(line["VATAmountFC"]) * rate)
        line["VATBaseAmountDC"] = money(_d(line["VATBaseAmountFC"]) * rate)
        line["LineNumber"] = n
        total_fc += amount + _d(line["VATAmountFC"])
        total_vat += _d(line["VATAmountFC"])
    entry["AmountFC"] = money(total_fc)
    entry["AmountDC"] = money(total_fc * rate)
    entry["VATAmountFC"] = money(total_vat)
    entry["VATAmountDC"] = money(total_vat * rate)
    entry["Type"] = 21 if total_fc < 0 else 20
    entry["Status"] = entry.get("Status") or 20
    for line in lines:
        line["Type"] = entry["Type"]


def entry_lines(div: dict, entry_id: str) -> list[dict]:
    lines = [
        r
        for r in table(div, "SalesEntryLines").lookup_records("EntryID", entry_id)
        if r.get("EntryID") == entry_id
    ]
    return sorted(lines, key=lambda r: r.get("LineNumber") or 0)


def _check_zero(ctx, entry, errors):
    if ctx.refuse_zero_entries and _d(entry["AmountFC"]) == 0:
        errors.append(ctx.msgs.invalid("Amount"))


def _create_entry(ctx, div, clean: dict) -> str:
    m = ctx.msgs
    key = clean.get("EntryID") or new_guid()
    errors: list[str] = []
    if key in table(div, "SalesEntries"):
        raise ODataError(500, m.text("already_exists"))
    lines_in = clean.pop("SalesEntryLines", None) or []
    rec = dict(clean)
    rec["EntryID"] = key
    _header_rules(ctx, div, rec, key, errors, creating=True)
    if not lines_in:
        errors.append(m.mandatory("Lines"))
    seen: set = set()
    lines = []
    for raw in lines_in:
        line = dict(raw)
        line.pop("EntryID", None)
        line["ID"] = line.get("ID") or new_guid()
        line["EntryID"] = key
        _line_rules(ctx, div, line, errors, seen)
        lines.append(line)
    _raise(errors)
    _compute(div, rec, lines)
    _check_zero(ctx, rec, errors)
    _raise(errors)
    if rec.get("EntryNumber") is None:
        rec["EntryNumber"] = _next_entry_number(div, rec["Journal"], rec["ReportingYear"])
    _stamp(ctx, rec, True)
    table(div, "SalesEntries")[key] = rec
    for line in lines:
        if line["ID"] in table(div, "SalesEntryLines"):
            raise ODataError(500, m.text("already_exists"))
    for line in lines:
        table(div, "SalesEntryLines")[line["ID"]] = line
    return key


def _recompute_entry(ctx, div, entry_id: str) -> None:
    entry = table(div, "SalesEntries").get(entry_id)
    if entry is None:
        return
    lines = entry_lines(div, entry_id)
    if not lines:  # deleting the last line deletes the entry
        del table(div, "SalesEntries")[entry_id]
        return
    _compute(div, entry, lines)
    _stamp(ctx, entry, False)


def _check_period_open(ctx, div, entry):
    closed = div.get("closed_before")
    if closed and date(entry["ReportingYear"], entry["ReportingPeriod"], 1) < date.fromisoformat(
        closed
    ):
        raise ODataError(
            500, ctx.msgs.text("period_closed", entry["ReportingYear"], entry["ReportingPeriod"])
        )


# ---------------------------------------------------------------- public API


def create(ctx: Ctx, div: dict, entity: E.Entity, clean: dict) -> str:
    if entity.name == "SalesEntries":
        return _create_entry(ctx, div, clean)
    if entity.name == "SalesEntryLines":
        m = ctx.msgs
        entry_id = clean.get("EntryID")
        if not entry_id:
            raise ODataError(500, m.mandatory("Entry"))
        entry = table(div, "SalesEntries").get(entry_id)
        if entry is None:
            raise ODataError(500, m.invalid_reference("Entry"))
        _check_period_open(ctx, div, entry)
        errors: list[str] = []
        line = dict(clean)
        line["ID"] = line.get("ID") or new_guid()
        if line["ID"] in table(div, "SalesEntryLines"):
            raise ODataError(500, m.text("already_exists"))
        _line_rules(ctx, div, line, errors, set())
        _raise(errors)
        line["LineNumber"] = len(entry_lines(div, entry_id)) + 1
        table(div, "SalesEntryLines")[line["ID"]] = line
        _recompute_entry(ctx, div, entry_id)
        return line["ID"]
    key = clean.get(entity.key) or new_guid()
    if key in table(div, entity.name):
        raise ODataError(500, ctx.msgs.text("already_exists"))
    rec = dict(clean)
    rec[entity.key] = key
    errors = []
    SIMPLE_RULES[entity.name](ctx, div, rec, key, errors)
    _raise(errors)
    _stamp(ctx, rec, True)
    table(div, entity.name)[key] = rec
    return key


def update(ctx: Ctx, div: dict, entity: E.Entity, key: str, clean: dict) -> None:
    tbl = table(div, entity.name)
    old = tbl[key]
    rec = dict(old)
    clean.pop("SalesEntryLines", None)
    rec.update(clean)
    errors: list[str] = []
    if entity.name == "SalesEntries":
        _check_period_open(ctx, div, old)
        if "EntryDate" in clean and "ReportingYear" not in clean:
            rec["ReportingYear"] = rec["ReportingPeriod"] = None
        if "PaymentCondition" in clean or "EntryDate" in clean:
            rec["DueDate"] = clean.get("DueDate")
        _header_rules(ctx, div, rec, key, errors, creating=False)
        _raise(errors)
        tbl[key] = rec
        _recompute_entry(ctx, div, key)
        return
    if entity.name == "SalesEntryLines":
        entry = table(div, "SalesEntries")[old["EntryID"]]
        _check_period_open(ctx, div, entry)
        if "AmountFC" in clean and "VATAmountFC" not in clean:
            rec["VATAmountFC"] = None
        if "AmountFC" in clean and "VATBaseAmountFC" not in clean:
            rec["VATBaseAmountFC"] = None
        if "VATCode" in clean and "VATAmountFC" not in clean:
            rec["VATAmountFC"] = None
        _line_rules(ctx, div, rec, errors, set())
        _raise(errors)
        tbl[key] = rec
        _recompute_entry(ctx, div, old["EntryID"])
        return
    if entity.name == "Accounts" and "Code" in clean and not (clean["Code"] or "").strip():
        rec["Code"] = old.get("Code")
    SIMPLE_RULES[entity.name](ctx, div, rec, key, errors)
    _raise(errors)
    _stamp(ctx, rec, False)
    tbl[key] = rec


def delete(ctx: Ctx, div: dict, entity: E.Entity, key: str) -> None:
    m = ctx.msgs
    tbl = table(div, entity.name)
    rec = tbl[key]
    if entity.name == "SalesEntries":
        _check_period_open(ctx, div, rec)
        for line in entry_lines(div, key):
            del table(div, "SalesEntryLines")[line["ID"]]
        del tbl[key]
        return
    if entity.name == "SalesEntryLines":
        entry = table(div, "SalesEntries").get(rec["EntryID"])
        if entry:
            _check_period_open(ctx, div, entry)
        del tbl[key]
        _recompute_entry(ctx, div, rec["EntryID"])
        return
    if entity.name == "Accounts":
        used = [
            e
            for e in table(div, "SalesEntries").lookup_records("Customer", key)
            if e.get("Customer") == key
        ]
        if used:
            raise ODataError(
                500,
                m.text(
                    "cannot_delete",
                    f"{m.label('Account')} {rec.get('Code', '').strip()}",
                    m.label("Entry"),
                ),
            )
        for c in table(div, "Contacts").lookup_records("Account", key):
            del table(div, "Contacts")[c["ID"]]
    if entity.name == "Documents":
        for a in table(div, "DocumentAttachments").lookup_records("Document", key):
            del table(div, "DocumentAttachments")[a["ID"]]
    del tbl[key]


def view(ctx: Ctx, div: dict, entity: E.Entity, rec: dict, lang_index: int = 0) -> dict:
    """All properties of a record as Python values (dates as naive datetimes), with
    Exact's derived fields filled in. Navigation properties are left out."""
    out = {}
    for prop, (edm, _mode) in entity.props.items():
        if edm == "Nav":
            continue
        value = rec.get(prop)
        if edm in (E.DT, E.D) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[prop] = value
    out["Division"] = div["Code"] if "Division" in entity.props else None
    tables = div["tables"]
    name = entity.name
    if name == "Accounts":
        out["Type"] = "A"
        out["IsSales"] = out.get("Status") == "C"
        out["IsPurchase"] = bool(out.get("IsSupplier"))
        out["Country"] = pad3(out.get("Country"))
        out["SalesVATCode"] = pad3(out.get("SalesVATCode"))
        pc = find_by_code(div, "PaymentConditions", out.get("PaymentConditionSales"))
        out["PaymentConditionSalesDescription"] = pc and pc.get("Description")
        if out["IsSupplier"] is None:
            out["IsSupplier"] = False
        if out["Blocked"] is None:
            out["Blocked"] = False
    elif name == "Contacts":
        acc = tables.get("Accounts", {}).get(out.get("Account") or "") or {}
        out["AccountName"] = acc.get("Name")
        out["AccountIsCustomer"] = acc.get("Status") == "C"
        out["IsMainContact"] = bool(acc) and acc.get("MainContact") == out["ID"]
        out["FullName"] = " ".join(
            p for p in (out.get("FirstName"), out.get("MiddleName"), out.get("LastName")) if p
        )
    elif name == "GLAccounts":
        out["TypeDescription"] = GL_TYPES.get(out.get("Type"))
        out["VATCode"] = pad3(out.get("VATCode"))
        out["IsBlocked"] = bool(out.get("IsBlocked"))
    elif name == "Journals":
        out["TypeDescription"] = JOURNAL_TYPES.get(out.get("Type"))
        out["IsBlocked"] = bool(out.get("IsBlocked"))
    elif name == "VATCodes":
        out["Code"] = pad3(out.get("Code"))
        out["IsBlocked"] = bool(out.get("IsBlocked"))
        out["Charged"] = bool(out.get("Charged"))
    elif name == "SalesEntries":
        acc = tables.get("Accounts", {}).get(out.get("Customer") or "") or {}
        out["CustomerName"] = acc.get("Name")
        j = find_by_code(div, "Journals", out.get("Journal"))
        out["JournalDescription"] = j and j.get("Description")
        pc = find_by_code(div, "PaymentConditions", out.get("PaymentCondition"))
        out["PaymentConditionDescription"] = pc and pc.get("Description")
        doc = tables.get("Documents", {}).get(out.get("Document") or "") or {}
        out["DocumentSubject"] = doc.get("Subject")
        out["TypeDescription"] = (
            ("Verkoopboeking", "Sales entry")
            if out.get("Type") == 20
            else ("Verkoopcreditnota", "Sales credit note")
        )[lang_index]
        out["StatusDescription"] = (
            ("Open", "Open")[lang_index]
            if out.get("Status") == 20
            else ("Verwerkt", "Processed")[lang_index]
        )
    elif name == "SalesEntryLines":
        gl = tables.get("GLAccounts", {}).get(out.get("GLAccount") or "") or {}
        out["GLAccountCode"] = gl.get("Code")
        out["GLAccountDescription"] = gl.get("Description")
        vat = find_by_code(div, "VATCodes", out.get("VATCode"))
        out["VATCodeDescription"] = vat and vat.get("Description")
        out["VATCode"] = pad3(out.get("VATCode"))
    elif name == "Documents":
        acc = tables.get("Accounts", {}).get(out.get("Account") or "") or {}
        out["AccountCode"] = acc.get("Code")
        out["AccountName"] = acc.get("Name")
        t = DOCUMENT_TYPES.get(out.get("Type"))
        out["TypeDescription"] = t and t[lang_index]
        out["HasEmptyBody"] = not out.get("Body")
    elif name == "DocumentAttachments":
        out["Url"] = f"/docs/SysAttachment.aspx?ID={out['ID']}"
    return out
