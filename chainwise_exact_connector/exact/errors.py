"""Exceptions of the Exact layer, and the reading of Exact's error texts.

Every exception carries ``.message``: plain English, safe to show and to log. It never
holds an access token, a refresh token or the client secret (the client scrubs them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ExactError(Exception):
    """Base class. ``message`` is shown to people; it never holds a secret."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TransientError(ExactError):
    """A fault that may pass: timeout, connection error, 5xx without Exact's error body.

    ``ambiguous`` is True when the request was a POST that may have reached Exact: the
    caller must look the record up (e.g. by its EntryID) before sending it again.
    """

    def __init__(self, message: str, *, ambiguous: bool = False, status: int | None = None):
        super().__init__(message)
        self.ambiguous = ambiguous
        self.status = status


@dataclass(frozen=True)
class ErrorItem:
    """One problem out of Exact's error text.

    ``kind``: mandatory, invalid_reference, invalid, already_exists, entry_number_in_use,
    period_closed or unknown. ``field``: the field label as Exact wrote it (Dutch or
    English), or None. ``topic``: our canonical name for that field when we know it
    (e.g. "payment_condition"), so callers can point at the right mapping.
    """

    kind: str
    field: str | None
    text: str
    explanation: str
    topic: str | None = None


class FunctionalError(ExactError):
    """Exact understood the request and refused it (400, or 500 with its JSON error body).

    Never retried: Exact blocks an app after 10 errors per endpoint per hour, and the
    same request would fail the same way. A person has to change data or mappings.
    """

    def __init__(self, status: int, exact_message: str, items: list[ErrorItem] | None = None):
        self.status = status
        self.exact_message = exact_message
        self.items = items if items is not None else parse_error_items(exact_message)
        self.explanation = "\n".join(item.explanation for item in self.items)
        super().__init__(f"Exact Online refused the request (HTTP {status}): {exact_message}")


class AccessDenied(ExactError):
    """403: the Exact user may not do this (``reason`` from the ``Reason`` header)."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason


class NotFound(ExactError):
    """404: the record or the endpoint does not exist."""


class RateLimited(ExactError):
    """Exact's quota is spent and waiting is not allowed or did not help.

    ``reset_at``: epoch seconds when the quota comes back; ``family``: "minutely" or "daily".
    """

    def __init__(self, message: str, *, reset_at: float | None, family: str):
        super().__init__(message)
        self.reset_at = reset_at
        self.family = family


class AuthError(ExactError):
    """A 401 that survived one forced token refresh."""


class TokenError(ExactError):
    """The token endpoint refused for a reason other than lost consent.

    ``token``: a token pair the endpoint returned despite the error (Exact does that on
    rate-limit failures); the caller must persist it, or the chain is lost.
    """

    def __init__(self, message: str, *, status: int | None = None, token=None):
        super().__init__(message)
        self.status = status
        self.token = token


class RefreshTooEarly(TokenError):
    """A refresh less than 570 s after the previous token was obtained (Exact refuses it).

    ``retry_at``: epoch seconds from which a refresh is allowed, when known.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_at: float | None = None):
        super().__init__(message, status=status)
        self.retry_at = retry_at


class ReconsentRequired(ExactError):
    """The consent is gone (refresh token reused, expired or revoked): a person must reconnect."""


# --- Reading Exact's error texts ----------------------------------------------------------

# topic -> (plain label, hint for a missing value, hint for an unknown value)
_TOPICS: dict[str, tuple[str, str, str]] = {
    "payment_condition": (
        "payment condition",
        "Set a payment term on the invoice or a default payment condition on the Exact division.",
        "Map the payment term to an existing Exact payment condition.",
    ),
    "vat_code": (
        "VAT code",
        "Map every tax on the invoice to an Exact VAT code.",
        "Map the tax to an existing Exact VAT code.",
    ),
    "journal": (
        "sales journal",
        "Set the Exact sales journal code on the Exact division.",
        "Set the code (not the name) of an existing Exact sales journal on the Exact division.",
    ),
    "gl_account": (
        "general ledger account",
        "Map every income account on the invoice to an Exact GL account.",
        "Map the income account to an existing Exact revenue GL account.",
    ),
    "gl_account_type": (
        "general ledger account type",
        "Map the income account to an Exact revenue GL account.",
        "Map the income account to an Exact GL account of type revenue.",
    ),
    "customer": (
        "customer",
        "Export the customer to Exact before the invoice.",
        "Export the customer again; the Exact relation may have been deleted or is not a customer.",
    ),
    "currency": (
        "currency",
        "Make sure the invoice has a currency.",
        "Activate the invoice's currency in Exact.",
    ),
    "name": ("name", "Give the partner a name.", "Correct the partner's name."),
    "country": (
        "country",
        "Set the partner's country.",
        "Set a valid country on the partner.",
    ),
    "email": ("e-mail address", "Set an e-mail address.", "Correct the e-mail address."),
    "vat_number": ("VAT number", "Set the VAT number.", "Correct the partner's VAT number."),
    "entry_number": (
        "entry number",
        "Check the entry-number policy of the Exact division.",
        "Check the entry-number policy of the Exact division.",
    ),
    "document": (
        "document",
        "Send the invoice again with its PDF.",
        "Send the invoice again; the attached Exact document does not exist.",
    ),
    "account_code": (
        "relation code",
        "Give the partner an Exact code or let Exact assign one.",
        "Use a numeric Exact relation code of at most 18 digits.",
    ),
    "vat_percentage": (
        "VAT percentage",
        "Map the tax to an Exact VAT code.",
        "Map the tax to an Exact VAT code with the same percentage.",
    ),
}

# Field labels (lower case, Dutch and English) -> topic.
_FIELD_TOPICS: dict[str, str] = {
    "betalingsconditie": "payment_condition",
    "payment condition": "payment_condition",
    "paymentcondition": "payment_condition",
    "betalingsconditie verkoop": "payment_condition",
    "btw-code": "vat_code",
    "btw code": "vat_code",
    "btw-codes": "vat_code",
    "vat code": "vat_code",
    "vatcode": "vat_code",
    "vat codes": "vat_code",
    "dagboek": "journal",
    "journal": "journal",
    "journals": "journal",
    "dagboeken": "journal",
    "grootboekrekening": "gl_account",
    "grootboek": "gl_account",
    "gl account": "gl_account",
    "glaccount": "gl_account",
    "general ledger": "gl_account",
    "general ledger account": "gl_account",
    "grootboekrekeningtype": "gl_account_type",
    "gl account type": "gl_account_type",
    "general ledger type": "gl_account_type",
    "klant": "customer",
    "klant (type)": "customer",
    "customer": "customer",
    "customer (type)": "customer",
    "factuur voor": "customer",
    "factuur voor (type)": "customer",
    "invoice to": "customer",
    "relatie": "customer",
    "relationship": "customer",
    "accounts": "customer",
    "account": "customer",
    "valuta": "currency",
    "currency": "currency",
    "naam": "name",
    "name": "name",
    "land": "country",
    "country": "country",
    "e-mail": "email",
    "email": "email",
    "btw-nummer": "vat_number",
    "vat number": "vat_number",
    "boekstuknummer": "entry_number",
    "entry number": "entry_number",
    "document": "document",
    "documents": "document",
    "code": "account_code",
    "klantconditie": "account_code",
    "customer condition": "account_code",
    "btw-percentage": "vat_percentage",
    "vat percentage": "vat_percentage",
}

# (kind, pattern); the first match wins, so specific patterns come before general ones.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("entry_number_in_use", re.compile(r"^(?:in gebruik|in use)\s*:\s*(?P<field>.+)$", re.I)),
    ("entry_number_in_use", re.compile(r"(?P<field>boekstuknummer) in gebruik", re.I)),
    ("entry_number_in_use", re.compile(r"already used as (?P<field>document number)", re.I)),
    (
        "period_closed",
        re.compile(
            r"^(?:periode is afgesloten|period is closed|period closed)"
            r"\s*:?\s*(?P<field>.*)$",
            re.I,
        ),
    ),
    ("mandatory", re.compile(r"^(?:verplicht|mandatory|required)\s*:\s*(?P<field>.+)$", re.I)),
    (
        "invalid_reference",
        re.compile(r"^(?:ongeldige referentie|invalid reference)\s*:\s*(?P<field>.+)$", re.I),
    ),
    ("invalid", re.compile(r"^(?:ongeldig|invalid)\s*:\s*(?P<field>.+)$", re.I)),
    ("already_exists", re.compile(r"^(?:bestaat reeds|already exists)\s*:\s*(?P<field>.+)$", re.I)),
    ("already_exists", re.compile(r"(?:gegeven bestaat reeds|bestaat reeds|already exists)", re.I)),
    ("period_closed", re.compile(r"(?:afgesloten|\bclosed\b)", re.I)),
]

_FISCAL_YEAR = re.compile(r"(?:fiscal year|boekjaar)", re.I)


def _topic_of(field: str | None) -> str | None:
    if not field:
        return None
    key = re.sub(r"\s+", " ", field.strip().rstrip(".").strip()).lower()
    if key in _FIELD_TOPICS:
        return _FIELD_TOPICS[key]
    # "Ongeldig: Klant (Type)" and "Invalid: VAT percentage []": drop the bracketed part.
    bare = re.sub(r"\s*[\(\[].*$", "", key).strip()
    return _FIELD_TOPICS.get(bare)


def _explain(kind: str, field: str | None, text: str, topic: str | None) -> str:
    label, hint_missing, hint_unknown = _TOPICS.get(topic or "", (field or "field", "", ""))
    field_q = f'"{field}"' if field else "a field"
    if kind == "mandatory":
        what = f"the {label}" if topic else f"the field {field_q}"
        return f"Exact requires {what}, but nothing was sent. {hint_missing}".strip()
    if kind == "invalid_reference":
        what = f"the {label}" if topic else f"the value of {field_q}"
        return f"Exact does not know {what} that was sent. {hint_unknown}".strip()
    if kind == "invalid":
        if topic == "customer":
            return (
                "The Exact relation is not a customer, so Exact refuses a sales entry "
                "for it. Export the partner again so it gets customer status in Exact."
            )
        if topic == "gl_account_type":
            return (
                "A line is booked on an Exact GL account that is not a revenue account. "
                f"{hint_unknown}"
            )
        what = f"the {label}" if topic else f"the value of {field_q}"
        return f"Exact does not accept {what} that was sent. {hint_unknown}".strip()
    if kind == "already_exists":
        return (
            "Exact already has this record. Look it up in Exact and link it instead of "
            "creating it again."
        )
    if kind == "entry_number_in_use":
        return (
            "The entry number is already used in this Exact sales journal. Check in Exact "
            "whether this invoice was sent before; otherwise change the entry-number policy "
            "of the Exact division."
        )
    if kind == "period_closed":
        return (
            "The accounting period of the invoice date is closed in Exact. Ask the "
            "accountant to reopen the period in Exact, then send the invoice again."
        )
    if _FISCAL_YEAR.search(text):
        return (
            "Exact has no financial year or period for the invoice date. Create the "
            "financial year in Exact, then send the invoice again."
        )
    return f"Exact reported: {text}"


def parse_error_items(text: str | None) -> list[ErrorItem]:
    """Split Exact's error text (Dutch or English, problems joined by CR/LF) into items."""
    items: list[ErrorItem] = []
    for raw in re.split(r"\r\n|\r|\n", text or ""):
        line = raw.strip()
        if not line:
            continue
        kind, field = "unknown", None
        for candidate, pattern in _PATTERNS:
            match = pattern.search(line)
            if match:
                kind = candidate
                field = (match.groupdict().get("field") or "").strip().rstrip(".").strip()
                field = field or None
                break
        topic = _topic_of(field)
        if kind == "entry_number_in_use":
            topic = "entry_number"
        items.append(ErrorItem(kind, field, line, _explain(kind, field, line, topic), topic))
    if not items:
        items.append(ErrorItem("unknown", None, "", "Exact refused the request without a reason."))
    return items


def redact(text: str | None, secrets) -> str:
    """Replace every non-trivial secret occurring in ``text`` with ``***``."""
    out = text or ""
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, "***")
    return out
