"""Server-side sessions, the way legacy back offices keep them: a random id in a cookie,
everything else in the server's memory. A session ends after ``idle_timeout_s`` without a
request, or (chaos) ``ttl_s`` after sign-in or after ``ttl_requests`` signed-in requests,
or when the server restarts."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "CB2000SESSID"


@dataclass
class Session:
    token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: str | None = None
    signed_in_at: float = 0.0
    last_seen: float = 0.0
    requests: int = 0  # signed-in requests seen
    data: dict = field(default_factory=dict)


class Sessions:
    def __init__(
        self,
        idle_timeout_s: float,
        ttl_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        ttl_requests: int | None = None,
    ):
        self.idle_timeout_s, self.ttl_s, self.clock = idle_timeout_s, ttl_s, clock
        self.ttl_requests = ttl_requests
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, token: str | None) -> Session | None:
        with self._lock:
            return self._by_token.get(token or "")

    def new(self) -> Session:
        session = Session(token=secrets.token_urlsafe(32))
        with self._lock:
            self._by_token[session.token] = session
        return session

    def sign_in(self, old: Session, user: str) -> Session:
        """A fresh session (new id, new CSRF token) for *user*; the old one is forgotten."""
        with self._lock:
            self._by_token.pop(old.token, None)
        session = self.new()
        session.user, session.signed_in_at = user, self.clock()
        session.last_seen = session.signed_in_at
        return session

    def current_user(self, session: Session) -> str | None:
        """The signed-in user, or None once the session has expired (which ends it)."""
        if session.user is None:
            return None
        now = self.clock()
        expired = now - session.last_seen > self.idle_timeout_s
        if self.ttl_s is not None and now - session.signed_in_at > self.ttl_s:
            expired = True
        session.requests += 1
        if self.ttl_requests is not None and session.requests > self.ttl_requests:
            expired = True
        if expired:
            session.user, session.data = None, {}
            return None
        session.last_seen = now
        return session.user

    def drop_all(self) -> None:
        with self._lock:
            self._by_token.clear()
