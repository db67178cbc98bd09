"""Where an ``exact.connection`` keeps its token pair for the Exact layer.

``OdooTokenStore`` implements the layer's ``TokenStore`` protocol (load, save, lock).
Exact rotates the refresh token on every refresh and kills the old one, so a refreshed
pair must never be lost by a rollback of the caller's transaction (an export that
fails after the refresh). ``lock()`` therefore works in its own cursor: it locks the
connection row (``SELECT ... FOR NO KEY UPDATE``: other workers that want to refresh
wait, inserts of rows pointing at the connection do not), ``load()`` re-reads the
tokens under that lock (another worker may have refreshed meanwhile), ``save()``
writes both tokens there, and the cursor commits when the lock is released, before
the new access token is used.

Tests: in a ``TransactionCase`` a new cursor is a second database connection that
cannot see the uncommitted test data (the connection row does not exist for it) and
would commit for real. When a test runs (``odoo.modules.module.current_test``) and the
registry is not in test mode (``HttpCase`` puts it there and then hands out cursors on
the test transaction by itself), the store uses the test's cursor inside a savepoint.
"""

import logging
import time
from contextlib import contextmanager

import odoo
import psycopg2
from odoo import api
from odoo.tools import SQL

from ..exact import Token, TransientError

_logger = logging.getLogger(__name__)

#: How long a worker waits for another one that is refreshing the same connection.
LOCK_TIMEOUT_MS = 60000


def _use_test_cursor(env):
    """True inside a TransactionCase, where a new cursor would not see the test data."""
    return bool(odoo.modules.module.current_test) and not env.registry.in_test_mode()


def _read_committed(cr, registry):
    """Run the short transaction of ``cr`` (just opened) in READ COMMITTED.

    Odoo's cursors are REPEATABLE READ: a row lock or an update that had to wait for
    another worker's commit on the same row (the connection: a token refresh, a
    rate-limit snapshot) then fails with "could not serialize access due to concurrent
    update". These transactions only lock, read and write one row; in READ COMMITTED
    they see that commit instead. (In test mode the cursor shares the test's
    transaction: nothing to set.)"""
    if not registry.in_test_mode():
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")


@contextmanager
def separate_env(env):
    """An environment (superuser) whose changes are committed on exit, whatever the
    caller's transaction does afterwards; the test's cursor in a TransactionCase."""
    if _use_test_cursor(env):
        with env.cr.savepoint():
            yield env(su=True)
        return
    env.flush_all()  # our pending writes must not be overwritten by stale values
    with env.registry.cursor() as cr:
        _read_committed(cr, env.registry)
        yield api.Environment(cr, env.uid, env.context, su=True)
        # the cursor commits on a clean exit and rolls back on an exception


class OdooTokenStore:
    """The token pair of one ``exact.connection``, for ``exact.get_valid_token``."""

    def __init__(self, connection, clock=time.time):
        connection.ensure_one()
        self.env = connection.env
        self.connection_id = connection.id
        self.clock = clock
        self._locked_env = None
        self.saved = None  # the last Token saved through this store

    # -- protocol ------------------------------------------------------------------

    @contextmanager
    def lock(self):
        if self._locked_env is not None:  # re-entrant: already inside our own lock
            yield
            return
        if _use_test_cursor(self.env):
            with self.env.cr.savepoint():
                self._lock_row(self.env.cr)
                self._locked_env = self.env(su=True)
                try:
                    yield
                finally:
                    self._locked_env = None
            return
        self.env.flush_all()
        cr = self.env.registry.cursor()
        try:
            _read_committed(cr, self.env.registry)
            self._lock_row(cr)
            self._locked_env = api.Environment(cr, self.env.uid, self.env.context, su=True)
            try:
                yield
            finally:
                self._locked_env = None
                # Commit even when the refresh failed after a save: a pair that Exact
                # handed out must be kept, or the consent is gone. The caller's
                # transaction may still roll back; this one never loses the token.
                cr.commit()  # pylint: disable=invalid-commit
        finally:
            cr.close()

    def load(self):
        env = self._env()
        connection = env["exact.connection"].browse(self.connection_id)
        connection.invalidate_recordset()
        # read under the lock, in the lock's own snapshot: a connection another worker
        # just marked "reconnect" (or an administrator disconnected) hands out nothing,
        # so a dead refresh token is never sent to Exact again
        if (
            not connection.exists()
            or not connection.refresh_token
            or connection.state in ("draft", "reconnect")
        ):
            return None
        return Token(
            access_token=connection.access_token or "",
            refresh_token=connection.refresh_token,
            expires_at=connection.token_expires_at or 0.0,
            obtained_at=connection.token_obtained_at or 0.0,
        )

    def save(self, token):
        env = self._env()
        connection = env["exact.connection"].browse(self.connection_id)
        connection.write(
            {
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
                "token_expires_at": token.expires_at,
                "token_obtained_at": token.obtained_at,
                "last_refresh_date": odoo.fields.Datetime.now(),
            }
        )
        connection.flush_recordset()
        self.saved = token
        _logger.info("Exact connection %s: token pair refreshed and stored", self.connection_id)

    # -- helpers -------------------------------------------------------------------

    def _env(self):
        return self._locked_env if self._locked_env is not None else self.env(su=True)

    def _lock_row(self, cr):
        try:
            cr.execute(SQL("SET LOCAL lock_timeout = %s", LOCK_TIMEOUT_MS))
            cr.execute(
                SQL(
                    "SELECT id FROM exact_connection WHERE id = %s FOR NO KEY UPDATE",
                    self.connection_id,
                )
            )
        except psycopg2.errors.LockNotAvailable:
            raise TransientError(
                "Another process is renewing the Exact token of this connection; "
                "try again in a minute."
            ) from None
