"""Who may do what: passwords hashed with argon2, three roles, sessions in a signed cookie
that expires when idle and after a maximum lifetime, and one CSRF token per session."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from rekey.errors import ConfigError
from rekey.settings import Settings

COOKIE = "rekey_review"
_hasher = PasswordHasher()


class Role(IntEnum):
    """Each role may do everything the ones below it may."""

    reviewer = 1
    supervisor = 2
    admin = 3


def role_named(name: str) -> Role:
    try:
        return Role[name]
    except KeyError:
        known = ", ".join(r.name for r in Role)
        raise ConfigError(f"unknown role {name!r} (roles: {known})", key="role") from None


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ConfigError("a password needs at least 8 characters", key="password")
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; without a hash, one is still verified, so
    an unknown user takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMY = _hasher.hash(secrets.token_urlsafe(12))


@dataclass(frozen=True)
class Session:
    csrf: str
    user: str | None = None
    role: Role | None = None
    signed_in_at: float = 0.0

    def may(self, role: Role) -> bool:
        return self.role is not None and self.role >= role

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def anonymous() -> Session:
    return Session(csrf=secrets.token_urlsafe(24))


def signed_in(user: str, role: Role, at: float | None = None) -> Session:
    """A fresh session (new CSRF token) for a user who just proved who they are."""
    return Session(
        csrf=secrets.token_urlsafe(24),
        user=user,
        role=role,
        signed_in_at=time.time() if at is None else at,
    )


class SessionCodec:
    """Sessions as signed cookie values; one unused for ``idle_s`` (or older than
    ``max_s``) reads as no session at all. Each response re-signs it, so use keeps it alive."""

    def __init__(
        self, secret: str, idle_s: float, max_s: float, clock: Callable[[], float] = time.time
    ):
        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self.serializer = URLSafeTimedSerializer(secret, salt="rekey-review-session", signer=Signer)
        self.idle_s, self.max_s, self.clock = idle_s, max_s, clock

    def dump(self, session: Session) -> str:
        role = session.role.name if session.role else None
        return self.serializer.dumps([session.csrf, session.user, role, session.signed_in_at])

    def load(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            csrf, user, role, since = self.serializer.loads(value, max_age=self.idle_s)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        if user is not None and self.clock() - since > self.max_s:
            return None
        return Session(csrf, user, Role[role] if role else None, since)


def session_secret(settings: Settings) -> str:
    """The secret that signs sessions: from settings, or generated once into the data
    folder (``review/secret``, readable by its owner only)."""
    if settings.review_secret is not None:
        return settings.review_secret.get_secret_value()
    path = settings.review_dir / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
