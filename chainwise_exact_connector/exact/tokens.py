"""Token value object, the storage protocol, and the one place that refreshes.

Why so careful: Exact rotates refresh tokens on every refresh (the old one dies), refuses
a refresh within 570 s of the previous one, and allows 200 token calls a day. Two workers
refreshing with the same refresh token lose the consent. So every refresh happens under
the store's lock, after re-reading the stored pair, and the new pair is saved before
anyone uses it.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import ReconsentRequired, RefreshTooEarly, TokenError

if TYPE_CHECKING:  # pragma: no cover
    from .auth import OAuthApp


@dataclass(frozen=True)
class Token:
    """An access/refresh token pair; times are epoch seconds."""

    access_token: str
    refresh_token: str
    expires_at: float
    obtained_at: float

    def expires_in(self, now: float) -> float:
        """Seconds of validity left at ``now`` (negative once expired)."""
        return self.expires_at - now

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Token:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_at=float(data["expires_at"]),
            obtained_at=float(data["obtained_at"]),
        )

    def __repr__(self) -> str:  # never print secrets in logs or tracebacks
        return (
            f"Token(access_token='***', refresh_token='***', "
            f"expires_at={self.expires_at!r}, obtained_at={self.obtained_at!r})"
        )

    __str__ = __repr__


@runtime_checkable
class TokenStore(Protocol):
    """Where the caller keeps the token pair of one connection.

    ``lock()`` must be exclusive across every thread and process that can refresh this
    connection (the Odoo side locks the connection row in its own cursor and commits on
    exit, so a saved token survives a rollback of the caller's transaction).
    """

    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...

    def lock(self) -> AbstractContextManager[None]: ...


class MemoryTokenStore:
    """A TokenStore in memory, guarded by a thread lock (tests and scripts)."""

    def __init__(self, token: Token | None = None):
        self._token = token
        self._lock = threading.RLock()
        self.saves = 0

    def load(self) -> Token | None:
        return self._token

    def save(self, token: Token) -> None:
        self._token = token
        self.saves += 1

    @contextmanager
    def lock(self):
        with self._lock:
            yield


def get_valid_token(
    store: TokenStore,
    app: OAuthApp,
    *,
    clock=time.time,
    force: bool = False,
    min_validity: float = 30.0,
    min_refresh_age: float = 570.0,
    stale_access_token: str | None = None,
) -> Token:
    """Return a token that can be used now, refreshing it only when needed.

    - not forced: the stored token is returned while more than ``min_validity`` seconds
      are left;
    - forced (after a 401): if ``stale_access_token`` is given and the stored access token
      differs from it, another worker refreshed already and the stored token is returned;
    - a refresh earlier than ``min_refresh_age`` after the token was obtained raises
      RefreshTooEarly without calling Exact (Exact would refuse it and count it);
    - the new pair is saved inside the lock before it is returned;
    - ReconsentRequired from the token endpoint propagates; if the endpoint failed but
      still handed out a new pair (TokenError.token), that pair is saved and returned.
    """
    with store.lock():
        token = store.load()
        if token is None:
            raise ReconsentRequired("No Exact Online token is stored: connect to Exact first.")
        now = clock()
        if force:
            if stale_access_token is not None and token.access_token != stale_access_token:
                return token
        elif token.expires_at - now > min_validity:
            return token
        age = now - token.obtained_at
        if age < min_refresh_age:
            retry_at = token.obtained_at + min_refresh_age
            raise RefreshTooEarly(
                f"The Exact token was obtained {int(age)} s ago; Exact refuses a refresh "
                f"before {int(min_refresh_age)} s. Try again in {int(retry_at - now) + 1} s.",
                retry_at=retry_at,
            )
        try:
            new = app.refresh(token.refresh_token)
        except TokenError as exc:
            if exc.token is not None:
                store.save(exc.token)
                if exc.token.access_token:
                    return exc.token
            raise
        store.save(new)
        return new
