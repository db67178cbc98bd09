"""The sandbox stays linear under load: indexed lookups, lazy paging, debounced state file.

These tests count work (records viewed, tables scanned, file writes) rather than time, so
they are deterministic."""

import copy
import json
import time
import uuid

import pytest

from exact_sandbox import ManualClock, Sandbox
from exact_sandbox import entities as E
from exact_sandbox.odata import evaluate, filter_candidates, parse_filter
from exact_sandbox.table import Table

try:
    from tests.sandbox_fixtures import CUSTOMER, DIV, GL, T0, make_env
except ImportError:
    from sandbox_fixtures import CUSTOMER, DIV, GL, T0, make_env


# ---------------------------------------------------------------- Table

def test_table_keeps_its_indexes_on_set_replace_and_delete():
    t = Table(indexed=("Code", "YourRef"))
    t["a"] = {"Code": "  100", "YourRef": "INV/1"}
    t["b"] = {"Code": "200", "YourRef": "inv/1 "}
    assert t.lookup("Code", "100") == {"a"}
    assert t.lookup("YourRef", "INV/1") == {"a", "b"}          # superset: blanks, case
    t["a"] = {"Code": "300", "YourRef": "INV/2"}
    assert t.lookup("Code", "100") == set() and t.lookup("Code", "300") == {"a"}
    del t["b"]
    assert t.lookup("YourRef", "INV/1") == set()
    assert t.pop("a")["Code"] == "300" and len(t) == 0
    assert t.lookup("Unindexed", "x") is None
    t.update({"c": {"Code": 7}})
    assert t.lookup("Code", 7.0) == {"c"}                        # numbers as Decimal


def test_table_max_of_is_cached_and_follows_changes():
    t = Table(indexed=("Journal",))
    t["1"] = {"Journal": "70", "EntryNumber": 5}
    t["2"] = {"Journal": "71", "EntryNumber": 99}
    num = lambda v: v if isinstance(v, int) else None           # noqa: E731
    assert t.max_of("EntryNumber", num, group=("Journal", "70")) == 5
    t["3"] = {"Journal": "70", "EntryNumber": 8}
    assert t.max_of("EntryNumber", num, group=("Journal", "70")) == 8
    del t["3"]
    assert t.max_of("EntryNumber", num, group=("Journal", "70")) == 5
    assert t.max_of("EntryNumber", num) == 99
    t["2"] = {"Journal": "71", "EntryNumber": 1}
    assert t.max_of("EntryNumber", num) == 5


def test_table_is_saved_and_copied_as_a_plain_dict():
    t = Table({"k": {"Code": "1"}}, indexed=("Code",))
    assert json.loads(json.dumps({"t": t})) == {"t": {"k": {"Code": "1"}}}
    clone = copy.deepcopy(t)
    assert type(clone) is dict and clone == {"k": {"Code": "1"}}


def test_filter_candidates_use_eq_on_indexed_fields_only():
    index = {("YourRef", "a"): {1}, ("YourRef", "b"): {2}, ("Journal", "70"): {1, 2, 3}}

    def lookup(field, value):
        if field not in ("YourRef", "Journal"):
            return None
        return index.get((field, value), set())

    def cand(text):
        return filter_candidates(parse_filter(text), lookup)

    assert cand("YourRef eq 'a'") == {1}
    assert cand("'a' eq YourRef") == {1}
    assert cand("trim(YourRef) eq 'a'") == {1}
    assert cand("YourRef eq 'a' or YourRef eq 'b'") == {1, 2}
    assert cand("Journal eq '70' and YourRef eq 'b'") == {2}
    assert cand("Description eq 'x' and YourRef eq 'a'") == {1}
    assert cand("Description eq 'x' or YourRef eq 'a'") is None
    assert cand("YourRef ne 'a'") is None
    assert cand("YourRef eq null") is None


# ---------------------------------------------------------------- requests do not scan

@pytest.fixture
def busy():
    """A division with 150 sales entries (three pages) and 150 extra accounts."""
    env = make_env(minutely_limit=100000)
    for i in range(150):
        r = env.post("crm/Accounts", json={"Name": f"Klant {i}", "Status": "C"}, full=False)
        assert r.status_code == 201
        r = env.entry(YourRef=f"INV/{i:03d}", EntryID=str(uuid.UUID(int=i + 1)))
        assert r.status_code == 201
    return env


def _count_views(env, monkeypatch):
    seen = []
    original = Sandbox._view

    def counting(self, entity, div, rec):
        seen.append(entity.name)
        return original(self, entity, div, rec)

    monkeypatch.setattr(Sandbox, "_view", counting)
    return seen


@pytest.mark.parametrize("flt", [
    "YourRef eq 'INV/077'",
    "EntryID eq guid'00000000-0000-0000-0000-00000000004e'",
    "Journal eq '70' and YourRef eq 'INV/077'",
    "YourRef eq 'INV/077' or YourRef eq 'INV/078'",
    "trim(YourRef) eq 'inv/077'",
])
def test_keyed_filters_view_only_their_candidates(busy, monkeypatch, flt):
    seen = _count_views(busy, monkeypatch)
    r = busy.get("salesentry/SalesEntries", params={"$filter": flt, "$select": "EntryID"})
    assert r.status_code == 200 and 1 <= len(r.json()["d"]["results"]) <= 2
    assert len(seen) <= 2


def test_account_lookups_by_code_vat_and_name_do_not_scan(busy, monkeypatch):
    seen = _count_views(busy, monkeypatch)
    for flt in ("Code eq '              1000'", "trim(Code) eq '1000'",
                "VATNumber eq 'NL123456789B01'", "ChamberOfCommerce eq '12345678'",
                "Name eq 'Klant 42'", "Email eq 'administratie@vandijkbouw.example'"):
        r = busy.get("crm/Accounts", params={"$filter": flt})
        assert len(r.json()["d"]["results"]) == 1, flt
    assert len(seen) == 6


def test_entry_by_key_with_lines_views_only_its_lines(busy, monkeypatch):
    seen = _count_views(busy, monkeypatch)
    key = uuid.UUID(int=9)
    r = busy.get(f"salesentry/SalesEntries(guid'{key}')", params={"$expand": "SalesEntryLines"})
    assert len(r.json()["d"]["SalesEntryLines"]["results"]) == 1
    assert seen == ["SalesEntries", "SalesEntryLines"]
    seen.clear()
    r = busy.get(f"salesentry/SalesEntries(guid'{key}')/SalesEntryLines")
    assert len(r.json()["d"]["results"]) == 1 and seen == ["SalesEntryLines"]


def test_paging_views_a_page_not_the_table(busy, monkeypatch):
    seen = _count_views(busy, monkeypatch)
    d = busy.get("salesentry/SalesEntries", params={"$select": "EntryID"}).json()["d"]
    assert len(d["results"]) == 60 and len(seen) == 61        # one more: is there a next?
    seen.clear()
    d = busy.session.get(d["__next"], headers={
        "Authorization": f"Bearer {busy.tokens['access_token']}"}).json()["d"]
    assert len(d["results"]) == 60 and len(seen) == 61


def test_indexed_answers_equal_a_full_scan(busy):
    """The index only narrows: every filter answers what evaluating it on every record
    answers (blanks, case, numbers, and/or, trim)."""
    div = busy.sb.data["divisions"][str(DIV)]
    views = [busy.sb._view(E.BY_NAME["SalesEntries"], div, rec)
             for rec in div["tables"]["SalesEntries"].values()]
    for flt in ("YourRef eq 'inv/001  '", "YourRef eq ' INV/001'",
                "EntryNumber eq 26700003", "EntryNumber eq 26700003.0",
                "Journal eq '70' and (YourRef eq 'INV/004' or YourRef eq 'INV/005')",
                "toupper(YourRef) eq 'INV/010'", "YourRef ne 'INV/001' and YourRef eq 'INV/002'",
                f"Customer eq guid'{CUSTOMER}' and EntryNumber eq 26700150"):
        node = parse_filter(flt)
        want = sorted(v["EntryID"] for v in views if evaluate(node, v))
        got = sorted(r["EntryID"] for r in busy.get(
            "salesentry/SalesEntries", params={"$filter": flt, "$top": "200"}).json()["d"][
            "results"])
        assert got == want, flt


def test_posting_entries_does_not_scan_the_entries(busy, monkeypatch):
    scans = []

    def counting(method):
        def wrapper(self):
            scans.append(len(self))
            return method(self)
        return wrapper

    for name in ("values", "items", "keys", "__iter__"):
        monkeypatch.setattr(Table, name, counting(getattr(dict, name)))
    for i in range(20):
        assert busy.entry(YourRef=f"NEW/{i}").status_code == 201
        assert busy.post("crm/Accounts", json={"Name": f"Nieuw {i}"}, full=False
                         ).status_code == 201
    assert not [n for n in scans if n >= 150], scans          # no pass over a big table


# ---------------------------------------------------------------- the state file

def _state_env(tmp_path, interval):
    path = tmp_path / "state.json"
    sb = Sandbox(clock=ManualClock(start=T0), client_id="cid", client_secret="secret",
                 minutely_limit=10000, state_file=str(path), save_interval=interval)
    return sb, path


def _post_entries(sb, n):
    from exact_sandbox.testing import sandbox_session
    tokens = sb.issue_tokens()
    session = sandbox_session(sb)
    for i in range(n):
        r = session.post(f"{sb.base_url}/api/v1/{DIV}/salesentry/SalesEntries", headers={
            "Authorization": f"Bearer {tokens['access_token']}"}, json={
            "Customer": CUSTOMER, "Journal": "70", "YourRef": f"S/{i}",
            "SalesEntryLines": [{"GLAccount": GL["8000"], "AmountFC": 10}]})
        assert r.status_code == 201


def test_state_file_is_not_rewritten_on_every_request(tmp_path):
    sb, path = _state_env(tmp_path, interval=3600)
    assert sb.saves == 1 and path.exists()                     # written at start
    _post_entries(sb, 25)
    assert sb.saves == 1 and "S/24" not in path.read_text()
    sb.flush()
    assert sb.saves == 2 and "S/24" in path.read_text()
    sb.flush()
    assert sb.saves == 2                                        # nothing changed since
    sb.close()


def test_state_file_is_written_shortly_after_changes(tmp_path):
    sb, path = _state_env(tmp_path, interval=0.05)
    _post_entries(sb, 10)
    deadline = time.monotonic() + 5
    while "S/9" not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "S/9" in path.read_text()
    assert sb.saves < 10
    sb.close()


def test_save_interval_zero_writes_after_every_change(tmp_path):
    sb, path = _state_env(tmp_path, interval=0)
    _post_entries(sb, 3)
    assert "S/2" in path.read_text() and sb.saves >= 4


def test_close_writes_what_is_pending_and_a_restart_reads_it(tmp_path):
    sb, path = _state_env(tmp_path, interval=3600)
    _post_entries(sb, 2)
    sb.close()
    again = Sandbox(clock=ManualClock(start=T0), state_file=str(path))
    assert sorted(e["YourRef"] for e in again.records(DIV, "SalesEntries")) == ["S/0", "S/1"]
    # the reloaded tables are indexed again: the next entry number follows on
    again.save_interval = 3600
    _post_entries(again, 1)
    numbers = sorted(e["EntryNumber"] for e in again.records(DIV, "SalesEntries"))
    assert numbers == [26700001, 26700002, 26700003]
    again.close()
