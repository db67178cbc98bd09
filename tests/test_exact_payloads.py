"""Payload builders: accounts, contacts, sales entries, entry numbers, documents."""

import base64
from datetime import date
from decimal import Decimal

import pytest

from chainwise_exact_connector.exact import (
    INT32_MAX,
    AccountData,
    ContactData,
    EntryNumberError,
    InvoiceData,
    InvoiceLineData,
    PayloadError,
    account_changes,
    account_payload,
    attachment_payload,
    contact_payload,
    document_payload,
    entry_number_from_name,
    null_entry_lines,
    sales_entry_payload,
    split_person_name,
)

try:
    from tests.exact_fixtures import GUID_A, GUID_B, GUID_C
except ImportError:
    from exact_fixtures import GUID_A, GUID_B, GUID_C

GL_8000 = "80000000-0000-0000-0000-000000000000"
GL_8100 = "81000000-0000-0000-0000-000000000000"
D = Decimal


def invoice(lines, **kwargs):
    base = {
        "entry_id": GUID_A,
        "journal_code": "70",
        "customer_guid": GUID_B,
        "entry_date": date(2026, 3, 1),
        "number": "INV/2026/00042",
        "description": "Invoice INV/2026/00042",
        "currency": "EUR",
        "lines": lines,
    }
    base.update(kwargs)
    return InvoiceData(**base)


def dec_sum(values):
    return sum((Decimal(str(v)) for v in values), Decimal(0))


# --- accounts --------------------------------------------------------------------------


def test_account_payload_full():
    data = AccountData(
        name=" Bakkerij Jansen ",
        code="100042",
        vat="NL001234567B01",
        coc="12345678",
        email="info@jansen.nl",
        phone="+31 20 1234567",
        website="https://jansen.nl",
        street="Dorpsstraat 1",
        street2="2e verdieping",
        zip="1234 AB",
        city="Amsterdam",
        country="nl",
        language="nl",
        payment_condition="14 ",
        search_code="JANSEN",
    )
    assert account_payload(data) == {
        "Name": "Bakkerij Jansen",
        "Code": "            100042",
        "VATNumber": "NL001234567B01",
        "ChamberOfCommerce": "12345678",
        "Email": "info@jansen.nl",
        "Phone": "+31 20 1234567",
        "Website": "https://jansen.nl",
        "AddressLine1": "Dorpsstraat 1",
        "AddressLine2": "2e verdieping",
        "Postcode": "1234 AB",
        "City": "Amsterdam",
        "Country": "NL",
        "Language": "NL",
        "PaymentConditionSales": "14",
        "SearchCode": "JANSEN",
        "Status": "C",
    }


def test_account_payload_minimal_and_without_status():
    assert account_payload(AccountData(name="X", code=" ", email="")) == {
        "Name": "X",
        "Status": "C",
    }
    assert account_payload(AccountData(name="X"), include_customer_status=False) == {"Name": "X"}
    with pytest.raises(PayloadError):
        account_payload(AccountData(name="  "))


def test_account_changes_ignores_exact_padding():
    old = {"Name": "A", "Code": "            100042", "Country": "NL ", "City": "Delft"}
    new = {"Name": "A", "Code": "            100042", "Country": "nl", "City": "Leiden"}
    assert account_changes(old, new) == {"City": "Leiden"}
    assert account_changes({"Email": None}, {"Email": ""}) == {}
    assert account_changes({}, {"Email": "a@b"}) == {"Email": "a@b"}


# --- contacts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Jan van der Berg", ("Jan", "van der", "Berg")),
        ("Anna Maria Jansen", ("Anna Maria", "", "Jansen")),
        ("Piet de Vries", ("Piet", "de", "Vries")),
        ("Madonna", ("", "", "Madonna")),
        ("Jan van", ("Jan", "", "van")),
        ("  ", ("", "", "")),
        (None, ("", "", "")),
        ("Ludwig von Beethoven Jr", ("Ludwig", "von", "Beethoven Jr")),
    ],
)
def test_split_person_name(name, expected):
    assert split_person_name(name) == expected


def test_contact_payload_splits_name():
    payload = contact_payload(
        ContactData(
            GUID_C, name="Jan van der Berg", email="jan@x.nl", job_title="CFO", language="nl"
        )
    )
    assert payload == {
        "Account": GUID_C,
        "FirstName": "Jan",
        "MiddleName": "van der",
        "LastName": "Berg",
        "Email": "jan@x.nl",
        "JobTitleDescription": "CFO",
        "Language": "NL",
    }


def test_contact_payload_explicit_names_win_and_need_a_name():
    payload = contact_payload(
        ContactData(GUID_C, name="ignored", first_name="Els", last_name="Smit", mobile="06")
    )
    assert (payload["FirstName"], payload["LastName"], payload["Mobile"]) == ("Els", "Smit", "06")
    assert "MiddleName" not in payload
    with pytest.raises(PayloadError):
        contact_payload(ContactData(GUID_C))
    with pytest.raises(PayloadError):
        contact_payload(ContactData("not-a-guid", last_name="X"))


# --- sales entries ---------------------------------------------------------------------


def test_sales_entry_header_and_grouping():
    lines = [
        InvoiceLineData(GL_8000, "2  ", D("100.00"), D("21.00"), "Bread", 2),
        InvoiceLineData(GL_8000, "2", D("50.00"), D("10.50"), "Cake", 1),
        InvoiceLineData(GL_8100, "1", D("10.00"), D("0.90"), "Book"),
    ]
    payload = sales_entry_payload(
        invoice(
            lines,
            due_date=date(2026, 3, 15),
            payment_condition="14",
            entry_number=202600042,
            document_guid=GUID_C,
        )
    )
    header = {k: v for k, v in payload.items() if k != "SalesEntryLines"}
    assert header == {
        "EntryID": GUID_A,
        "Journal": "70",
        "Customer": GUID_B,
        "EntryDate": "2026-03-01",
        "DueDate": "2026-03-15",
        "YourRef": "INV/2026/00042",
        "Description": "Invoice INV/2026/00042",
        "Currency": "EUR",
        "PaymentCondition": "14",
        "EntryNumber": 202600042,
        "Document": GUID_C,
    }
    assert payload["SalesEntryLines"] == [
        {
            "GLAccount": GL_8000,
            "VATCode": "2",
            "AmountFC": 150.0,
            "VATAmountFC": 31.5,
            "Description": "Bread; Cake",
            "Quantity": 3.0,
        },
        {
            "GLAccount": GL_8100,
            "VATCode": "1",
            "AmountFC": 10.0,
            "VATAmountFC": 0.9,
            "Description": "Book",
        },
    ]


def test_three_times_33_335_in_one_group_rounds_once():
    lines = [InvoiceLineData(GL_8000, "2", D("33.335"), D("7.00035")) for _ in range(3)]
    [line] = sales_entry_payload(invoice(lines))["SalesEntryLines"]
    assert Decimal(str(line["AmountFC"])) == D("100.01")  # 100.005 half-up
    assert Decimal(str(line["VATAmountFC"])) == D("21.00")  # 21.00105


def test_three_times_33_335_in_three_groups_add_up_to_the_total():
    lines = [
        InvoiceLineData(GL_8000, "2", D("33.335"), D("7.00")),
        InvoiceLineData(GL_8100, "2", D("33.335"), D("7.00")),
        InvoiceLineData(GL_8000, "1", D("33.335"), D("7.00")),
    ]
    out = sales_entry_payload(invoice(lines))["SalesEntryLines"]
    amounts = [Decimal(str(x["AmountFC"])) for x in out]
    assert amounts == [D("33.34"), D("33.34"), D("33.33")]  # the last group absorbs
    assert sum(amounts) == D("100.01")


def test_lines_match_given_document_totals_exactly():
    lines = [
        InvoiceLineData(GL_8000, "2", D("33.335"), D("7.000")),
        InvoiceLineData(GL_8100, "2", D("33.335"), D("7.004")),
        InvoiceLineData(GL_8000, "1", D("33.335"), D("7.004")),
    ]
    data = invoice(lines, amount_untaxed=D("100.00"), amount_tax=D("21.01"))
    out = sales_entry_payload(data)["SalesEntryLines"]
    assert dec_sum(x["AmountFC"] for x in out) == D("100.00")
    assert dec_sum(x["VATAmountFC"] for x in out) == D("21.01")
    with pytest.raises(PayloadError, match="do not add up"):
        sales_entry_payload(invoice(lines, amount_untaxed=D("101.00")))


def test_floats_are_read_by_their_decimal_text():
    lines = [InvoiceLineData(GL_8000, "2", 33.335, 0) for _ in range(3)]
    lines += [
        InvoiceLineData(GL_8100, "2", 0.1, 0.021),
        InvoiceLineData(GL_8100, "2", 0.2, "0.042"),
    ]
    out = sales_entry_payload(invoice(lines))["SalesEntryLines"]
    assert [Decimal(str(x["AmountFC"])) for x in out] == [D("100.01"), D("0.30")]
    assert Decimal(str(out[1]["VATAmountFC"])) == D("0.06")


@pytest.mark.parametrize(
    "decimals,amount,expected", [(0, "1000.5", "1001"), (3, "1.0005", "1.001")]
)
def test_currency_precision(decimals, amount, expected):
    lines = [InvoiceLineData(GL_8000, "2", D(amount), D("0"))]
    out = sales_entry_payload(invoice(lines, currency="jpy", decimals=decimals))
    assert Decimal(str(out["SalesEntryLines"][0]["AmountFC"])) == D(expected)
    assert out["Currency"] == "JPY"


def test_credit_note_is_negative_and_foreign_currency_has_a_rate():
    lines = [
        InvoiceLineData(GL_8000, "2", D("80.00"), D("16.80")),
        InvoiceLineData(GL_8000, "2", D("-5.00"), D("-1.05")),  # a discount line
    ]
    payload = sales_entry_payload(
        invoice(lines, is_refund=True, currency="USD", rate=D("1.0825"), number="RINV/2026/00001")
    )
    [line] = payload["SalesEntryLines"]
    assert (line["AmountFC"], line["VATAmountFC"]) == (-75.0, -15.75)
    assert payload["Rate"] == 1.0825 and payload["Currency"] == "USD"
    assert payload["YourRef"] == "RINV/2026/00001"


def test_null_invoice_sends_one_zero_line():
    payload = sales_entry_payload(invoice(null_entry_lines(GL_8000, "0  ")))
    assert payload["SalesEntryLines"] == [
        {
            "GLAccount": GL_8000,
            "VATCode": "0",
            "AmountFC": 0.0,
            "VATAmountFC": 0.0,
            "Description": "Invoice INV/2026/00042",
        }
    ]


def test_lines_that_cancel_out_still_give_a_line():
    lines = [
        InvoiceLineData(GL_8000, "2", D("10"), D("2.1")),
        InvoiceLineData(GL_8000, "2", D("-10"), D("-2.1")),
    ]
    [line] = sales_entry_payload(invoice(lines))["SalesEntryLines"]
    assert line["AmountFC"] == 0.0


def test_invalid_invoices_are_refused():
    good = [InvoiceLineData(GL_8000, "2", D("1"), D("0"))]
    with pytest.raises(PayloadError, match="no lines"):
        sales_entry_payload(invoice([]))
    with pytest.raises(PayloadError, match="journal"):
        sales_entry_payload(invoice(good, journal_code=" "))
    with pytest.raises(PayloadError, match="currency"):
        sales_entry_payload(invoice(good, currency=""))
    with pytest.raises(PayloadError, match="customer"):
        sales_entry_payload(invoice(good, customer_guid="ACME"))
    with pytest.raises(PayloadError, match="GL account"):
        sales_entry_payload(invoice([InvoiceLineData("8000", "2", D("1"), D("0"))]))


def test_extra_fields_pass_through():
    good = [InvoiceLineData(GL_8000, "2", D("1"), D("0"))]
    payload = sales_entry_payload(invoice(good, extra={"ReportingYear": 2026}, description=""))
    assert payload["ReportingYear"] == 2026
    assert payload["Description"] == "INV/2026/00042"


# --- entry numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("INV/2026/00042", 202600042),
        ("INV/2026/03/0001", 2026030001),
        ("INV/2026/99999", 202699999),
        ("INV/2026/100000", 2026100000),
        ("INV/2026/0000042", 260000042),  # concatenated would be 20260000042 > Int32
        ("INV/2026/03/00001", 260300001),
        ("00042", 42),
        ("F2026-7", 20267),
        ("RINV/2026/00042", 202600042),
        ("2147483647", INT32_MAX),
    ],
)
def test_entry_number_from_name(name, expected):
    number = entry_number_from_name(name)
    assert number == expected
    assert 0 < number <= INT32_MAX


@pytest.mark.parametrize(
    "name,expected",
    [
        ("RINV/2026/00042", 202600042),
        ("RINV/2026/03/0001", 26030001),  # 2026030001 is above the maximum: year shortened
        ("00042", 42),
    ],
)
def test_entry_number_below_a_maximum(name, expected):
    """A caller that reserves a range (credit notes: 1,000,000,000 + n) asks for n below it."""
    assert entry_number_from_name(name, maximum=999_999_999) == expected


def test_entry_number_maximum_never_above_int32():
    assert entry_number_from_name("2147483647", maximum=10**12) == INT32_MAX
    with pytest.raises(EntryNumberError) as info:
        entry_number_from_name("RINV/2026/1234567890", maximum=999_999_999)
    assert "at most 999999999" in info.value.reason


@pytest.mark.parametrize(
    "name,reason",
    [
        ("/", "no digits"),
        ("", "no digits"),
        (None, "no digits"),
        ("DRAFT", "no digits"),
        ("INV/0000/00000", "entry number 0"),
        ("2147483648", "do not fit"),
        ("INV/2026/123456789", "do not fit"),  # even 26123456789 is too big
        ("INV/3026/0000042", "do not fit"),  # not a year: no shortening
    ],
)
def test_entry_number_errors(name, reason):
    with pytest.raises(EntryNumberError) as info:
        entry_number_from_name(name)
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)


# --- documents -------------------------------------------------------------------------


def test_document_payload():
    assert document_payload(" INV/2026/00042 ", GUID_B, date(2026, 3, 1), entry_id=GUID_A) == {
        "Subject": "INV/2026/00042",
        "Type": 10,
        "Account": GUID_B,
        "DocumentDate": "2026-03-01",
        "FinancialTransactionEntryID": GUID_A,
    }
    assert "FinancialTransactionEntryID" not in document_payload("S", GUID_B, date(2026, 3, 1))
    with pytest.raises(PayloadError):
        document_payload("", GUID_B, date(2026, 3, 1))


def test_attachment_payload_is_base64_text():
    content = b"%PDF-1.7\n\x00\xff binary"
    payload = attachment_payload(GUID_C, "INV_2026_00042.pdf", content)
    assert payload["Document"] == GUID_C and payload["FileName"] == "INV_2026_00042.pdf"
    assert isinstance(payload["Attachment"], str)
    assert base64.b64decode(payload["Attachment"]) == content
    with pytest.raises(PayloadError):
        attachment_payload(GUID_C, "a.pdf", "text, not bytes")
    with pytest.raises(PayloadError):
        attachment_payload(GUID_C, " ", b"x")
    with pytest.raises(PayloadError, match="10 MB"):
        attachment_payload(GUID_C, "big.pdf", b"0" * (10 * 1024 * 1024 + 1))
