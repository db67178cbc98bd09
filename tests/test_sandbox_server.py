"""The sandbox over a real loopback socket, and the command line in a subprocess."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from exact_sandbox.testing import serve_in_thread

try:
    from tests.sandbox_fixtures import DIV, make_env
except ImportError:
    from sandbox_fixtures import DIV, make_env

ROOT = Path(__file__).resolve().parent.parent


def _auth(env):
    return {"Authorization": f"Bearer {env.tokens['access_token']}"}


def test_serve_in_thread_answers_over_http_and_sets_base_url():
    env = make_env()
    with serve_in_thread(env.sb, host="127.0.0.1", port=0) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        assert env.sb.base_url == server.base_url
        r = requests.get(f"{server.base_url}/api/v1/{DIV}/financial/GLAccounts",
                         headers=_auth(env), timeout=5)
        assert r.status_code == 200
        d = r.json()["d"]
        assert d["results"][0]["__metadata"]["uri"].startswith(server.base_url)
        assert "X-RateLimit-Minutely-Remaining" in r.headers


def test_oauth_dance_over_http_without_following_redirects():
    env = make_env()
    with serve_in_thread(env.sb) as server:
        form = {"client_id": "cid", "redirect_uri": env.sb.redirect_uri, "state": "s1",
                "response_type": "code", "decision": "approve", "division": [str(DIV)]}
        r = requests.post(f"{server.base_url}/api/oauth2/auth", data=form,
                          allow_redirects=False, timeout=5)
        assert r.status_code == 302
        code = re.search(r"code=([^&]+)", r.headers["Location"]).group(1)
        r = requests.post(f"{server.base_url}/api/oauth2/token", timeout=5, data={
            "grant_type": "authorization_code", "code": requests.utils.unquote(code),
            "redirect_uri": env.sb.redirect_uri, "client_id": "cid", "client_secret": "secret"})
        assert r.status_code == 200 and r.json()["expires_in"] == "600"


def test_drop_over_a_socket_is_a_connection_error():
    env = make_env()
    env.sb.add_fault("GET financial/Journals drop n=1")
    with serve_in_thread(env.sb) as server:
        url = f"{server.base_url}/api/v1/{DIV}/financial/Journals"
        with pytest.raises(requests.ConnectionError):
            requests.get(url, headers=_auth(env), timeout=5)
        assert requests.get(url, headers=_auth(env), timeout=5).status_code == 200


def test_store_and_hang_over_a_socket_stores_and_times_out():
    env = make_env()
    env.sb.add_fault("POST crm/Accounts store-and-hang seconds=30")
    with serve_in_thread(env.sb) as server:
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.post(f"{server.base_url}/api/v1/{DIV}/crm/Accounts",
                          json={"Name": "Hangend B.V."}, headers=_auth(env), timeout=(2, 0.5))
        assert time.monotonic() - started < 5
        assert "Hangend B.V." in [a["Name"] for a in env.sb.records(DIV, "Accounts")]
        # other requests are served meanwhile (threaded server)
        r = requests.get(f"{server.base_url}/api/v1/{DIV}/financial/Journals",
                         headers=_auth(env), timeout=5)
        assert r.status_code == 200
    # leaving the context released the hanging connection: this returns promptly
    assert time.monotonic() - started < 10


def test_store_and_hang_closes_after_its_seconds():
    env = make_env()
    env.sb.add_fault("POST crm/Accounts store-and-hang seconds=0.5")
    with serve_in_thread(env.sb) as server, pytest.raises(requests.ConnectionError):
        requests.post(f"{server.base_url}/api/v1/{DIV}/crm/Accounts",
                      json={"Name": "Kort B.V."}, headers=_auth(env), timeout=5)


def test_command_line_prints_base_url_serves_and_stops_on_sigint(tmp_path):
    state = tmp_path / "state.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "exact_sandbox", "--port", "0", "--client-id", "cli-id",
         "--client-secret", "cli-secret", "--state", str(state), "--language", "en",
         "--fault", "GET financial/VATCodes 503 n=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path), env=env)
    try:
        lines = []
        base = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"running at (http://\S+)", line)
            if m:
                base = m.group(1)
            if "Ctrl-C" in line:
                break
        out = "".join(lines)
        assert base, out
        assert "cli-id" in out and "cli-secret" in out
        assert "100001 ChainWise Demo B.V." in out and "100002 ChainWise Zorg B.V." in out
        r = requests.post(f"{base}/sandbox/api/tokens", json={}, timeout=5)
        token = r.json()["access_token"]
        r = requests.get(f"{base}/api/v1/100001/financial/Journals",
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200
        r = requests.get(f"{base}/api/v1/100001/financial/VATCodes",
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 503
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert "stopped" in rest
    assert "Traceback" not in err
    assert state.exists() and "cli-id" in state.read_text()
