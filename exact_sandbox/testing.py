"""Helpers for tests: an in-process requests session and a real server in a thread.

``sandbox_session(sb)`` mounts a transport adapter on ``sb.base_url`` that calls the
WSGI application directly (no socket). Faults map to what a client would see:
``drop`` raises ``requests.ConnectionError``, ``store-and-hang`` raises
``requests.ReadTimeout`` (after the record was stored), and a ``delay`` longer than the
request's read timeout raises ``requests.ReadTimeout`` once the answer is ready.

``serve_in_thread(sb)`` serves the sandbox with werkzeug on a free loopback port.
"""

from __future__ import annotations

import contextlib
import threading
import time
from io import BytesIO

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from .clock import ManualClock
from .faults import SandboxDrop, SandboxHang

__all__ = ["ManualClock", "WSGIAdapter", "sandbox_session", "serve_in_thread"]


def _read_timeout(timeout):
    if isinstance(timeout, tuple):
        return timeout[1] if len(timeout) > 1 else timeout[0]
    return timeout


class WSGIAdapter(BaseAdapter):
    """A requests transport adapter that answers from a WSGI app in-process."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = b"".join(body) if not hasattr(body, "read") else body.read()
        headers = dict(request.headers.items())
        builder = EnvironBuilder(path="/", method=request.method, headers=headers, data=body or b"")
        environ = builder.get_environ()
        # EnvironBuilder quotes the path; take the URL apart ourselves so the path stays as
        # the client sent it (OData keys such as guid'...')
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(request.url)
        environ["PATH_INFO"] = unquote(parts.path).encode("utf-8").decode("latin-1")
        environ["QUERY_STRING"] = parts.query
        # the request target as sent, as werkzeug's server gives it (URL-length check)
        environ["REQUEST_URI"] = environ["RAW_URI"] = parts.path + (
            f"?{parts.query}" if parts.query else ""
        )
        environ["HTTP_HOST"] = parts.netloc
        environ["SERVER_NAME"] = parts.hostname or "localhost"
        environ["SERVER_PORT"] = str(parts.port or (443 if parts.scheme == "https" else 80))
        environ["wsgi.url_scheme"] = parts.scheme
        builder.close()
        started = time.monotonic()
        try:
            app_iter, status, resp_headers = run_wsgi_app(self.app, environ, buffered=True)
        except SandboxDrop:
            raise requests.ConnectionError(
                "Connection aborted: the sandbox dropped the connection (fault: drop)",
                request=request,
            ) from None
        except SandboxHang:
            raise requests.ReadTimeout(
                "Read timed out: the sandbox stored the request but never answered "
                "(fault: store-and-hang)",
                request=request,
            ) from None
        try:
            content = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        read_timeout = _read_timeout(timeout)
        if read_timeout is not None and time.monotonic() - started > read_timeout:
            raise requests.ReadTimeout(
                f"Read timed out (read timeout={read_timeout})", request=request
            )
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(resp_headers.to_wsgi_list())
        response._content = content
        response.raw = BytesIO(content)
        response.url = request.url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.connection = self
        response.elapsed = __import__("datetime").timedelta(seconds=time.monotonic() - started)
        return response

    def close(self):
        pass


def sandbox_session(sb, session: requests.Session | None = None) -> requests.Session:
    """A requests.Session whose calls to ``sb.base_url`` are answered in-process."""
    session = session or requests.Session()
    session.mount(sb.base_url.rstrip("/") + "/", WSGIAdapter(sb))
    return session


class _Server:
    def __init__(self, sb, server, thread):
        self.sandbox = sb
        self.server = server
        self.thread = thread
        self.host, self.port = server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.sandbox.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serve_in_thread(sb, host: str = "127.0.0.1", port: int = 0):
    """Serve ``sb`` over real HTTP on a free loopback port; sets ``sb.base_url``."""
    sb.release.clear()
    server = make_server(host, port, sb, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="exact-sandbox", daemon=True)
    thread.start()
    handle = _Server(sb, server, thread)
    old_base = sb.base_url
    sb.base_url = handle.base_url
    try:
        yield handle
    finally:
        handle.stop()
        sb.base_url = old_base
