"""Envelopes, paging, $filter/$select/$top/$expand, dates and error shapes."""

from datetime import datetime

import pytest

from exact_sandbox.odata import (
    FilterSyntaxError,
    evaluate,
    format_date,
    parse_filter,
    parse_input_datetime,
)

try:
    from tests.sandbox_fixtures import CUSTOMER, DIV, GL, error_text, make_env
except ImportError:
    from sandbox_fixtures import CUSTOMER, DIV, GL, error_text, make_env


@pytest.fixture
def env():
    return make_env(minutely_limit=10000)


def _accounts(env, n):
    for i in range(n):
        r = env.post("crm/Accounts", json={"Name": f"Klant {i:03d}", "Status": "C"}, full=False)
        assert r.status_code == 201


def test_me_has_no_division_in_path_and_current_division(env):
    r = env.get("current/Me", division=None)
    assert r.status_code == 200
    me = r.json()["d"]["results"][0]
    assert me["CurrentDivision"] == DIV
    assert me["__metadata"]["type"] == "Exact.Web.Api.Models.System.Me"
    for field in ("UserID", "FullName", "Email", "UserName", "LanguageCode", "ServerTime"):
        assert me[field]
    assert "X-RateLimit-Limit" not in r.headers


def test_list_envelope_and_metadata(env):
    r = env.get("financial/GLAccounts")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    d = r.json()["d"]
    assert "__next" not in d
    rec = d["results"][0]
    assert rec["__metadata"]["type"] == "Exact.Web.Api.Models.GLAccount"
    assert rec["__metadata"]["uri"] == (
        f"http://sandbox.test/api/v1/{DIV}/financial/GLAccounts(guid'{rec['ID']}')")
    assert {r["Code"] for r in d["results"]} >= {"8000", "8999", "1300", "1500"}


def test_single_record_by_key_is_d_object(env):
    r = env.get(f"financial/GLAccounts(guid'{GL['8000']}')")
    assert r.status_code == 200
    d = r.json()["d"]
    assert d["Code"] == "8000" and d["Type"] == 110 and d["Description"] == "Omzet hoog"


def test_unknown_key_is_404_with_error_body(env):
    r = env.get("financial/GLAccounts(guid'00000000-0000-0000-0000-000000000001')")
    assert r.status_code == 404
    assert "error" in r.json()


def test_bad_guid_literal_is_400(env):
    r = env.get("financial/GLAccounts(guid'not-a-guid')")
    assert r.status_code == 400


def test_unknown_entity_is_404(env):
    assert env.get("crm/Nonsense").status_code == 404


def test_paging_60_per_page_with_next_link_on_base_url(env):
    _accounts(env, 130)
    seen = []
    url = env.url("crm/Accounts") + "?$filter=Status eq 'C'&$select=ID,Name"
    pages = 0
    while url:
        r = env.session.get(url, headers={
            "Authorization": f"Bearer {env.tokens['access_token']}"})
        d = r.json()["d"]
        pages += 1
        assert len(d["results"]) <= 60
        seen += [x["ID"] for x in d["results"]]
        url = d.get("__next")
        if url:
            assert url.startswith("http://sandbox.test/api/v1/100001/crm/Accounts?")
            assert "$skiptoken=guid'" in url
            assert "$select=ID,Name" in url
    assert pages == 3
    assert len(seen) == 131 == len(set(seen))


def test_top_limits_results_and_stops_paging(env):
    _accounts(env, 70)
    d = env.get("crm/Accounts", params={"$filter": "Status eq 'C'", "$top": "5"}).json()["d"]
    assert len(d["results"]) == 5 and "__next" not in d
    d = env.get("crm/Accounts", params={"$filter": "Status eq 'C'", "$top": "65"}).json()["d"]
    assert len(d["results"]) == 60
    nxt = env.session.get(d["__next"], headers={
        "Authorization": f"Bearer {env.tokens['access_token']}"}).json()["d"]
    assert len(nxt["results"]) == 5 and "__next" not in nxt


def test_select_returns_only_selected_fields(env):
    d = env.get("financial/GLAccounts", params={"$select": "ID,Code"}).json()["d"]
    assert set(d["results"][0]) == {"__metadata", "ID", "Code"}


def test_select_unknown_field_is_400(env):
    assert env.get("financial/GLAccounts", params={"$select": "Nope"}).status_code == 400


def test_filter_eq_on_code_and_quote_escaping(env):
    env.post("crm/Accounts", json={"Name": "O'Brien B.V."})
    r = env.get("crm/Accounts", params={"$filter": "Name eq 'O''Brien B.V.'"})
    assert [a["Name"] for a in r.json()["d"]["results"]] == ["O'Brien B.V."]


def test_filter_account_code_needs_padding_or_trim(env):
    padded = "1000".rjust(18)
    assert env.get("crm/Accounts", params={"$filter": "Code eq '1000'"}).json()["d"][
        "results"] == []
    assert len(env.get("crm/Accounts", params={"$filter": f"Code eq '{padded}'"}).json()[
        "d"]["results"]) == 1
    assert len(env.get("crm/Accounts", params={"$filter": "trim(Code) eq '1000'"}).json()[
        "d"]["results"]) == 1


def test_filter_guid_and_or_parentheses(env):
    f = (f"(ID eq guid'{GL['8000']}' or ID eq guid'{GL['8010']}') and Type eq 110")
    codes = sorted(r["Code"] for r in env.get("financial/GLAccounts",
                                              params={"$filter": f}).json()["d"]["results"])
    assert codes == ["8000", "8010"]


def test_filter_numbers_comparisons_and_ne(env):
    r = env.get("financial/GLAccounts", params={"$filter": "Type ge 100 and Code ne '8999'"})
    codes = sorted(x["Code"] for x in r.json()["d"]["results"])
    assert codes == ["8000", "8010", "8020", "8100", "8200"]
    r = env.get("financial/GLAccounts", params={"$filter": "Type lt 21"})
    assert [x["Code"] for x in r.json()["d"]["results"]] == ["1300"]


def test_filter_boolean_and_datetime_literals(env):
    env.entry(EntryDate="2026-02-10")
    env.entry(EntryDate="2026-03-05")
    r = env.get("salesentry/SalesEntries",
                params={"$filter": "EntryDate ge datetime'2026-03-01'"})
    assert len(r.json()["d"]["results"]) == 1
    r = env.get("financial/GLAccounts", params={"$filter": "IsBlocked eq false"})
    assert len(r.json()["d"]["results"]) == 8


def test_filter_by_id_equals_entity_by_key(env):
    r = env.get("crm/Accounts", params={"$filter": f"ID eq guid'{CUSTOMER}'"})
    assert r.json()["d"]["results"][0]["ID"] == CUSTOMER


def test_filter_on_field_not_allowed_is_400(env):
    r = env.get("crm/Accounts", params={"$filter": "Remarks eq 'x' and Name eq 'y'"})
    assert r.status_code == 400
    assert error_text(r) == "Filtering on these fields is not supported: Remarks"


def test_filter_syntax_error_is_400(env):
    r = env.get("financial/GLAccounts", params={"$filter": "Code eq 'unterminated"})
    assert r.status_code == 400
    r = env.get("financial/GLAccounts", params={"$filter": "Code eq"})
    assert r.status_code == 400


def test_filter_operand_type_mismatch_is_400(env):
    r = env.get("financial/GLAccounts", params={"$filter": "Type eq '110'"})
    assert r.status_code == 400
    assert "incompatible" in error_text(r)


def test_accounts_have_mandatory_filtering(env):
    r = env.get("crm/Accounts")
    assert r.status_code == 400
    text = error_text(r)
    assert text.startswith("This endpoint has mandatory filtering applied.")
    assert "VATNumber" in text and "ChamberOfCommerce" in text
    assert env.get(f"crm/Accounts(guid'{CUSTOMER}')").status_code == 200


@pytest.mark.parametrize("field,value", [
    ("VATNumber", "NL123456789B01"), ("ChamberOfCommerce", "12345678"),
    ("Email", "administratie@vandijkbouw.example"), ("Name", "Van Dijk Bouw B.V."),
    ("Status", "C"),
])
def test_accounts_can_be_matched_by_the_lookup_fields(env, field, value):
    r = env.get("crm/Accounts", params={"$filter": f"{field} eq '{value}'", "$select": "ID"})
    assert [a["ID"] for a in r.json()["d"]["results"]] == [CUSTOMER]


def test_sales_entry_lines_deferred_unless_expanded(env):
    entry_id = env.entry().json()["d"]["EntryID"]
    d = env.get(f"salesentry/SalesEntries(guid'{entry_id}')").json()["d"]
    assert d["SalesEntryLines"] == {"__deferred": {"uri": (
        f"http://sandbox.test/api/v1/{DIV}/salesentry/SalesEntries(guid'{entry_id}')"
        "/SalesEntryLines")}}
    d = env.get(f"salesentry/SalesEntries(guid'{entry_id}')",
                params={"$expand": "SalesEntryLines"}).json()["d"]
    lines = d["SalesEntryLines"]["results"]
    assert len(lines) == 1 and lines[0]["AmountFC"] == 100.0
    assert lines[0]["__metadata"]["type"] == "Exact.Web.Api.Models.SalesEntryLine"


def test_deferred_uri_answers_the_lines(env):
    entry_id = env.entry().json()["d"]["EntryID"]
    d = env.get(f"salesentry/SalesEntries(guid'{entry_id}')").json()["d"]
    r = env.session.get(d["SalesEntryLines"]["__deferred"]["uri"], headers={
        "Authorization": f"Bearer {env.tokens['access_token']}"})
    assert [x["GLAccount"] for x in r.json()["d"]["results"]] == [GL["8000"]]


def test_expand_with_child_select(env):
    env.entry()
    r = env.get("salesentry/SalesEntries", params={
        "$select": "EntryID,SalesEntryLines/AmountFC", "$expand": "SalesEntryLines"})
    rec = r.json()["d"]["results"][0]
    assert set(rec) == {"__metadata", "EntryID", "SalesEntryLines"}
    assert set(rec["SalesEntryLines"]["results"][0]) == {"__metadata", "AmountFC"}


def test_dates_go_out_as_amsterdam_wall_clock_ms(env):
    d = env.entry(EntryDate="2024-08-12").json()["d"]
    assert d["EntryDate"] == "/Date(1723420800000)/"
    # created at 2026-03-02 09:00 UTC = 10:00 CET, written as if UTC
    assert d["Created"] == "/Date(1772445600000)/"


def test_summer_time_is_two_hours_ahead(env):
    env.clock.set(datetime.fromisoformat("2026-06-25T14:31:00+00:00").timestamp())
    env.tokens = env.sb.issue_tokens()
    d = env.entry().json()["d"]
    assert d["Created"] == format_date(datetime(2026, 6, 25, 16, 31))


def test_iso_datetime_with_offset_is_accepted(env):
    d = env.entry(EntryDate="2026-03-01T00:00:00Z").json()["d"]
    assert d["EntryDate"] == format_date(datetime(2026, 3, 1))
    d = env.entry(EntryDate="2026-03-04T12:30:00+01:00").json()["d"]
    assert d["EntryDate"] == format_date(datetime(2026, 3, 4))


def test_post_answers_201_with_only_the_key_without_prefer(env):
    r = env.post("crm/Accounts", json={"Name": "Minimal B.V."}, full=False)
    assert r.status_code == 201
    d = r.json()["d"]
    assert d["ID"] and d["Name"] is None and d["Code"] is None
    assert d["__metadata"]["type"] == "Exact.Web.Api.Models.Account"


def test_post_with_prefer_returns_the_record(env):
    r = env.post("crm/Accounts", json={"Name": "Full B.V.", "Country": "NL"})
    d = r.json()["d"]
    assert r.status_code == 201 and d["Name"] == "Full B.V." and d["Country"] == "NL "


def test_put_and_delete_answer_204_empty(env):
    key = env.post("crm/Accounts", json={"Name": "Tmp B.V."}).json()["d"]["ID"]
    r = env.put(f"crm/Accounts(guid'{key}')", json={"City": "Zwolle"})
    assert r.status_code == 204 and r.content == b""
    assert env.get(f"crm/Accounts(guid'{key}')").json()["d"]["City"] == "Zwolle"
    r = env.delete(f"crm/Accounts(guid'{key}')")
    assert r.status_code == 204 and r.content == b""
    assert env.get(f"crm/Accounts(guid'{key}')").status_code == 404


def test_malformed_json_is_400_request_stream(env):
    r = env.request("POST", "crm/Accounts", data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert error_text(r).startswith("Error processing request stream.")
    r = env.post("crm/Accounts", json=[{"Name": "x"}])
    assert r.status_code == 400
    assert error_text(r).startswith("Error processing request stream.")


def test_unknown_property_and_wrong_type_are_400(env):
    r = env.post("crm/Accounts", json={"Name": "x", "Nonsense": 1})
    assert r.status_code == 400 and "Nonsense" in error_text(r)
    r = env.entry(amount="abc")
    assert r.status_code == 400
    assert "'AmountFC' to type 'Double'" in error_text(r)


def test_error_body_shape_and_crlf_joined_messages(env):
    r = env.post("salesentry/SalesEntries", json={"Journal": "70"})
    assert r.status_code == 500
    body = r.json()
    assert body["error"]["code"] == "" and body["error"]["message"]["lang"] == ""
    assert body["error"]["message"]["value"].split("\r\n") == ["Verplicht: Klant",
                                                               "Verplicht: Regels"]


def test_method_not_supported_is_405(env):
    pc = env.get("cashflow/PaymentConditions").json()["d"]["results"][0]["ID"]
    assert env.put(f"cashflow/PaymentConditions(guid'{pc}')", json={}).status_code == 405
    assert env.delete(f"cashflow/PaymentConditions(guid'{pc}')").status_code == 405


def test_filter_parser_units():
    node = parse_filter("trim(Code) eq '25' and (Type gt 1 or not IsBlocked eq true)")
    assert evaluate(node, {"Code": "      25", "Type": 0, "IsBlocked": False})
    assert not evaluate(node, {"Code": "      26", "Type": 5, "IsBlocked": False})
    with pytest.raises(FilterSyntaxError):
        parse_filter("Code eq guid'xyz'")
    with pytest.raises(FilterSyntaxError):
        parse_filter("(Code eq '1'")


def test_input_date_parser_units():
    assert parse_input_datetime("2026-01-31") == datetime(2026, 1, 31)
    assert parse_input_datetime("2026-07-01T10:00:00Z") == datetime(2026, 7, 1, 12, 0)
    assert parse_input_datetime("/Date(1723420800000)/") == datetime(2024, 8, 12)
    assert format_date(datetime(2024, 8, 12)) == "/Date(1723420800000)/"


def test_hrm_divisions_answers_like_system_divisions(env):
    system = env.get("system/Divisions").json()["d"]["results"]
    hrm = env.get("hrm/Divisions").json()["d"]["results"]
    assert [d["Code"] for d in hrm] == [d["Code"] for d in system] == [100001, 100002]
    assert hrm[0]["__metadata"]["uri"].endswith("/hrm/Divisions(100001)")
    assert env.get("hrm/Divisions(100002)").json()["d"]["Description"] == "ChainWise Zorg B.V."


def test_skip_is_refused_use_next(env):
    r = env.get("financial/GLAccounts", params={"$skip": "2"})
    assert r.status_code == 400 and "__next" in error_text(r)


def test_skiptoken_pages_through_a_filtered_list_in_key_order(env):
    _accounts(env, 65)
    first = env.get("crm/Accounts", params={"$filter": "Status eq 'C'", "$select": "ID"}).json()
    ids = [a["ID"] for a in first["d"]["results"]]
    assert ids == sorted(ids)
    rest = env.session.get(first["d"]["__next"], headers={
        "Authorization": f"Bearer {env.tokens['access_token']}"}).json()["d"]
    more = [a["ID"] for a in rest["results"]]
    assert len(ids) + len(more) == 66 and more[0] > ids[-1] and "__next" not in rest
    ordered = env.get("crm/Accounts", params={"$filter": "Status eq 'C'", "$orderby": "Name desc",
                                              "$top": "3"}).json()["d"]["results"]
    assert [a["Name"] for a in ordered] == ["Van Dijk Bouw B.V.", "Klant 064", "Klant 063"]
