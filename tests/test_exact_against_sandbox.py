"""The Exact layer end to end against exact_sandbox (in-process, no socket, no real time).

The sandbox knows Exact's API, not our client: these tests prove the two agree.
"""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from chainwise_exact_connector.exact import (
    AccountData,
    ExactClient,
    FunctionalError,
    InvoiceData,
    InvoiceLineData,
    MemoryTokenStore,
    OAuthApp,
    ReconsentRequired,
    TransientError,
    account_payload,
    entry_number_from_name,
    get_valid_token,
    pad_account_code,
    quote,
    sales_entry_payload,
    trim_code,
)
from exact_sandbox import ManualClock, Sandbox
from exact_sandbox.testing import sandbox_session

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()
DIV = 100001
REDIRECT = "https://odoo.example.com/chainwise_exact/oauth/callback"
ENTRY_ID = "5a1e5e00-0000-4000-8000-000000000001"


@pytest.fixture
def env():
    clock = ManualClock(start=T0)
    sb = Sandbox(
        clock=clock,
        client_id="cid",
        client_secret="secret",
        redirect_uri=REDIRECT,
        base_url="https://sandbox.test",
    )
    session = sandbox_session(sb)
    app = OAuthApp("cid", "secret", REDIRECT, sb.base_url, session=session, clock=clock)
    store = MemoryTokenStore(app.exchange_code(sb.grant_code()))

    def provider(force=False, stale=None):
        return get_valid_token(
            store, app, clock=clock, force=force, stale_access_token=stale
        ).access_token

    calls = []
    client = ExactClient(
        sb.base_url,
        provider,
        session=session,
        clock=clock,
        sleeper=clock.advance,
        on_call=calls.append,
    )
    return sb, clock, client, store, calls


def master_data(client):
    gl = client.get(DIV, "financial/GLAccounts", filter="Code eq '8000'", select="ID,Code")
    vat = client.get(DIV, "vat/VATCodes", select="Code,Percentage")
    customer = client.get(
        DIV, "crm/Accounts", filter=f"Code eq {quote(pad_account_code('1000'))}", select="ID"
    )
    return gl[0]["ID"], trim_code(vat[0]["Code"]), customer[0]["ID"]


def test_connect_me_and_divisions(env):
    sb, clock, client, store, calls = env
    me = client.me()
    assert "CurrentDivision" in me
    codes = {d["Code"] for d in client.divisions(DIV)}
    assert DIV in codes
    assert store.load().expires_at == T0 + 600


def test_account_and_sales_entry_round_trip(env):
    sb, clock, client, store, calls = env
    payload = account_payload(AccountData(name="O'Brien Bäckerei"))
    account = client.post(DIV, "crm/Accounts", payload)
    name = "O'Brien Bäckerei"
    found = client.get(DIV, "crm/Accounts", filter=f"Name eq {quote(name)}", select="ID,Status")
    assert [a["ID"] for a in found] == [account["ID"]]
    assert found[0]["Status"] == "C"

    gl, vat, _customer = master_data(client)
    lines = [InvoiceLineData(gl, vat, Decimal("33.335"), Decimal("7.00")) for _ in range(3)]
    data = InvoiceData(
        entry_id=ENTRY_ID,
        journal_code="70",
        customer_guid=account["ID"],
        entry_date=date(2026, 3, 2),
        number="INV/2026/00042",
        description="INV/2026/00042",
        currency="EUR",
        lines=lines,
        entry_number=entry_number_from_name("INV/2026/00042"),
    )
    created = client.post(DIV, "salesentry/SalesEntries", sales_entry_payload(data))
    assert created["EntryNumber"] == 202600042
    again = client.get_one(DIV, "salesentry/SalesEntries", ENTRY_ID, expand="SalesEntryLines")
    assert again["YourRef"] == "INV/2026/00042"

    # the same entry number a second time is a functional error, sent once
    data.entry_id = "5a1e5e00-0000-4000-8000-000000000002"
    before = len(calls)
    with pytest.raises(FunctionalError) as info:
        client.post(DIV, "salesentry/SalesEntries", sales_entry_payload(data))
    assert len(calls) == before + 1
    assert any(i.kind == "entry_number_in_use" for i in info.value.items), info.value.message


def test_timeout_after_store_is_ambiguous_and_the_entry_is_found(env):
    sb, clock, client, store, calls = env
    gl, vat, customer = master_data(client)
    sb.add_fault("POST salesentry/SalesEntries store-and-hang times=1")
    data = InvoiceData(
        ENTRY_ID,
        "70",
        customer,
        date(2026, 3, 2),
        "INV/2026/00043",
        "x",
        "EUR",
        [InvoiceLineData(gl, vat, Decimal("10"), Decimal("2.10"))],
    )
    with pytest.raises(TransientError) as info:
        client.post(DIV, "salesentry/SalesEntries", sales_entry_payload(data))
    assert info.value.ambiguous is True
    sb.clear_faults()
    assert client.get_one(DIV, "salesentry/SalesEntries", ENTRY_ID)["EntryID"] == ENTRY_ID


def test_expired_token_is_refreshed_once_and_the_chain_rotates(env):
    sb, clock, client, store, calls = env
    first = store.load()
    clock.advance(700)
    client.me()
    second = store.load()
    assert second.refresh_token != first.refresh_token
    assert sum(1 for c in sb.token_calls if c[1] == "refresh_token") == 1
    # the old refresh token is dead now: a person must reconnect
    store.save(first)
    clock.advance(700)
    with pytest.raises(ReconsentRequired):
        client.me()


def test_429_burst_is_waited_out_on_the_clock(env):
    sb, clock, client, store, calls = env
    sb.add_fault("GET crm/Accounts* 429 times=2")
    start = clock.now()
    client.get(DIV, "crm/Accounts", filter="Status eq 'C'", select="ID")
    assert [c.status for c in calls[-3:]] == [429, 429, 200]
    assert clock.now() > start
