"""Pure functions from plain dataclasses to Exact JSON payloads (no I/O, no Odoo).

Amounts are Decimals here and become JSON numbers only at the very end, after rounding
to the currency's precision, so the lines sent always add up to the invoice totals.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .odata import format_date, pad_account_code, trim_code

INT32_MAX = 2_147_483_647
MAX_POST_BYTES = 10 * 1024 * 1024  # Exact refuses a POST above 10 MB (decoded binaries count)


class PayloadError(ValueError):
    """The data cannot become a valid Exact payload (a programming or data error)."""


class EntryNumberError(PayloadError):
    """An invoice name gives no usable Exact entry number; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _guid(value, what: str) -> str:
    try:
        return str(uuid.UUID(str(value).strip().strip("{}")))
    except (ValueError, AttributeError, TypeError):
        raise PayloadError(f"The {what} is not a GUID: {value!r}") from None


def _clean(payload: dict) -> dict:
    """Drop keys whose value is None or an empty string (Exact keeps its defaults)."""
    return {k: v for k, v in payload.items() if v is not None and v != ""}


# --- Accounts and contacts --------------------------------------------------------------


@dataclass
class AccountData:
    """A customer as Exact wants it; country is the 2-letter ISO code."""

    name: str
    code: str | None = None
    vat: str | None = None
    coc: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    street: str | None = None
    street2: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None
    language: str | None = None
    payment_condition: str | None = None
    search_code: str | None = None


@dataclass
class ContactData:
    """A contact person under an Exact Account (``account_guid``)."""

    account_guid: str
    name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    job_title: str | None = None
    language: str | None = None


def account_payload(data: AccountData, include_customer_status: bool = True) -> dict:
    """``crm/Accounts`` body. Code padded to 18; Status "C" makes it a customer.

    Without Code Exact assigns the next free number. Empty fields are left out.
    """
    name = (data.name or "").strip()
    if not name:
        raise PayloadError("An Exact account needs a name")
    payload = {
        "Name": name,
        "Code": pad_account_code(data.code) if data.code and str(data.code).strip() else None,
        "VATNumber": data.vat,
        "ChamberOfCommerce": data.coc,
        "Email": data.email,
        "Phone": data.phone,
        "Website": data.website,
        "AddressLine1": data.street,
        "AddressLine2": data.street2,
        "Postcode": data.zip,
        "City": data.city,
        "Country": trim_code(data.country).upper() or None,
        "Language": trim_code(data.language).upper() or None,
        "PaymentConditionSales": trim_code(data.payment_condition) or None,
        "SearchCode": data.search_code,
    }
    if include_customer_status:
        payload["Status"] = "C"
    return _clean(payload)


def _comparable(key: str, value):
    if isinstance(value, str):
        value = value.strip()
        if key in ("Country", "Language"):
            value = value.upper()
    return value if value not in ("", None) else None


def account_changes(old_payload: dict, new_payload: dict) -> dict:
    """The keys of ``new_payload`` whose value differs from ``old_payload`` (for a PUT).

    Exact's padding (18-character codes, 3-character countries) is ignored when comparing,
    so a record read back from Exact compares equal to the payload that created it.
    """
    changes = {}
    for key, value in new_payload.items():
        if _comparable(key, old_payload.get(key)) != _comparable(key, value):
            changes[key] = value
    return changes


_PARTICLES = {
    "van",
    "der",
    "den",
    "de",
    "het",
    "ter",
    "ten",
    "te",
    "'t",
    "in",
    "op",
    "aan",
    "bij",
    "uit",
    "onder",
    "over",
    "voor",
    "von",
    "zu",
    "vom",
    "le",
    "la",
    "les",
    "du",
    "des",
    "di",
    "da",
    "del",
    "della",
    "dos",
    "das",
    "v.d.",
    "v/d",
    "d'",
}


def split_person_name(name: str | None) -> tuple[str, str, str]:
    """Split a full name into (first, middle, last), Dutch style.

    "Jan van der Berg" -> ("Jan", "van der", "Berg"); "Anna Maria Jansen" ->
    ("Anna Maria", "", "Jansen"); a single word becomes the last name.
    """
    words = (name or "").split()
    if not words:
        return ("", "", "")
    if len(words) == 1:
        return ("", "", words[0])
    start = next((i for i in range(1, len(words)) if words[i].lower() in _PARTICLES), None)
    if start is None:
        return (" ".join(words[:-1]), "", words[-1])
    end = start
    while end < len(words) and words[end].lower() in _PARTICLES:
        end += 1
    if end == len(words):  # only particles after the first name: keep them as the last name
        return (" ".join(words[:start]), "", " ".join(words[start:]))
    return (" ".join(words[:start]), " ".join(words[start:end]), " ".join(words[end:]))


def contact_payload(data: ContactData) -> dict:
    """``crm/Contacts`` body; ``name`` is split when first and last name are not given."""
    first, middle, last = data.first_name, data.middle_name, data.last_name
    if not (first or last) and data.name:
        first, split_middle, last = split_person_name(data.name)
        middle = middle or split_middle
    if not ((first or "").strip() or (last or "").strip()):
        raise PayloadError("An Exact contact needs a first or a last name")
    return _clean(
        {
            "Account": _guid(data.account_guid, "contact's account"),
            "FirstName": first,
            "MiddleName": middle,
            "LastName": last,
            "Email": data.email,
            "Phone": data.phone,
            "Mobile": data.mobile,
            "JobTitleDescription": data.job_title,
            "Language": trim_code(data.language).upper() or None,
        }
    )


# --- Sales entries ------------------------------------------------------------------------


@dataclass
class InvoiceLineData:
    """One Odoo invoice line, already mapped: Exact GL account GUID and VAT code.

    Amounts are as printed on the document (positive on a normal credit note too).
    """

    gl_account_guid: str
    vat_code: str
    amount_untaxed: Decimal
    amount_tax: Decimal
    description: str = ""
    quantity: Decimal | float | None = None


@dataclass
class InvoiceData:
    """One posted invoice or credit note, ready to become a SalesEntry.

    ``entry_id`` is the GUID we choose before the first POST, so a retry after a timeout
    can look the entry up instead of creating a duplicate. ``amount_untaxed`` and
    ``amount_tax`` are the document's totals; when given, the lines are made to add up to
    them exactly (else to the rounded sum of the lines).
    """

    entry_id: str
    journal_code: str
    customer_guid: str
    entry_date: date
    number: str
    description: str
    currency: str
    lines: list[InvoiceLineData]
    due_date: date | None = None
    rate: Decimal | float | None = None
    payment_condition: str | None = None
    entry_number: int | None = None
    is_refund: bool = False
    decimals: int = 2
    document_guid: str | None = None
    amount_untaxed: Decimal | None = None
    amount_tax: Decimal | None = None
    extra: dict = field(default_factory=dict)


def _dec(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # 33.335 stays 33.335, not its binary neighbour
    return Decimal(str(value if value is not None else 0))


def _distribute(values: list[Decimal], total: Decimal, unit: Decimal) -> list[Decimal]:
    """Round each value to ``unit``; the last one absorbs the difference to ``total``."""
    rounded = [v.quantize(unit, rounding=ROUND_HALF_UP) for v in values]
    if rounded:
        rounded[-1] += total - sum(rounded, Decimal(0))
    return rounded


def _number(value: Decimal) -> float | int:
    return float(value)


def sales_entry_payload(data: InvoiceData) -> dict:
    """``salesentry/SalesEntries`` body with all lines (one call per invoice).

    Lines are grouped per (GL account, VAT code): AmountFC excludes VAT, VATAmountFC is
    the VAT. Sums are kept in Decimal and quantized (ROUND_HALF_UP) to ``decimals``; the
    last group absorbs the rounding so the lines add up exactly to the invoice totals.
    Refunds are sent with negative amounts. An invoice without lines is an error: use
    null_entry_lines() for a null invoice.
    """
    if not data.lines:
        raise PayloadError(
            f"Invoice {data.number} has no lines; a null invoice needs null_entry_lines()"
        )
    if not str(data.journal_code or "").strip():
        raise PayloadError("No Exact sales journal code")
    if not str(data.currency or "").strip():
        raise PayloadError(f"Invoice {data.number} has no currency")
    unit = Decimal(1).scaleb(-int(data.decimals))
    sign = Decimal(-1) if data.is_refund else Decimal(1)

    groups: dict[tuple[str, str], dict] = {}
    for line in data.lines:
        key = (_guid(line.gl_account_guid, "GL account"), trim_code(line.vat_code))
        group = groups.setdefault(
            key,
            {
                "untaxed": Decimal(0),
                "tax": Decimal(0),
                "descriptions": [],
                "quantity": Decimal(0),
                "has_quantity": True,
            },
        )
        group["untaxed"] += _dec(line.amount_untaxed)
        group["tax"] += _dec(line.amount_tax)
        if line.description and line.description not in group["descriptions"]:
            group["descriptions"].append(line.description)
        if line.quantity is None:
            group["has_quantity"] = False
        else:
            group["quantity"] += _dec(line.quantity)

    raw_untaxed = [g["untaxed"] for g in groups.values()]
    raw_tax = [g["tax"] for g in groups.values()]
    total_untaxed = (
        _dec(data.amount_untaxed)
        if data.amount_untaxed is not None
        else sum(raw_untaxed, Decimal(0))
    )
    total_tax = _dec(data.amount_tax) if data.amount_tax is not None else sum(raw_tax, Decimal(0))
    total_untaxed = total_untaxed.quantize(unit, rounding=ROUND_HALF_UP)
    total_tax = total_tax.quantize(unit, rounding=ROUND_HALF_UP)
    untaxed = _distribute(raw_untaxed, total_untaxed, unit)
    tax = _distribute(raw_tax, total_tax, unit)
    tolerance = unit * len(data.lines)
    if (
        abs(sum(raw_untaxed, Decimal(0)) - total_untaxed) > tolerance
        or abs(sum(raw_tax, Decimal(0)) - total_tax) > tolerance
    ):
        raise PayloadError(
            f"The lines of invoice {data.number} do not add up to its totals "
            f"({sum(raw_untaxed, Decimal(0))} / {sum(raw_tax, Decimal(0))} against "
            f"{total_untaxed} / {total_tax})"
        )

    lines = []
    for (gl, vat), group, amount, vat_amount in zip(
        groups, groups.values(), untaxed, tax, strict=True
    ):
        line = {
            "GLAccount": gl,
            "VATCode": vat or None,
            "AmountFC": _number(sign * amount),
            "VATAmountFC": _number(sign * vat_amount),
            "Description": "; ".join(group["descriptions"]) or data.description or None,
        }
        if group["has_quantity"]:
            line["Quantity"] = _number(group["quantity"])
        lines.append(_clean(line))

    payload = {
        "EntryID": _guid(data.entry_id, "entry ID"),
        "Journal": str(data.journal_code).strip(),
        "Customer": _guid(data.customer_guid, "customer"),
        "EntryDate": format_date(data.entry_date),
        "DueDate": format_date(data.due_date) if data.due_date else None,
        "YourRef": data.number,
        "Description": data.description or data.number,
        "Currency": str(data.currency).strip().upper(),
        "PaymentCondition": trim_code(data.payment_condition) or None,
        "EntryNumber": int(data.entry_number) if data.entry_number is not None else None,
        "Rate": _number(_dec(data.rate)) if data.rate is not None else None,
        "Document": _guid(data.document_guid, "document") if data.document_guid else None,
    }
    payload = _clean(payload)
    payload.update(data.extra)
    payload["SalesEntryLines"] = lines
    return payload


def null_entry_lines(gl_account_guid: str, vat_code: str) -> list[InvoiceLineData]:
    """The single 0.00 line of a null invoice (keeps Exact's number series continuous)."""
    return [InvoiceLineData(gl_account_guid, vat_code, Decimal("0.00"), Decimal("0.00"))]


def entry_number_from_name(name: str | None, maximum: int = INT32_MAX) -> int:
    """An Exact EntryNumber (Int32, 1..2147483647) from an Odoo invoice name.

    Scheme, tried in order:
    1. all digits of the name concatenated: "INV/2026/00042" -> 202600042,
       "INV/2026/03/0001" -> 2026030001;
    2. if that is above ``maximum`` (Exact's Int32 by default) and the first digit group
       is a 4-digit year (19xx/20xx), the year is shortened to its last two digits:
       "INV/2026/0000042" -> 260000042, "INV/2026/03/00001" -> 260300001;
    3. otherwise EntryNumberError with the reason.
    Letters are ignored, so "RINV/2026/00001" and "INV/2026/00001" give the same number:
    credit notes with their own sequence need a range of their own (the caller can ask
    for numbers below a ``maximum`` and add an offset), their own journal, or no
    EntryNumber.
    """
    maximum = min(int(maximum), INT32_MAX)
    text = (name or "").strip()
    groups = re.findall(r"\d+", text)
    if not groups or text == "/":
        raise EntryNumberError(f"The invoice name {name!r} holds no digits")
    number = int("".join(groups))
    if 0 < number <= maximum:
        return number
    if number == 0:
        raise EntryNumberError(f"The invoice name {name!r} gives entry number 0")
    first = groups[0]
    if len(groups) >= 2 and len(first) == 4 and first[:2] in ("19", "20"):
        short = int(first[2:] + "".join(groups[1:]))
        if 0 < short <= maximum:
            return short
    raise EntryNumberError(
        f"The digits of the invoice name {name!r} do not fit Exact's entry number "
        f"(at most {maximum})"
    )


# --- Documents ----------------------------------------------------------------------------


def document_payload(
    subject: str, account_guid: str, document_date: date, entry_id: str | None = None
) -> dict:
    """``documents/Documents`` body of type 10 (sales invoice), optionally linked to an entry."""
    if not (subject or "").strip():
        raise PayloadError("A document needs a subject")
    return _clean(
        {
            "Subject": subject.strip(),
            "Type": 10,
            "Account": _guid(account_guid, "document's account"),
            "DocumentDate": format_date(document_date),
            "FinancialTransactionEntryID": _guid(entry_id, "entry ID") if entry_id else None,
        }
    )


def attachment_payload(document_guid: str, filename: str, content: bytes) -> dict:
    """``documents/DocumentAttachments`` body: the file as base64 text (Exact wants Byte[])."""
    if not isinstance(content, (bytes, bytearray)):
        raise PayloadError("An attachment's content must be bytes")
    if len(content) > MAX_POST_BYTES:
        raise PayloadError(f"{filename} is larger than Exact's 10 MB limit")
    if not (filename or "").strip():
        raise PayloadError("An attachment needs a file name")
    return {
        "Document": _guid(document_guid, "document"),
        "FileName": filename.strip(),
        "Attachment": base64.b64encode(bytes(content)).decode("ascii"),
    }
