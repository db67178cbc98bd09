"""Regions, OData literals, Exact dates, padded codes, envelopes."""

from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chainwise_exact_connector.exact import (
    REGIONS,
    base_url,
    datetime_literal,
    exact_date_to_utc,
    format_date,
    format_exact_date,
    guid_literal,
    is_loopback_url,
    next_link,
    pad_account_code,
    parse_exact_date,
    quote,
    trim_code,
    unwrap,
)

# --- regions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region,host",
    [
        ("nl", "start.exactonline.nl"),
        ("be", "start.exactonline.be"),
        ("de", "start.exactonline.de"),
        ("uk", "start.exactonline.co.uk"),
        ("com", "start.exactonline.com"),
        ("es", "start.exactonline.es"),
        ("fr", "start.exactonline.fr"),
    ],
)
def test_seven_regions(region, host):
    assert base_url(region) == f"https://{host}"
    assert base_url(region.upper()) == f"https://{host}"


def test_exactly_seven_regions_and_aliases():
    assert set(REGIONS) == {"nl", "be", "de", "uk", "com", "es", "fr"}
    assert base_url("co.uk") == "https://start.exactonline.co.uk"


def test_unknown_region_is_refused():
    with pytest.raises(ValueError, match="Unknown Exact Online region"):
        base_url("xx")
    with pytest.raises(ValueError):
        base_url(None)


def test_custom_url_wins_and_is_normalised():
    assert base_url("nl", "http://127.0.0.1:8069/") == "http://127.0.0.1:8069"
    assert base_url("nl", "  ") == "https://start.exactonline.nl"
    for bad in ("ftp://x", "127.0.0.1:8000", "https://x/?a=1"):
        with pytest.raises(ValueError):
            base_url("nl", bad)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.3.4.5", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://sandbox.localhost", True),
        ("http://10.0.0.5", False),
        ("http://example.com", False),
        ("https://start.exactonline.nl", False),
        ("not a url", False),
        ("http://[bad", False),
    ],
)
def test_is_loopback_url(url, expected):
    assert is_loopback_url(url) is expected


# --- literals --------------------------------------------------------------------------


def test_quote_doubles_quotes():
    assert quote("O'Brien") == "'O''Brien'"
    assert quote("it''s") == "'it''''s'"
    assert quote(42) == "'42'"


def test_filter_with_quote_and_non_ascii_is_encoded_on_the_wire():
    name = "Bäckerei O'Đorđević"
    flt = f"Name eq {quote(name)}"
    prepared = requests.Request(
        "GET", "https://x/api/v1/1/crm/Accounts", params={"$filter": flt}
    ).prepare()
    assert "%C3%A4" in prepared.url  # ä as UTF-8
    assert parse_qs(urlsplit(prepared.url).query)["$filter"] == ["Name eq 'Bäckerei O''Đorđević'"]


def test_guid_literal():
    braced = "{11111111-1111-1111-1111-111111111111}"
    assert guid_literal(braced) == "guid'11111111-1111-1111-1111-111111111111'"
    assert (
        guid_literal("ABCDEFAB-1111-1111-1111-111111111111")
        == "guid'abcdefab-1111-1111-1111-111111111111'"
    )
    with pytest.raises(ValueError):
        guid_literal("x' or 1 eq 1 or ID eq guid'")


def test_datetime_literal():
    assert datetime_literal(date(2026, 1, 31)) == "datetime'2026-01-31'"
    assert datetime_literal(datetime(2026, 1, 31, 10, 0, 0, 123)) == (
        "datetime'2026-01-31T10:00:00'"
    )
    with pytest.raises(TypeError):
        datetime_literal("2026-01-31")


# --- dates -----------------------------------------------------------------------------


def test_parse_exact_date_is_amsterdam_wall_clock():
    # Exact returned this for "InvoiceDate":"2024-08-12": local midnight written as UTC.
    assert parse_exact_date("/Date(1723420800000)/") == datetime(2024, 8, 12, 0, 0)
    assert parse_exact_date("/Date(1782405060220)/") == datetime(2026, 6, 25, 16, 31, 0, 220000)
    assert parse_exact_date(None) is None
    assert parse_exact_date("") is None


def test_parse_exact_date_with_offset_and_iso():
    assert parse_exact_date("/Date(1723420800000+0200)/") == datetime(2024, 8, 12, 2, 0)
    assert parse_exact_date("/Date(1723420800000-0130)/") == datetime(2024, 8, 11, 22, 30)
    assert parse_exact_date("2026-06-25T16:30:59") == datetime(2026, 6, 25, 16, 30, 59)
    # an aware ISO value is converted to Amsterdam wall clock (CEST = UTC+2)
    assert parse_exact_date("2026-06-25T14:30:59Z") == datetime(2026, 6, 25, 16, 30, 59)
    assert parse_exact_date(date(2026, 1, 2)) == datetime(2026, 1, 2)
    dt = datetime(2026, 1, 2, 3, 4)
    assert parse_exact_date(dt) is dt
    with pytest.raises(ValueError):
        parse_exact_date("yesterday")


def test_format_exact_date_round_trips():
    assert format_exact_date(date(2024, 8, 12)) == "/Date(1723420800000)/"
    value = datetime(2026, 6, 25, 16, 31, 0, 220000)
    assert format_exact_date(value) == "/Date(1782405060220)/"
    assert parse_exact_date(format_exact_date(value)) == value
    aware = datetime(2026, 6, 25, 14, 31, 0, 220000, tzinfo=timezone.utc)
    assert format_exact_date(aware) == "/Date(1782405060220)/"
    with pytest.raises(TypeError):
        format_exact_date("2026-01-01")


def test_exact_date_to_utc_gives_the_real_instant():
    assert exact_date_to_utc("/Date(1782405060000)/") == datetime(
        2026, 6, 25, 14, 31, tzinfo=timezone.utc
    )
    # winter time: CET = UTC+1
    assert exact_date_to_utc(format_exact_date(datetime(2026, 1, 15, 12, 0))) == datetime(
        2026, 1, 15, 11, 0, tzinfo=timezone.utc
    )
    assert exact_date_to_utc(None) is None


def test_format_date():
    assert format_date(date(2026, 3, 1)) == "2026-03-01"
    assert format_date(datetime(2026, 3, 1, 23, 59)) == "2026-03-01"
    with pytest.raises(TypeError):
        format_date("2026-03-01")


# --- codes -----------------------------------------------------------------------------


def test_pad_account_code():
    assert pad_account_code("100042") == "            100042"
    assert len(pad_account_code(7)) == 18
    assert pad_account_code("  25 ") == " " * 16 + "25"
    with pytest.raises(ValueError):
        pad_account_code("1" * 19)
    with pytest.raises(ValueError):
        pad_account_code("   ")


def test_trim_code():
    assert trim_code("2  ") == "2"
    assert trim_code("NL ") == "NL"
    assert trim_code(None) == ""


# --- envelopes -------------------------------------------------------------------------


def test_unwrap_every_shape():
    assert unwrap({"d": {"results": [{"a": 1}]}}) == [{"a": 1}]
    assert unwrap({"d": {"ID": "x"}}) == {"ID": "x"}
    assert unwrap({"d": [{"a": 1}, {"a": 2}]}) == [{"a": 1}, {"a": 2}]
    assert unwrap({"d": None}) == []
    with pytest.raises(ValueError):
        unwrap({"error": {}})
    with pytest.raises(ValueError):
        unwrap({"d": 5})
    with pytest.raises(ValueError):
        unwrap([1, 2])


def test_next_link():
    body = {"d": {"results": [], "__next": "https://x/api/v1/1/crm/Accounts?$skiptoken=guid'a'"}}
    assert next_link(body).endswith("$skiptoken=guid'a'")
    assert next_link({"d": {"results": []}}) is None
    assert next_link({"d": []}) is None
    assert next_link({"d": {"results": [], "__next": ""}}) is None
    assert next_link(None) is None
