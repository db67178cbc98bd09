"""OData v2 pieces of Exact's REST API: dates, error bodies, envelopes and ``$filter``.

Dates: Exact writes ``/Date(ms)/`` where ``ms`` is the Amsterdam wall-clock time
written as if it were UTC. Internally the sandbox keeps naive wall-clock
datetimes (stored as ISO text in its state).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .clock import to_amsterdam_wall

EPOCH = datetime(1970, 1, 1)
_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class ODataError(Exception):
    """A request problem answered with Exact's OData error body."""

    def __init__(self, status: int, messages, headers=None):
        if isinstance(messages, str):
            messages = [messages]
        super().__init__("\r\n".join(messages))
        self.status = status
        self.messages = list(messages)
        self.headers = headers or {}


def error_body(messages) -> dict:
    if isinstance(messages, str):
        messages = [messages]
    return {"error": {"code": "", "message": {"lang": "", "value": "\r\n".join(messages)}}}


def error_json(messages) -> str:
    return json.dumps(error_body(messages))


# ---------------------------------------------------------------- dates


def format_date(value) -> str | None:
    """Naive wall-clock datetime (or ISO text of one) -> ``/Date(ms)/``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    ms = (value.replace(tzinfo=None) - EPOCH) // timedelta(milliseconds=1)
    return f"/Date({ms})/"


def parse_exact_date(text: str) -> datetime:
    m = _DATE_RE.match(text)
    if not m:
        raise ValueError(text)
    return EPOCH + timedelta(milliseconds=int(m.group(1)))


def parse_input_datetime(value, date_only: bool = False) -> datetime:
    """What a client may send for a date: ``YYYY-MM-DD``, ISO datetime (with or without
    offset; an offset is converted to Amsterdam wall-clock time), or ``/Date(ms)/``.
    For date-only fields the date as written is kept (midnight)."""
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if text.startswith("/Date("):
        dt = parse_exact_date(text)
    else:
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        if len(text) == 10:
            dt = datetime.fromisoformat(text)
        else:
            dt = datetime.fromisoformat(text)
            if date_only:
                dt = dt.replace(tzinfo=None)
            else:
                dt = to_amsterdam_wall(dt)
    if date_only:
        dt = datetime.combine(dt.date(), datetime.min.time())
    return dt.replace(tzinfo=None)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.replace(tzinfo=None).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- literals / coercion


def is_guid(text) -> bool:
    if not isinstance(text, str):
        return False
    try:
        uuid.UUID(text.strip("{}"))
    except ValueError:
        return False
    return len(text.strip("{}")) == 36


def norm_guid(text: str) -> str:
    return str(uuid.UUID(text.strip("{}")))


def to_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(value) from None
    raise ValueError(value)


def money(value) -> float:
    return float(Decimal(value).quantize(Decimal("0.01")))


# ---------------------------------------------------------------- $filter

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<guid>guid'(?P<guidv>[^']*)')
      | (?P<dt>datetime'(?P<dtv>[^']*)')
      | (?P<str>'(?P<strv>(?:[^']|'')*)')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[LlMmDdFf]?
      | (?P<lp>\()
      | (?P<rp>\))
      | (?P<comma>,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)

COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"trim", "tolower", "toupper", "substringof", "startswith", "endswith", "length"}


class FilterSyntaxError(ValueError):
    pass


def tokenize(text: str) -> list[tuple[str, object, int]]:
    pos = 0
    out = []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"Syntax error at position {pos} in '{text}'.")
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if m.group("guid"):
            v = m.group("guidv")
            if not is_guid(v):
                raise FilterSyntaxError(
                    f"Unrecognized 'Edm.Guid' literal 'guid'{v}'' at '{start}'."
                )
            out.append(("guid", norm_guid(v), start))
        elif m.group("dt"):
            v = m.group("dtv")
            try:
                dt = datetime.fromisoformat(v.rstrip("Zz"))
            except ValueError:
                raise FilterSyntaxError(
                    f"Unrecognized 'Edm.DateTime' literal 'datetime'{v}'' at '{start}'."
                ) from None
            out.append(("datetime", dt.replace(tzinfo=None), start))
        elif m.group("str") is not None:
            out.append(("string", m.group("strv").replace("''", "'"), start))
        elif m.group("num"):
            out.append(("number", Decimal(m.group("num")), start))
        elif m.group("lp"):
            out.append(("(", None, start))
        elif m.group("rp"):
            out.append((")", None, start))
        elif m.group("comma"):
            out.append((",", None, start))
        else:
            name = m.group("name")
            low = name.lower()
            if low in ("true", "false"):
                out.append(("bool", low == "true", start))
            elif low == "null":
                out.append(("null", None, start))
            elif low in COMPARISONS or low in ("and", "or", "not"):
                out.append(("op", low, start))
            else:
                out.append(("name", name, start))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind):
        tok = self.take()
        if tok[0] != kind:
            raise FilterSyntaxError(f"Expected '{kind}' at position {tok[2]}.")
        return tok

    def parse(self):
        if not self.tokens:
            raise FilterSyntaxError("Expression expected at position 0.")
        node = self.or_expr()
        if self.i < len(self.tokens):
            raise FilterSyntaxError(f"Syntax error at position {self.peek()[2]}.")
        return node

    def or_expr(self):
        node = self.and_expr()
        while self.peek()[:2] == ("op", "or"):
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self):
        node = self.not_expr()
        while self.peek()[:2] == ("op", "and"):
            self.take()
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self):
        if self.peek()[:2] == ("op", "not"):
            self.take()
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self):
        left = self.primary()
        kind, value, pos = self.peek()
        if kind == "op" and value in COMPARISONS:
            self.take()
            right = self.primary()
            return ("cmp", value, left, right, pos)
        return left

    def primary(self):
        kind, value, pos = self.take()
        if kind == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if kind in ("string", "guid", "datetime", "number", "bool", "null"):
            return ("lit", kind, value)
        if kind == "name":
            if self.peek()[0] == "(":
                if value.lower() not in FUNCTIONS:
                    raise FilterSyntaxError(f"Unknown function '{value}' at position {pos}.")
                self.take()
                args = []
                if self.peek()[0] != ")":
                    args.append(self.or_expr())
                    while self.peek()[0] == ",":
                        self.take()
                        args.append(self.or_expr())
                self.expect(")")
                return ("call", value.lower(), args, pos)
            return ("field", value, pos)
        raise FilterSyntaxError(f"Expression expected at position {pos}.")


def parse_filter(text: str):
    """Parse an OData ``$filter`` into a small tuple tree. Raises FilterSyntaxError."""
    return _Parser(text).parse()


def filter_fields(node) -> list[str]:
    """Names of the properties a filter refers to, in order of appearance."""
    out: list[str] = []

    def walk(n):
        tag = n[0]
        if tag == "field":
            if n[1] not in out:
                out.append(n[1])
        elif tag in ("and", "or"):
            walk(n[1])
            walk(n[2])
        elif tag == "not":
            walk(n[1])
        elif tag == "cmp":
            walk(n[2])
            walk(n[3])
        elif tag == "call":
            for a in n[2]:
                walk(a)

    walk(node)
    return out


_INDEX_FUNCTIONS = ("trim", "tolower", "toupper")


def _indexed_field(node) -> str | None:
    """The field under ``Field``, ``trim(Field)``, ``tolower(Field)``... else None."""
    if node[0] == "field":
        return node[1]
    if node[0] == "call" and node[1] in _INDEX_FUNCTIONS and len(node[2]) == 1:
        return _indexed_field(node[2][0])
    return None


def filter_candidates(node, lookup):
    """The keys that can satisfy a filter, from its ``eq`` conditions on indexed fields
    (joined by ``and``/``or``), or None when the filter does not narrow them down.

    ``lookup(field, value)`` answers a set of keys (a superset of the matches) or None for
    a field without an index. The filter itself must still be evaluated on the result."""
    tag = node[0]
    if tag == "and":
        a, b = filter_candidates(node[1], lookup), filter_candidates(node[2], lookup)
        if a is None or b is None:
            return b if a is None else a
        small, big = (a, b) if len(a) <= len(b) else (b, a)
        return {k for k in small if k in big}
    if tag == "or":
        a = filter_candidates(node[1], lookup)
        if a is None:
            return None
        b = filter_candidates(node[2], lookup)
        return None if b is None else a | b
    if tag == "cmp" and node[1] == "eq":
        for side, other in ((node[2], node[3]), (node[3], node[2])):
            if other[0] == "lit" and other[1] != "null":
                field = _indexed_field(side)
                if field is not None:
                    return lookup(field, other[2])
    return None


# Edm types of literals, for the operand compatibility check
_LIT_EDM = {
    "string": "Edm.String",
    "guid": "Edm.Guid",
    "datetime": "Edm.DateTime",
    "number": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "null": None,
}
_NUMERIC = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Double", "Edm.Decimal", "Edm.Byte"}


def _edm_of(node, types: dict) -> str | None:
    tag = node[0]
    if tag == "lit":
        return _LIT_EDM[node[1]]
    if tag == "field":
        return types.get(node[1], "Edm.String")
    if tag == "call":
        return (
            "Edm.Int32"
            if node[1] == "length"
            else (
                "Edm.Boolean"
                if node[1] in ("substringof", "startswith", "endswith")
                else "Edm.String"
            )
        )
    return "Edm.Boolean"


def check_types(node, types: dict) -> None:
    """Raise FilterSyntaxError when a comparison mixes incompatible operand types."""
    tag = node[0]
    if tag in ("and", "or"):
        check_types(node[1], types)
        check_types(node[2], types)
    elif tag == "not":
        check_types(node[1], types)
    elif tag == "cmp":
        a, b = _edm_of(node[2], types), _edm_of(node[3], types)
        if a and b and a != b and not (a in _NUMERIC and b in _NUMERIC):
            raise FilterSyntaxError(
                f"Operator '{node[1]}' incompatible with operand types '{a}' and '{b}'"
                f" at position {node[4]}."
            )


def _norm(v):
    """SQL Server-like comparison: strings case-insensitive, trailing blanks ignored."""
    if isinstance(v, str):
        return v.rstrip(" ").casefold()
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float, Decimal)):
        return Decimal(str(v))
    if isinstance(v, uuid.UUID):
        return str(v)
    return v


def evaluate(node, record: dict):
    tag = node[0]
    if tag == "lit":
        return node[2]
    if tag == "field":
        return record.get(node[1])
    if tag == "and":
        return bool(evaluate(node[1], record)) and bool(evaluate(node[2], record))
    if tag == "or":
        return bool(evaluate(node[1], record)) or bool(evaluate(node[2], record))
    if tag == "not":
        return not evaluate(node[1], record)
    if tag == "call":
        args = [evaluate(a, record) for a in node[2]]
        name = node[1]
        if any(a is None for a in args):
            return None
        if name == "trim":
            return str(args[0]).strip()
        if name == "tolower":
            return str(args[0]).lower()
        if name == "toupper":
            return str(args[0]).upper()
        if name == "length":
            return len(str(args[0]))
        if name == "substringof":
            return str(args[0]).casefold() in str(args[1]).casefold()
        if name == "startswith":
            return str(args[0]).casefold().startswith(str(args[1]).casefold())
        if name == "endswith":
            return str(args[0]).casefold().endswith(str(args[1]).casefold())
    if tag == "cmp":
        op = node[1]
        a, b = _norm(evaluate(node[2], record)), _norm(evaluate(node[3], record))
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        if a is None or b is None:
            return False
        try:
            if op == "gt":
                return a > b
            if op == "ge":
                return a >= b
            if op == "lt":
                return a < b
            if op == "le":
                return a <= b
        except TypeError:
            return False
    raise FilterSyntaxError(f"Cannot evaluate {tag}")
