"""OData v2 helpers: $filter literals, Exact's /Date(ms)/ values, padded codes, envelopes."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)
_DATE_RE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/$")
ACCOUNT_CODE_WIDTH = 18


def quote(value) -> str:
    """A string literal for $filter: single quotes, an inner quote doubled.

    The result still has to be URL-encoded; requests does that when it is passed in
    ``params`` (non-ASCII letters become UTF-8 percent escapes).
    """
    return "'" + str(value).replace("'", "''") + "'"


def guid_literal(guid) -> str:
    """``guid'...'`` for a GUID given as str or uuid.UUID; a malformed GUID raises ValueError."""
    return f"guid'{uuid.UUID(str(guid).strip().strip('{}'))}'"


def datetime_literal(value: date | datetime) -> str:
    """``datetime'2026-01-31'`` for a date, ``datetime'2026-01-31T10:00:00'`` for a datetime."""
    if isinstance(value, datetime):
        return f"datetime'{value.replace(tzinfo=None, microsecond=0).isoformat()}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}'"
    raise TypeError(f"Not a date: {value!r}")


def parse_exact_date(value) -> datetime | None:
    """``/Date(ms)/`` -> naive datetime holding Amsterdam wall-clock time.

    Exact writes local (Amsterdam) wall-clock time as if it were UTC, so the milliseconds
    are added to 1970-01-01 without any zone conversion. A ``+hhmm`` suffix (the .NET
    convention: UTC instant plus the local offset) is applied to reach wall-clock time.
    ISO strings are accepted too. None and "" give None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    match = _DATE_RE.match(text)
    if match:
        result = _EPOCH + timedelta(milliseconds=int(match.group(1)))
        if match.group(2):
            offset = timedelta(hours=int(match.group(3)), minutes=int(match.group(4)))
            result = result + offset if match.group(2) == "+" else result - offset
        return result
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Not an Exact date: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(AMSTERDAM).replace(tzinfo=None)
    return parsed


def format_exact_date(value: date | datetime) -> str:
    """Inverse of parse_exact_date: wall-clock time written as if it were UTC.

    An aware datetime is first converted to Amsterdam wall-clock time.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM).replace(tzinfo=None)
    elif isinstance(value, date):
        value = datetime(value.year, value.month, value.day)
    else:
        raise TypeError(f"Not a date: {value!r}")
    delta = value - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return f"/Date({ms})/"


def exact_date_to_utc(value) -> datetime | None:
    """``/Date(ms)/`` -> aware UTC datetime (the real instant, for timestamps like Modified)."""
    wall = parse_exact_date(value)
    if wall is None:
        return None
    return wall.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc)


def format_date(value: date | datetime) -> str:
    """``YYYY-MM-DD``: how dates are sent to Exact."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise TypeError(f"Not a date: {value!r}")
    return value.isoformat()


def pad_account_code(code) -> str:
    """Account ``Code`` right-aligned in 18 characters, as Exact stores and filters it."""
    text = str(code).strip()
    if not text:
        raise ValueError("An empty account code cannot be padded")
    if len(text) > ACCOUNT_CODE_WIDTH:
        raise ValueError(f"An Exact account code has at most 18 characters: {text!r}")
    return text.rjust(ACCOUNT_CODE_WIDTH)


def trim_code(value) -> str:
    """Strip Exact's padding from VAT codes, countries, account codes; None gives ""."""
    return "" if value is None else str(value).strip()


def unwrap(json_body):
    """The payload of an OData envelope: a list for collections, a dict for one record.

    Accepts ``{"d":{"results":[...]}}``, ``{"d":{...}}`` and ``{"d":[...]}``.
    """
    if not isinstance(json_body, dict) or "d" not in json_body:
        raise ValueError("Not an OData response: no 'd' member")
    data = json_body["d"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if isinstance(data.get("results"), list):
            return data["results"]
        return data
    if data is None:
        return []
    raise ValueError(f"Unexpected OData 'd' member of type {type(data).__name__}")


def next_link(json_body) -> str | None:
    """The absolute ``__next`` URL of a collection page, or None on the last page."""
    if isinstance(json_body, dict):
        data = json_body.get("d")
        if isinstance(data, dict):
            link = data.get("__next")
            if isinstance(link, str) and link:
                return link
    return None
