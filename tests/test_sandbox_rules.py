"""Exact's business rules as the sandbox enforces them (HTTP 500 with Exact's texts)."""

import base64
from datetime import datetime

import pytest

from exact_sandbox import seed_guid
from exact_sandbox.odata import format_date

try:
    from tests.sandbox_fixtures import CUSTOMER, DIV, DIV2, GL, JOURNAL_70, error_text, make_env
except ImportError:
    from sandbox_fixtures import CUSTOMER, DIV, DIV2, GL, JOURNAL_70, error_text, make_env


@pytest.fixture
def env():
    return make_env(minutely_limit=10000)


@pytest.fixture
def env_en():
    return make_env(minutely_limit=10000, language="en")


# ---------------------------------------------------------------- accounts

def test_account_code_is_padded_to_18(env):
    d = env.post("crm/Accounts", json={"Name": "A", "Code": "42"}).json()["d"]
    assert d["Code"] == " " * 16 + "42" and len(d["Code"]) == 18
    stored = [a for a in env.sb.records(DIV, "Accounts") if a["ID"] == d["ID"]][0]
    assert stored["Code"] == d["Code"]


def test_account_code_assigned_as_highest_plus_one(env):
    d = env.post("crm/Accounts", json={"Name": "A"}).json()["d"]
    assert d["Code"] == "1001".rjust(18)
    env.post("crm/Accounts", json={"Name": "B", "Code": "5000"})
    assert env.post("crm/Accounts", json={"Name": "C"}).json()["d"]["Code"].strip() == "5001"


def test_account_code_with_letters_refused(env):
    r = env.post("crm/Accounts", json={"Name": "A", "Code": "AB12"})
    assert r.status_code == 500 and error_text(r) == "Ongeldig: Code"


def test_duplicate_account_code_refused(env, env_en):
    r = env.post("crm/Accounts", json={"Name": "A", "Code": "1000"})
    assert r.status_code == 500 and error_text(r) == "Gegeven bestaat reeds"
    r = env_en.post("crm/Accounts", json={"Name": "A", "Code": " " * 14 + "1000"})
    assert r.status_code == 500 and error_text(r) == "Already exists"


def test_account_name_mandatory_in_both_languages(env, env_en):
    r = env.post("crm/Accounts", json={"Code": "77"})
    assert r.status_code == 500 and error_text(r) == "Verplicht: Naam"
    r = env_en.post("crm/Accounts", json={"Code": "77"})
    assert error_text(r) == "Mandatory: Name"


def test_country_padded_and_status_c_is_sales(env):
    d = env.post("crm/Accounts", json={"Name": "A", "Country": "be", "Status": "C"}).json()["d"]
    assert d["Country"] == "BE " and d["IsSales"] is True and d["Status"] == "C"
    d = env.post("crm/Accounts", json={"Name": "B"}).json()["d"]
    assert d["IsSales"] is False


def test_read_only_fields_in_body_are_ignored(env):
    d = env.post("crm/Accounts", json={"Name": "A", "IsSales": True, "Type": "D"}).json()["d"]
    assert d["IsSales"] is False and d["Type"] == "A"


def test_account_payment_condition_must_exist(env):
    r = env.post("crm/Accounts", json={"Name": "A", "PaymentConditionSales": "99"})
    assert r.status_code == 500 and error_text(r) == "Ongeldige referentie: Betalingsconditie"


# ---------------------------------------------------------------- contacts

def test_contact_needs_account_and_a_name(env):
    r = env.post("crm/Contacts", json={"Email": "x@example.com"})
    assert r.status_code == 500
    assert error_text(r).split("\r\n") == ["Verplicht: Relatie", "Verplicht: Achternaam"]
    r = env.post("crm/Contacts", json={"Account": GL["8000"], "LastName": "Jansen"})
    assert error_text(r) == "Ongeldige referentie: Relatie"


def test_contact_created_under_account_and_main_contact(env):
    d = env.post("crm/Contacts", json={"Account": CUSTOMER, "FirstName": "Piet",
                                       "LastName": "Jansen"}).json()["d"]
    assert d["FullName"] == "Piet Jansen" and d["AccountName"] == "Van Dijk Bouw B.V."
    assert d["IsMainContact"] is False
    assert env.put(f"crm/Accounts(guid'{CUSTOMER}')",
                   json={"MainContact": d["ID"]}).status_code == 204
    r = env.get("crm/Contacts", params={"$filter": f"Account eq guid'{CUSTOMER}'"})
    assert r.json()["d"]["results"][0]["IsMainContact"] is True


# ---------------------------------------------------------------- master data

def test_vat_codes_padded_with_fraction_percentages(env):
    rows = env.get("vat/VATCodes").json()["d"]["results"]
    by_code = {r["Code"]: r for r in rows}
    assert set(by_code) == {"0  ", "1  ", "2  ", "4  ", "5  ", "6  "}
    assert by_code["2  "]["Percentage"] == 0.21 and by_code["1  "]["Percentage"] == 0.09
    assert by_code["4  "]["EUSalesListing"] == "L"
    assert by_code["6  "]["VATTransactionType"] == "P"
    assert by_code["2  "]["VATTransactionType"] == "S"


def test_journals_and_payment_conditions_seeded(env):
    journals = {j["Code"]: j["Type"] for j in env.get("financial/Journals").json()["d"][
        "results"]}
    assert journals == {"70": 20, "20": 12, "90": 90}
    pcs = {p["Code"]: p["PaymentDays"] for p in env.get("cashflow/PaymentConditions").json()[
        "d"]["results"]}
    assert pcs == {"00": 0, "7": 7, "14": 14, "30": 30}


def test_payment_condition_post_allowed(env):
    r = env.post("cashflow/PaymentConditions", json={"Code": "60", "Description": "60 dagen",
                                                     "PaymentDays": 60})
    assert r.status_code == 201
    r = env.post("cashflow/PaymentConditions", json={"Code": "60", "Description": "dubbel"})
    assert error_text(r) == "Gegeven bestaat reeds"


def test_divisions_endpoint_lists_both_demo_divisions(env):
    rows = env.get("system/Divisions").json()["d"]["results"]
    assert [(r["Code"], r["Description"]) for r in rows] == [
        (DIV, "ChainWise Demo B.V."), (DIV2, "ChainWise Zorg B.V.")]
    assert env.get(f"system/Divisions({DIV2})").json()["d"]["Code"] == DIV2


def test_seed_guids_are_deterministic_and_per_division(env):
    assert seed_guid(DIV, "GLAccounts", "8000") == GL["8000"]
    assert seed_guid(DIV2, "GLAccounts", "8000") != GL["8000"]
    ids = {r["Code"]: r["ID"] for r in env.get("financial/GLAccounts", division=DIV2).json()[
        "d"]["results"]}
    assert ids["8000"] == seed_guid(DIV2, "GLAccounts", "8000")


# ---------------------------------------------------------------- sales entries

def test_sales_entry_totals_type_period_and_number(env):
    r = env.post("salesentry/SalesEntries", json={
        "Customer": CUSTOMER, "Journal": "70", "EntryDate": "2026-02-14", "Currency": "USD",
        "Rate": 0.5, "YourRef": "INV/1", "SalesEntryLines": [
            {"GLAccount": GL["8000"], "AmountFC": 100, "VATCode": "2"},
            {"GLAccount": GL["8010"], "AmountFC": "50.00", "VATCode": "1"},
            {"GLAccount": GL["8020"], "AmountFC": 10, "VATCode": "0"}]})
    assert r.status_code == 201
    d = r.json()["d"]
    assert d["AmountFC"] == 185.5 and d["VATAmountFC"] == 25.5
    assert d["AmountDC"] == 92.75 and d["VATAmountDC"] == 12.75
    assert d["Type"] == 20 and d["ReportingYear"] == 2026 and d["ReportingPeriod"] == 2
    assert d["EntryNumber"] == 26700001
    assert d["PaymentCondition"] == "30"
    assert d["DueDate"] == format_date(datetime(2026, 3, 16))  # 14 Feb + 30 days


def test_entry_number_is_next_in_journal_and_unique(env):
    assert env.entry().json()["d"]["EntryNumber"] == 26700001
    assert env.entry().json()["d"]["EntryNumber"] == 26700002
    assert env.entry(EntryNumber=500).json()["d"]["EntryNumber"] == 500
    r = env.entry(EntryNumber=500)
    assert r.status_code == 500 and error_text(r) == "In gebruik: Boekstuknummer"
    assert env.entry().json()["d"]["EntryNumber"] == 26700003


def test_client_chosen_entry_id_kept_and_second_post_refused(env):
    eid = "3f0a9c1e-2b4d-4c6e-8f00-123456789abc"
    r = env.entry(EntryID=eid)
    assert r.status_code == 201 and r.json()["d"]["EntryID"] == eid
    assert env.get(f"salesentry/SalesEntries(guid'{eid}')").status_code == 200
    r = env.entry(EntryID=eid.upper())
    assert r.status_code == 500 and error_text(r) == "Gegeven bestaat reeds"
    assert len(env.sb.records(DIV, "SalesEntries")) == 1


def test_credit_note_is_type_21(env):
    d = env.entry(amount=-100).json()["d"]
    assert d["Type"] == 21 and d["AmountFC"] == -121.0


def test_line_vat_computed_from_code_unless_given(env):
    d = env.entry(amount=33.33, vat="2").json()["d"]
    assert d["VATAmountFC"] == 7.0
    r = env.post("salesentry/SalesEntries", json={
        "Customer": CUSTOMER, "Journal": "70", "SalesEntryLines": [
            {"GLAccount": GL["8000"], "AmountFC": 100, "VATCode": "2", "VATAmountFC": 20.99}]})
    assert r.json()["d"]["VATAmountFC"] == 20.99


def test_line_without_vat_code_takes_the_gl_default(env):
    d = env.entry(vat=None, gl="8010").json()["d"]
    assert d["VATAmountFC"] == 9.0


def test_customer_rules(env):
    r = env.post("salesentry/SalesEntries", json={
        "Customer": "00000000-0000-0000-0000-000000000009", "Journal": "70",
        "SalesEntryLines": [{"GLAccount": GL["8000"], "AmountFC": 1}]})
    assert error_text(r) == "Ongeldige referentie: Klant"
    prospect = env.post("crm/Accounts", json={"Name": "Prospect", "Status": "P"}).json()["d"]
    r = env.post("salesentry/SalesEntries", json={
        "Customer": prospect["ID"], "Journal": "70",
        "SalesEntryLines": [{"GLAccount": GL["8000"], "AmountFC": 1}]})
    assert r.status_code == 500 and error_text(r) == "Ongeldig: Klant (Type)"


def test_journal_rules(env):
    r = env.entry(Journal="71")
    assert error_text(r) == "Ongeldige referentie: Dagboek"
    r = env.entry(Journal=JOURNAL_70)
    assert error_text(r) == "Ongeldige referentie: Journals"
    r = env.entry(Journal="20")
    assert error_text(r) == "Ongeldig: Dagboek (Type)"


def test_entry_needs_lines(env):
    r = env.post("salesentry/SalesEntries", json={"Customer": CUSTOMER, "Journal": "70",
                                                  "SalesEntryLines": []})
    assert r.status_code == 500 and error_text(r) == "Verplicht: Regels"


def test_gl_account_must_be_revenue(env):
    for code in ("1300", "1500"):
        r = env.entry(gl=code, vat="0")
        assert r.status_code == 500 and error_text(r) == "Ongeldig: Grootboekrekeningtype"
    r = env.post("salesentry/SalesEntries", json={
        "Customer": CUSTOMER, "Journal": "70",
        "SalesEntryLines": [{"GLAccount": CUSTOMER, "AmountFC": 1}]})
    assert error_text(r) == "Ongeldige referentie: Grootboekrekening"


def test_vat_code_and_payment_condition_must_exist(env):
    r = env.entry(vat="9", PaymentCondition="99")
    assert set(error_text(r).split("\r\n")) == {"Ongeldige referentie: Btw-code",
                                                 "Ongeldige referentie: Betalingsconditie"}


def test_purchase_vat_code_refused_on_sales_line(env):
    r = env.entry(vat="6")
    assert r.status_code == 500 and error_text(r) == "Ongeldig: Btw-code"


def test_english_business_rule_texts(env_en):
    r = env_en.entry(gl="1300", vat="0", Journal="71")
    assert set(error_text(r).split("\r\n")) == {"Invalid reference: Journal",
                                                 "Invalid: G/L account type"}


def test_zero_entries_accepted_unless_refused():
    env = make_env()
    d = env.entry(amount=0, gl="8999", vat="0").json()["d"]
    assert d["AmountFC"] == 0.0 and d["Type"] == 20
    env.sb.configure(refuse_zero_entries=True)
    r = env.entry(amount=0, gl="8999", vat="0")
    assert r.status_code == 500 and error_text(r) == "Ongeldig: Bedrag"
    env2 = make_env(refuse_zero_entries=True)
    assert env2.entry(amount=0, gl="8999", vat="0").status_code == 500


def test_closed_period_refuses_entries(env):
    env.sb.configure(division=DIV, closed_before="2026-03-01")
    r = env.entry(EntryDate="2026-02-28")
    assert r.status_code == 500 and error_text(r).startswith("Periode is afgesloten")
    assert env.entry(EntryDate="2026-03-01").status_code == 201
    assert env.entry(EntryDate="2026-02-28", division=DIV2).status_code == 201


def test_unknown_fiscal_year(env):
    r = env.entry(ReportingYear=1990)
    assert r.status_code == 500 and error_text(r).startswith("Onbekend: Boekjaar")


def test_missing_payment_condition_without_default(env):
    env.sb.configure(division=DIV, default_payment_condition=None)
    acc = env.post("crm/Accounts", json={"Name": "Nieuw", "Status": "C"}).json()["d"]
    r = env.post("salesentry/SalesEntries", json={
        "Customer": acc["ID"], "Journal": "70",
        "SalesEntryLines": [{"GLAccount": GL["8000"], "AmountFC": 1}]})
    assert error_text(r) == "Verplicht: Betalingsconditie"
    # the demo customer has its own sales condition
    assert env.entry().json()["d"]["PaymentCondition"] == "30"


def test_put_header_and_line_endpoint_recompute_totals(env):
    d = env.entry(amount=100).json()["d"]
    eid = d["EntryID"]
    assert env.put(f"salesentry/SalesEntries(guid'{eid}')",
                   json={"Description": "Factuur 1", "YourRef": "R1"}).status_code == 204
    r = env.post("salesentry/SalesEntryLines", json={"EntryID": eid, "GLAccount": GL["8010"],
                                                     "AmountFC": 100, "VATCode": "1"})
    assert r.status_code == 201
    got = env.get(f"salesentry/SalesEntries(guid'{eid}')").json()["d"]
    assert got["Description"] == "Factuur 1" and got["AmountFC"] == 230.0


def test_deleting_the_last_line_deletes_the_entry(env):
    eid = env.entry().json()["d"]["EntryID"]
    lines = env.get(f"salesentry/SalesEntries(guid'{eid}')/SalesEntryLines").json()["d"][
        "results"]
    assert env.delete(f"salesentry/SalesEntryLines(guid'{lines[0]['ID']}')").status_code == 204
    assert env.get(f"salesentry/SalesEntries(guid'{eid}')").status_code == 404


def test_delete_entry_removes_its_lines(env):
    eid = env.entry().json()["d"]["EntryID"]
    assert env.delete(f"salesentry/SalesEntries(guid'{eid}')").status_code == 204
    assert env.sb.records(DIV, "SalesEntryLines") == []


def test_filter_sales_entries_by_your_ref_and_customer(env):
    env.entry(YourRef="INV/2026/0007")
    env.entry(YourRef="INV/2026/0008")
    f = f"YourRef eq 'INV/2026/0007' and Customer eq guid'{CUSTOMER}' and Journal eq '70'"
    rows = env.get("salesentry/SalesEntries", params={"$filter": f}).json()["d"]["results"]
    assert [r["YourRef"] for r in rows] == ["INV/2026/0007"]
    r = env.get("salesentry/SalesEntries", params={"$filter": "AmountFC eq 121"})
    assert r.status_code == 400


# ---------------------------------------------------------------- documents

def test_document_and_attachment_linked_to_entry(env):
    doc = env.post("documents/Documents", json={"Subject": "INV/1", "Type": 10,
                                                "Account": CUSTOMER,
                                                "DocumentDate": "2026-03-01"}).json()["d"]
    assert doc["TypeDescription"] == "Verkoopfactuur" and doc["AccountCode"].strip() == "1000"
    pdf = base64.b64encode(b"%PDF-1.4 demo").decode()
    r = env.post("documents/DocumentAttachments", json={"Document": doc["ID"],
                                                        "FileName": "INV_1.pdf",
                                                        "Attachment": pdf})
    assert r.status_code == 201 and r.json()["d"]["FileSize"] == 13.0
    d = env.entry(Document=doc["ID"]).json()["d"]
    assert d["Document"] == doc["ID"] and d["DocumentSubject"] == "INV/1"


def test_document_requires_subject_and_type(env):
    r = env.post("documents/Documents", json={})
    assert error_text(r).split("\r\n") == ["Verplicht: Onderwerp", "Verplicht: Type"]


def test_attachment_must_be_base64(env):
    doc = env.post("documents/Documents", json={"Subject": "x", "Type": 10}).json()["d"]
    r = env.post("documents/DocumentAttachments", json={"Document": doc["ID"],
                                                        "FileName": "a.pdf",
                                                        "Attachment": "not base64!!"})
    assert r.status_code == 400
    assert error_text(r) == (
        "Error processing request stream. Error encountered in converting the value from "
        "request payload for property 'Attachment' to type 'Byte[]'")


def test_attachment_has_no_put(env):
    doc = env.post("documents/Documents", json={"Subject": "x", "Type": 10}).json()["d"]
    att = env.post("documents/DocumentAttachments", json={
        "Document": doc["ID"], "FileName": "a.txt", "Attachment": "aGVsbG8="}).json()["d"]
    assert env.put(f"documents/DocumentAttachments(guid'{att['ID']}')",
                   json={"FileName": "b.txt"}).status_code == 405
    assert env.delete(f"documents/DocumentAttachments(guid'{att['ID']}')").status_code == 204


def test_entry_with_unknown_document_refused(env):
    r = env.entry(Document="00000000-0000-0000-0000-0000000000aa")
    assert error_text(r) == "Ongeldige referentie: Document"


# ---------------------------------------------------------------- audit additions

def test_demo_seed_is_what_the_issue_lists(env):
    for div, name in ((DIV, "ChainWise Demo B.V."), (DIV2, "ChainWise Zorg B.V.")):
        assert env.get(f"system/Divisions({div})").json()["d"]["Description"] == name
        gls = {g["Code"]: (g["Description"], g["Type"]) for g in env.get(
            "financial/GLAccounts", division=div).json()["d"]["results"]}
        assert gls == {"8000": ("Omzet hoog", 110), "8010": ("Omzet laag", 110),
                       "8020": ("Omzet vrijgesteld", 110), "8100": ("Omzet binnen EU", 110),
                       "8200": ("Omzet buiten EU", 110), "8999": ("Nulfacturen", 110),
                       "1300": ("Debiteuren", 20), "1500": ("Af te dragen btw", 24)}
        vats = {v["Code"].strip(): (v["Percentage"], v["VATTransactionType"], v["EUSalesListing"])
                for v in env.get("vat/VATCodes", division=div).json()["d"]["results"]}
        assert vats["0"][0] == 0 and vats["1"][0] == 0.09 and vats["2"][0] == 0.21
        assert vats["4"] == (0.0, "S", "L") and vats["5"][:2] == (0.0, "S")
        assert [c for c, v in vats.items() if v[1] == "P"] == ["6"]          # purchase only
        pcs = {p["Code"]: (p["Description"], p["PaymentDays"]) for p in env.get(
            "cashflow/PaymentConditions", division=div).json()["d"]["results"]}
        assert pcs["00"] == ("Contant", 0) and {c: d for c, (_, d) in pcs.items()} == {
            "00": 0, "7": 7, "14": 14, "30": 30}
        journals = {j["Code"]: (j["Description"], j["Type"]) for j in env.get(
            "financial/Journals", division=div).json()["d"]["results"]}
        assert journals == {"70": ("Verkoopboek", 20), "20": ("Bank", 12),
                            "90": ("Memoriaal", 90)}
        customers = env.get("crm/Accounts", division=div,
                            params={"$filter": "Status eq 'C'"}).json()["d"]["results"]
        assert len(customers) == 1
        assert customers[0]["VATNumber"] and customers[0]["ChamberOfCommerce"]


def test_lines_summing_to_zero_are_accepted_unless_refused(env):
    body = {"Customer": CUSTOMER, "Journal": "70", "SalesEntryLines": [
        {"GLAccount": GL["8000"], "AmountFC": 100, "VATCode": "2"},
        {"GLAccount": GL["8000"], "AmountFC": -100, "VATCode": "2"}]}
    r = env.post("salesentry/SalesEntries", json=body)
    assert r.status_code == 201
    d = r.json()["d"]
    assert d["AmountFC"] == 0.0 and d["VATAmountFC"] == 0.0 and d["Type"] == 20
    env.sb.configure(refuse_zero_entries=True)
    r = env.post("salesentry/SalesEntries", json=body)
    assert r.status_code == 500 and error_text(r) == "Ongeldig: Bedrag"
    assert len(env.sb.records(DIV, "SalesEntries")) == 1


def test_entry_numbers_stay_unique_per_journal_after_delete_and_put(env):
    first = env.entry().json()["d"]
    second = env.entry().json()["d"]
    assert env.delete(f"salesentry/SalesEntries(guid'{second['EntryID']}')").status_code == 204
    assert env.entry().json()["d"]["EntryNumber"] == 26700002         # the highest went
    r = env.put(f"salesentry/SalesEntries(guid'{first['EntryID']}')", json={"EntryNumber": 900})
    assert r.status_code == 204
    assert env.entry().json()["d"]["EntryNumber"] == 26700003         # highest + 1
    r = env.entry(EntryNumber=900)
    assert r.status_code == 500 and error_text(r) == "In gebruik: Boekstuknummer"
    assert env.entry(EntryNumber=26700001).status_code == 201          # freed by the PUT


def test_line_needs_a_gl_account_and_an_amount(env):
    r = env.post("salesentry/SalesEntries", json={
        "Customer": CUSTOMER, "Journal": "70",
        "SalesEntryLines": [{"GLAccount": GL["8000"]}, {"AmountFC": 5}]})
    assert r.status_code == 500
    assert set(error_text(r).split("\r\n")) == {"Verplicht: Bedrag",
                                                 "Verplicht: Grootboekrekening"}


def test_entry_number_is_an_int32(env):
    for bad in ("abc", 2**31, 1.5):
        r = env.entry(EntryNumber=bad)
        assert r.status_code == 400
        assert "'EntryNumber' to type 'Int32'" in error_text(r)
    assert env.entry(EntryNumber="42").json()["d"]["EntryNumber"] == 42


def test_document_linked_by_financial_transaction_entry_id(env):
    entry = env.entry().json()["d"]
    r = env.post("documents/Documents", json={
        "Subject": "INV/9", "Type": 10, "FinancialTransactionEntryID": entry["EntryID"]})
    assert r.status_code == 201
    found = env.get("documents/Documents", params={
        "$filter": f"FinancialTransactionEntryID eq guid'{entry['EntryID']}'"}).json()["d"]
    assert [d["Subject"] for d in found["results"]] == ["INV/9"]
    r = env.post("documents/Documents", json={
        "Subject": "INV/10", "Type": 10,
        "FinancialTransactionEntryID": "00000000-0000-0000-0000-0000000000bb"})
    assert r.status_code == 500 and error_text(r) == "Ongeldige referentie: Boeking"
