"""Who may do what.

* Passwords: argon2-hashed, and refused unless 12 characters or more and hard to guess
  (zxcvbn's estimate, which knows the common-password lists, keyboard walks and repeats).
* Sessions live in the case store: the cookie holds only a random id (the store keeps its
  sha256), and the user's role and state are read from the users table on every request.
  A session ends on sign-out, when the user is disabled or their password changes, after
  ``review_session_idle_s`` without a request and ``review_session_max_s`` after sign-in.
* Before sign-in, the form's CSRF token rides in a signed cookie of its own.
* Failed sign-ins count per user and per client address in the store (shared by every
  worker); past ``review_sign_in_free_failures`` (4), each refuses that user or address for
  twice as long as the last, from ``review_sign_in_first_block_s`` (30 s) up to
  ``review_sign_in_max_block_s`` (an hour); ``review_sign_in_forget_s`` (a day) without
  failures starts the count again. The client address is the connecting one, or what a
  trusted proxy (``review_trusted_proxies``) says it forwarded for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from rekey.errors import ConfigError
from rekey.settings import Settings
from rekey.store import StoredSession

COOKIE = "rekey_review"  # the signed-in session's random id
ANONYMOUS_COOKIE = "rekey_review_csrf"  # before sign-in: the sign-in form's CSRF token, signed
MIN_PASSWORD = 12
MIN_STRENGTH = 3  # zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses and up)
TOUCH_S = 30.0  # a session's last use is written at most this often
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


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused, or None when it is good enough."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    from zxcvbn import zxcvbn

    found = zxcvbn(password[:100], user_inputs=[username, "rekey", "review"])
    if found["score"] < MIN_STRENGTH:
        why = found["feedback"].get("warning") or "it is too easy to guess"
        return f"that password is too easy to guess ({why.rstrip('.')}); try a longer passphrase"
    return None


def hash_password(password: str, username: str = "") -> str:
    """The argon2 hash of ``password``; ConfigError when the policy refuses it."""
    problem = password_problem(password, username)
    if problem:
        raise ConfigError(problem, key="password")
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
    id: str | None = None  # the cookie's random id, for a signed-in session

    def may(self, role: Role) -> bool:
        return self.role is not None and self.role >= role

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def anonymous() -> Session:
    return Session(csrf=secrets.token_urlsafe(24))


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def id_hash(session_id: str) -> str:
    """What the store keeps of a session id: reading the table gives no usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def alive(stored: StoredSession, now: datetime, idle_s: float, max_s: float) -> bool:
    """Whether a stored session still opens pages at ``now``."""
    return (
        stored.revoked_at is None
        and not stored.disabled
        and (now - stored.seen_at).total_seconds() <= idle_s
        and (now - stored.created_at).total_seconds() <= max_s
    )


def session_of(stored: StoredSession, session_id: str) -> Session | None:
    """The request's session for a live stored one (None: its role is not known)."""
    if stored.role not in Role.__members__:
        return None
    return Session(
        stored.csrf, stored.username, Role[stored.role], stored.created_at.timestamp(), session_id
    )


@dataclass(frozen=True)
class SignInLimits:
    """How failed sign-ins are answered (from the ``review_sign_in_*`` settings)."""

    free_failures: int  # failures before the first refusal
    first_block_s: float
    max_block_s: float
    forget_after: timedelta  # a count with no failure this long starts again

    def block_seconds(self, failures: int) -> float:
        """How long a user or address is refused after its ``failures``-th failure in a row."""
        if failures <= self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures - 1, 64)
        return min(self.max_block_s, self.first_block_s * 2**doublings)


def sign_in_limits(settings: Settings) -> SignInLimits:
    return SignInLimits(
        settings.review_sign_in_free_failures,
        settings.review_sign_in_first_block_s,
        settings.review_sign_in_max_block_s,
        timedelta(seconds=settings.review_sign_in_forget_s),
    )


def retry_message(until: datetime, now: datetime) -> str:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    return (
        f"Too many failed sign-ins: try again after {until.strftime('%H:%M:%S')} UTC "
        f"(in {seconds} s)."
    )


class AnonymousCodec:
    """The CSRF token of someone not signed in, as a signed cookie value that expires when
    unused for ``idle_s``."""

    def __init__(self, secret: str, idle_s: float, clock: Callable[[], float] = time.time):
        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self.serializer = URLSafeTimedSerializer(secret, salt="rekey-review-csrf", signer=Signer)
        self.idle_s = idle_s

    def dump(self, session: Session) -> str:
        return self.serializer.dumps(session.csrf)

    def load(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            csrf = self.serializer.loads(value, max_age=self.idle_s)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        return Session(csrf) if isinstance(csrf, str) and csrf else None


def session_secret(settings: Settings) -> str:
    """The secret that signs the sign-in form's cookie: from settings, or generated once
    into the data folder (``review/secret``, readable by its owner only)."""
    if settings.review_secret is not None:
        return settings.review_secret.get_secret_value()
    path = settings.review_dir / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
