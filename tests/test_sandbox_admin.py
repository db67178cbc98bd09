"""The /sandbox pages and admin API, the Python inspection API and --state persistence."""

import json

try:
    from tests.sandbox_fixtures import DIV, DIV2, T0, make_env
except ImportError:
    from sandbox_fixtures import DIV, DIV2, T0, make_env

from exact_sandbox import ManualClock, Sandbox
from exact_sandbox.testing import sandbox_session


def test_overview_page_shows_records_and_requests():
    env = make_env()
    env.post("crm/Accounts", json={"Name": "Bakkerij Brood & Co"})
    env.entry(YourRef="INV/2026/0042")
    env.get("crm/Accounts")          # a 400 in the request list
    r = env.session.get(env.url("/sandbox"))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    html = r.text
    assert "ChainWise Demo B.V." in html and "ChainWise Zorg B.V." in html
    assert "Bakkerij Brood &amp; Co" in html
    assert "INV/2026/0042" in html and "121.00" in html
    assert "/api/v1/100001/crm/Accounts" in html
    assert ">400<" in html and ">201<" in html


def test_state_json_and_python_state_agree():
    env = make_env()
    env.entry()
    r = env.session.get(env.url("/sandbox/api/state"))
    state = r.json()
    assert state["app"]["client_id"] == "cid" and "client_secret" not in state["app"]
    div = state["divisions"][str(DIV)]
    assert len(div["SalesEntries"]) == 1 and len(div["SalesEntryLines"]) == 1
    assert div["Description"] == "ChainWise Demo B.V."
    assert state["divisions"][str(DIV2)]["SalesEntries"] == []
    assert env.sb.state()["divisions"][str(DIV)]["SalesEntries"] == div["SalesEntries"]


def test_reset_over_http_and_empty_seed():
    env = make_env()
    env.entry()
    r = env.session.post(env.url("/sandbox/api/reset"), json={"seed": "empty"})
    assert r.status_code == 200
    assert env.sb.records(DIV, "SalesEntries") == []
    assert env.sb.records(DIV, "GLAccounts") == []
    assert env.get("financial/GLAccounts").json()["d"]["results"] == []   # tokens survive
    env.sb.reset()
    assert len(env.sb.records(DIV, "GLAccounts")) == 8


def test_faults_over_http():
    env = make_env()
    r = env.session.post(env.url("/sandbox/api/faults"),
                         json={"rule": "GET financial/Journals 503 n=1"})
    assert r.json() == {"id": 1}
    assert env.get("financial/Journals").status_code == 503
    listed = env.session.get(env.url("/sandbox/api/faults")).json()["faults"]
    assert listed[0]["fired"] == 1
    bad = env.session.post(env.url("/sandbox/api/faults"), json={"rule": "GET x nope"})
    assert bad.status_code == 400
    env.session.post(env.url("/sandbox/api/faults"), json={"rule": "GET * 503"})
    assert env.session.delete(env.url("/sandbox/api/faults")).status_code == 200
    assert env.get("financial/Journals").status_code == 200


def test_clock_and_config_over_http():
    env = make_env()
    r = env.session.post(env.url("/sandbox/api/clock"), json={"advance": 600})
    assert r.json()["now"] == T0 + 600
    assert env.get("financial/Journals").status_code == 401     # token expired
    r = env.session.post(env.url("/sandbox/api/config"), json={"refuse_zero_entries": True})
    assert r.json()["refuse_zero_entries"] is True and env.sb.refuse_zero_entries
    r = env.session.post(env.url("/sandbox/api/config"),
                         json={"division": DIV, "closed_before": "2026-01-01"})
    assert env.sb.state()["divisions"][str(DIV)]["closed_before"] == "2026-01-01"
    assert env.session.post(env.url("/sandbox/api/config"), json={"nope": 1}).status_code == 400


def test_clock_endpoint_refuses_a_real_clock():
    sb = Sandbox(client_id="c", client_secret="s")
    r = sandbox_session(sb).post(sb.base_url + "/sandbox/api/clock", json={"advance": 1})
    assert r.status_code == 400


def test_generated_client_credentials_when_not_given():
    sb = Sandbox()
    assert sb.client_id and sb.client_secret and sb.redirect_uri.endswith("/oauth/callback")


def test_requests_log_records_method_path_status():
    env = make_env()
    env.get("financial/Journals")
    env.post("crm/Accounts", json={})
    log = [(e["method"], e["path"], e["status"]) for e in env.sb.requests_log]
    assert log == [("GET", "/api/v1/100001/financial/Journals", 200),
                   ("POST", "/api/v1/100001/crm/Accounts", 500)]


def test_state_file_keeps_records_and_tokens_across_restart(tmp_path):
    path = tmp_path / "sandbox.json"
    clock = ManualClock(start=T0)
    sb = Sandbox(clock=clock, client_id="cid", client_secret="secret", state_file=str(path))
    tokens = sb.issue_tokens()
    s = sandbox_session(sb)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = s.post(sb.base_url + f"/api/v1/{DIV}/crm/Accounts", json={"Name": "Blijf B.V."},
               headers=auth)
    assert r.status_code == 201
    sb.close()                                              # what the CLI does on exit
    assert "Blijf B.V." in path.read_text()
    sb2 = Sandbox(clock=clock, state_file=str(path))        # restart, no credentials given
    assert sb2.client_id == "cid" and sb2.client_secret == "secret"
    names = [a["Name"] for a in sb2.records(DIV, "Accounts")]
    assert "Blijf B.V." in names
    r = sandbox_session(sb2).get(sb2.base_url + f"/api/v1/{DIV}/financial/Journals",
                                 headers=auth)
    assert r.status_code == 200
    assert json.loads(path.read_text())["version"] == 1


def test_records_returns_copies():
    env = make_env()
    recs = env.sb.records(DIV, "Accounts")
    recs[0]["Name"] = "changed"
    assert env.sb.records(DIV, "Accounts")[0]["Name"] == "Van Dijk Bouw B.V."


def test_overview_page_shows_contacts_lines_and_documents():
    env = make_env()
    acc = env.post("crm/Accounts", json={"Name": "Zorg & Co", "Status": "C"}).json()["d"]
    env.post("crm/Contacts", json={"Account": acc["ID"], "FirstName": "Anna",
                                   "LastName": "Jansen"})
    env.entry(amount=40, vat="1", gl="8010", Description="Verband")
    env.post("documents/Documents", json={"Subject": "Factuur INV/7", "Type": 10})
    html = env.session.get(env.url("/sandbox")).text
    assert "Jansen" in html and "Anna" in html
    assert "Factuur INV/7" in html
    assert "40.00" in html and "43.60" in html                 # line amount and entry total
