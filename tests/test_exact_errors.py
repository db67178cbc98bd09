"""Reading Exact's error texts into items a bookkeeper understands."""

import pytest

from chainwise_exact_connector.exact import (
    ExactError,
    FunctionalError,
    RateLimited,
    RefreshTooEarly,
    TokenError,
    TransientError,
    parse_error_items,
    redact,
)


@pytest.mark.parametrize(
    "text,kind,field,topic",
    [
        ("Verplicht: Betalingsconditie", "mandatory", "Betalingsconditie", "payment_condition"),
        ("Mandatory: Payment condition", "mandatory", "Payment condition", "payment_condition"),
        ("Ongeldige referentie: Btw-code", "invalid_reference", "Btw-code", "vat_code"),
        ("Invalid reference: Journals", "invalid_reference", "Journals", "journal"),
        ("Ongeldig: Klant (Type)", "invalid", "Klant (Type)", "customer"),
        ("Invalid: Grootboekrekeningtype", "invalid", "Grootboekrekeningtype", "gl_account_type"),
        ("Invalid: VAT percentage []", "invalid", "VAT percentage []", "vat_percentage"),
        ("Gegeven bestaat reeds.", "already_exists", None, None),
        ("Already exists: Code", "already_exists", "Code", "account_code"),
        ("In gebruik: Boekstuknummer", "entry_number_in_use", "Boekstuknummer", "entry_number"),
        ("In use: Entry number", "entry_number_in_use", "Entry number", "entry_number"),
        (
            "Invoice number is already used as document number in Exact.",
            "entry_number_in_use",
            "document number",
            "entry_number",
        ),
        ("Periode is afgesloten: 2026 - 3", "period_closed", "2026 - 3", None),
        ("The period is closed", "period_closed", None, None),
        ("Unknown: Fiscal year (Period - date table)", "unknown", None, None),
        ("Something odd happened", "unknown", None, None),
    ],
)
def test_kinds_and_fields(text, kind, field, topic):
    [item] = parse_error_items(text)
    assert (item.kind, item.field, item.topic) == (kind, field, topic)
    assert item.text == text
    assert item.explanation


def test_invalid_reference_payment_condition_explained_in_plain_words():
    [item] = parse_error_items("Ongeldige referentie: Betalingsconditie")
    assert item.explanation == (
        "Exact does not know the payment condition that was sent. "
        "Map the payment term to an existing Exact payment condition."
    )


def test_explanations_are_plain_english():
    texts = {
        "Verplicht: Betalingsconditie": "requires the payment condition",
        "Ongeldig: Klant (Type)": "not a customer",
        "Ongeldig: Grootboekrekeningtype": "not a revenue account",
        "In gebruik: Boekstuknummer": "entry number is already used",
        "Periode is afgesloten: 2026 - 3": "period of the invoice date is closed",
        "Gegeven bestaat reeds": "already has this record",
        "Unknown: Fiscal year": "no financial year",
        "Verplicht: Iets Vreemds": 'the field "Iets Vreemds"',
        "Ongeldige referentie: Kostenplaats": 'the value of "Kostenplaats"',
        "Ongeldig: Kostenplaats": "does not accept",
        "Rare fout": "Exact reported: Rare fout",
    }
    for text, fragment in texts.items():
        [item] = parse_error_items(text)
        assert fragment in item.explanation, (text, item.explanation)
        # no Dutch jargon leaks into the explanation of a known item
        if item.kind != "unknown" and item.topic:
            assert "Verplicht" not in item.explanation


def test_two_problems_joined_by_crlf():
    items = parse_error_items("Verplicht: Dagboek\r\nOngeldige referentie: Btw-code\r\n")
    assert [(i.kind, i.topic) for i in items] == [
        ("mandatory", "journal"),
        ("invalid_reference", "vat_code"),
    ]
    items = parse_error_items("Mandatory: Relationship\nInvalid reference: Cost unit\rX")
    assert [i.kind for i in items] == ["mandatory", "invalid_reference", "unknown"]


def test_empty_text_gives_one_unknown_item():
    [item] = parse_error_items("")
    assert item.kind == "unknown"
    assert parse_error_items(None)[0].kind == "unknown"


def test_functional_error_bundles_items():
    exc = FunctionalError(500, "Verplicht: Dagboek\r\nIn gebruik: Boekstuknummer")
    assert exc.status == 500
    assert len(exc.items) == 2
    assert exc.explanation.count("\n") == 1
    assert "sales journal" in exc.explanation
    assert "Verplicht: Dagboek" in str(exc)
    assert isinstance(exc, ExactError)


def test_other_exceptions_carry_their_data():
    assert TransientError("x", ambiguous=True, status=502).ambiguous is True
    limited = RateLimited("x", reset_at=5.0, family="daily")
    assert (limited.reset_at, limited.family) == (5.0, "daily")
    early = RefreshTooEarly("x", retry_at=9.0)
    assert isinstance(early, TokenError) and early.retry_at == 9.0 and early.token is None


def test_redact():
    assert redact("token abcdef and abcdef", ["abcdef", None, "ab"]) == "token *** and ***"
    assert redact(None, ["x"]) == ""
