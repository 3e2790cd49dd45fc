"""The case store: SQLAlchemy 2 over SQLite by default, any SQLAlchemy URL otherwise.

The schema is owned by the alembic migrations in ``rekey/migrations``; they are applied
whenever a :class:`Store` opens. Each case is kept whole as JSON (the pydantic model) with
the columns needed to look it up beside it. Every change writes an audit event that carries
the hash of the event before it, so an edited or deleted event is detectable.

With an audit key (:mod:`rekey.audit` reads it from outside the database) each event's hash
is an HMAC-SHA256 under that key, so nobody without it can recompute the chain after an
edit; events written before the key existed keep their plain SHA-256. Every event of a
case change carries ``case_digest``, the digest of the case as stored, so an edit to the
``cases`` table no longer matches the case's last event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from rekey.errors import ConfigError, DuplicateDocument, StoreError
from rekey.models import AuditEvent, Case, CaseState, utcnow

MIGRATIONS = Path(__file__).with_name("migrations")
M = TypeVar("M", bound=BaseModel)
GENESIS = "0" * 64

metadata = sa.MetaData()
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("doc_type", sa.String(40), index=True),
    sa.Column("original_name", sa.Text(), nullable=False),
    sa.Column("reference", sa.String(64)),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finding_rules", sa.Text()),  # " rule_a rule_b ": the review queue's filter
    # the review queue's index: its filters and order answered without reading the cases
    sa.Index("ix_cases_queue", "state", "created_at", "id", "doc_type", "finding_rules"),
)
users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(80), primary_key=True),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
)
# review station sessions: the cookie holds a random id, the store its sha256
review_sessions = sa.Table(
    "review_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(80), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)
# failed sign-ins per user ("user:NAME") and per client address ("address:IP")
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("blocked_until", sa.DateTime(timezone=True)),
)
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(32), index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
# the keying ledger (connectors.backoffice.ledger): what was keyed where, by external reference
keyed_cases = sa.Table(
    "keyed_cases",
    metadata,
    sa.Column("backoffice", sa.String(200), primary_key=True),
    sa.Column("external_reference", sa.String(64), primary_key=True),
    sa.Column("doc_type", sa.String(40)),
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(32)),
    sa.Column("verified", sa.Boolean(), nullable=False),
    sa.Column("keyed_at", sa.DateTime(timezone=True), nullable=False),
)
# submits the ledger saw start but not end: the record may or may not exist
pending_submits = sa.Table(
    "pending_submits",
    metadata,
    sa.Column("backoffice", sa.String(200), primary_key=True),
    sa.Column("external_reference", sa.String(64), primary_key=True),
    sa.Column("doc_type", sa.String(40)),
    sa.Column("case_id", sa.String(32)),
    sa.Column("screen", sa.String(200), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
)


def as_utc(moment: datetime) -> datetime:
    """A stored time in UTC: SQLite hands it back without a zone, PostgreSQL in the
    session's zone; both mean the same instant."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_hash(prev_hash: str, event: AuditEvent, key: bytes | None = None) -> str:
    """The event's link in the chain: SHA-256 of it and its predecessor's hash, or with
    ``key`` an HMAC-SHA256 (only the key's holder can compute it)."""
    at = as_utc(event.at)
    body = json.dumps(
        [prev_hash, event.case_id, at.isoformat(), event.actor, event.action, event.detail],
        sort_keys=True,
        default=str,
    ).encode()
    if key is not None:
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


DIGESTED = ("id", "sha256", "state", "doc_type", "original_name", "reference", "data")


def case_digest(row: Any) -> str:
    """SHA-256 of a case as the ``cases`` table holds it (a row written, or read back)."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    body = {name: get(name) for name in DIGESTED}
    body |= {name: as_utc(get(name)).isoformat() for name in ("created_at", "updated_at")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


CHAIN_LOCK = 7_362_539  # the PostgreSQL advisory lock that serialises appends to the trail
MIGRATION_LOCK = 7_362_540  # ... and the one that lets one process at a time migrate


WAL_ATTEMPTS = 20


def switch_to_wal(dbapi_connection: sqlite3.Connection) -> None:
    """Put the database file in WAL mode, however many connections open it at once.

    Switching needs the file to itself. Two connections switching a new file together
    each hold a shared lock and want the exclusive one: SQLite answers one of them
    "database is locked" at once instead of waiting. That one lets go and asks again;
    by then the other holds the lock, so the busy timeout applies and it waits.
    """
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise


def serialise_sqlite_writers(engine: sa.Engine) -> None:
    """Make every SQLite transaction take the write lock when it begins.

    Several processes (watchers, workers) share one file: a transaction that read the
    trail's last hash must still hold it when it appends, or the chain would fork. The
    recipe is SQLAlchemy's: let pysqlite stop managing transactions, then ``BEGIN IMMEDIATE``.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout=60000")
        switch_to_wal(dbapi_connection)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: sa.Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # workers starting together: one migrates
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def fitting(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` unchanged when every text fits its column; a StoreError on both back ends
    otherwise (PostgreSQL would refuse it, SQLite would keep it whole)."""
    for name, value in row.items():
        length = getattr(table.c[name].type, "length", None)
        if length is not None and isinstance(value, str) and len(value) > length:
            raise StoreError(
                f"{table.name}.{name} holds at most {length} characters, got {len(value)}: "
                f"{value[:40]!r}…"
            )
    return row


def event_of(row: sa.Row) -> AuditEvent:
    """The audit event a row of ``audit_events`` holds (its time in UTC)."""
    return AuditEvent(
        case_id=row.case_id,
        at=as_utc(row.at),
        actor=row.actor,
        action=row.action,
        detail=row.detail,
    )


def _case_row(case: Case) -> dict[str, Any]:
    return fitting(
        cases,
        {
            "id": case.id,
            "sha256": case.document.sha256,
            "state": case.state.value,
            "doc_type": case.doc_type,
            "original_name": case.document.original_name,
            "reference": case.receipt.reference if case.receipt else None,
            "data": case.model_dump(mode="json"),
            "created_at": as_utc(case.created_at),  # SQLite keeps no zone: always write UTC
            "updated_at": as_utc(case.updated_at),
            "finding_rules": finding_rules(case),
        },
    )


def finding_rules(case: Case) -> str:
    """The rules with findings on the case, space-delimited on both ends for a LIKE."""
    return " " + " ".join(sorted({f.rule for f in case.findings})) + " "


class User(NamedTuple):
    username: str
    password_hash: str
    role: str
    disabled: bool = False


class StoredSession(NamedTuple):
    """A review station session with its user's role and state as they are now."""

    username: str
    role: str
    disabled: bool
    csrf: str
    created_at: datetime
    seen_at: datetime
    revoked_at: datetime | None


class Keyed(NamedTuple):
    """One line of the keying ledger."""

    backoffice: str
    external_reference: str
    doc_type: str | None
    reference: str
    case_id: str | None
    verified: bool
    keyed_at: datetime


class Pending(NamedTuple):
    """A submit the ledger saw start and never saw confirmed or refused."""

    backoffice: str
    external_reference: str
    doc_type: str | None
    case_id: str | None
    screen: str
    submitted_at: datetime


def pending_of(row: sa.Row) -> Pending:
    return Pending(**(row._asdict() | {"submitted_at": as_utc(row.submitted_at)}))


def private_sqlite(url: str) -> None:
    """The SQLite file of ``url`` and its journals readable by their owner only."""
    path = Path(url.removeprefix("sqlite:///"))
    for one in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if one.stat().st_uid == os.getuid():
                one.chmod(0o600)
        except FileNotFoundError:
            pass


class Store:
    """The case store. ``key``: the audit key events are chained with (HMAC); ``checkpoint``:
    called with the store and the id of the last event after each transaction that
    appended to the trail (:mod:`rekey.audit` writes its checkpoints from there)."""

    def __init__(
        self,
        url: str,
        key: bytes | None = None,
        checkpoint: Callable[[Store, int], None] | None = None,
    ):
        self.key, self.checkpoint = key, checkpoint
        if url.startswith("sqlite:///"):
            folder = Path(url.removeprefix("sqlite:///")).parent
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # a worker's pooled connection may outlive a database restart: test it on checkout
            self.engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
            if self.engine.dialect.name == "sqlite":
                serialise_sqlite_writers(self.engine)
            migrate(self.engine)
            if url.startswith("sqlite:///"):
                private_sqlite(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"not a usable database URL ({exc})", key="database_url") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the case store: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        appended = None
        try:
            with self.engine.begin() as connection:
                try:
                    yield connection
                finally:
                    appended = connection.info.pop("appended", None)
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"case store failed: {exc}") from exc
        if appended is not None and self.checkpoint is not None:
            self.checkpoint(self, appended)

    # -- cases -------------------------------------------------------------------------
    def add(self, case: Case, actor: str = "rekey", **detail: Any) -> Case:
        try:
            with self._tx() as tx:
                row = _case_row(case)
                tx.execute(cases.insert().values(**row))
                detail = {"file": case.document.original_name, **detail}
                detail["case_digest"] = case_digest(row)
                self._append(
                    tx, AuditEvent(case_id=case.id, actor=actor, action="received", detail=detail)
                )
        except IntegrityError as exc:
            raise DuplicateDocument(case.document.sha256) from exc
        return case

    def save(self, case: Case, action: str, actor: str = "rekey", **detail: Any) -> Case:
        case.updated_at = utcnow()
        with self._tx() as tx:
            row = _case_row(case)
            tx.execute(cases.update().where(cases.c.id == case.id).values(**row))
            detail.setdefault("state", case.state.value)
            detail["case_digest"] = case_digest(row)
            self._append(tx, AuditEvent(case_id=case.id, actor=actor, action=action, detail=detail))
        return case

    def transition(self, case: Case, state: CaseState, actor: str = "rekey", **detail: Any) -> Case:
        before = case.state
        case.state = state
        return self.save(
            case, action=f"state:{state.value}", actor=actor, before=before.value, **detail
        )

    def get(self, case_id: str) -> Case | None:
        query = sa.select(sa.cast(cases.c.data, sa.Text)).where(cases.c.id == case_id)
        with self._tx() as tx:
            data = tx.execute(query).scalar()
        return Case.model_validate_json(data) if data else None

    def by_sha256(self, sha256: str) -> Case | None:
        with self._tx() as tx:
            row = tx.execute(sa.select(cases.c.data).where(cases.c.sha256 == sha256)).first()
        return Case.model_validate(row.data) if row else None

    def list(
        self,
        states: Iterable[CaseState] | None = None,
        doc_types: Iterable[str] | None = None,
        since: datetime | None = None,
    ) -> list[Case]:
        """Cases, oldest first; ``since``: only those created at or after it."""
        query = sa.select(cases.c.data).order_by(cases.c.created_at, cases.c.id)
        if since is not None:
            query = query.where(cases.c.created_at >= as_utc(since))
        if states is not None:
            query = query.where(cases.c.state.in_([s.value for s in states]))
        if doc_types is not None:
            query = query.where(cases.c.doc_type.in_(list(doc_types)))
        with self._tx() as tx:
            return [Case.model_validate(row.data) for row in tx.execute(query)]

    def page(
        self,
        states: Iterable[CaseState],
        *,
        doc_type: str | None = None,
        rule: str | None = None,
        created_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        model: type[M] = Case,
    ) -> tuple[int, list[M]]:
        """One page of the cases in ``states``, oldest first, and how many match in all;
        each read as ``model`` (a lighter view of a case, for lists, or the whole case)."""
        where = [cases.c.state.in_([s.value for s in states])]
        if doc_type:
            where.append(cases.c.doc_type == doc_type)
        if rule:
            where.append(cases.c.finding_rules.contains(f" {rule} ", autoescape=True))
        if created_before is not None:
            where.append(cases.c.created_at <= created_before)
        count = sa.select(sa.func.count()).select_from(cases).where(*where)
        ids = (  # ids first: sorting whole rows would drag every case's JSON through the sort
            sa.select(cases.c.id)
            .where(*where)
            .order_by(cases.c.created_at, cases.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._tx() as tx:
            total = tx.execute(count).scalar_one()
            wanted = list(tx.execute(ids).scalars())
            text = sa.cast(cases.c.data, sa.Text)  # parsed by pydantic straight from JSON
            rows = tx.execute(sa.select(cases.c.id, text).where(cases.c.id.in_(wanted)))
            found = {case_id: data for case_id, data in rows}
        return total, [model.model_validate_json(found[i]) for i in wanted if i in found]

    # -- the keying ledger ---------------------------------------------------------------
    def keyed(self, backoffice: str, external_reference: str) -> Keyed | None:
        """What the ledger says was keyed into *backoffice* for *external_reference*."""
        with self._tx() as tx:
            row = tx.execute(
                sa.select(keyed_cases).where(
                    keyed_cases.c.backoffice == backoffice,
                    keyed_cases.c.external_reference == external_reference,
                )
            ).first()
        if row is None:
            return None
        return Keyed(**(row._asdict() | {"keyed_at": as_utc(row.keyed_at)}))

    def record_keyed(
        self,
        backoffice: str,
        external_reference: str,
        reference: str,
        *,
        doc_type: str | None = None,
        case_id: str | None = None,
        verified: bool = False,
    ) -> Keyed:
        """Write a confirmed keying into the ledger; the line already there wins (a second
        writer of the same case keeps the first reference)."""
        row = fitting(
            keyed_cases,
            {
                "backoffice": backoffice,
                "external_reference": external_reference,
                "doc_type": doc_type,
                "reference": reference,
                "case_id": case_id,
                "verified": verified,
                "keyed_at": utcnow(),
            },
        )
        try:
            with self._tx() as tx:
                tx.execute(keyed_cases.insert().values(**row))
        except IntegrityError:
            pass
        self.clear_pending(backoffice, external_reference)
        found = self.keyed(backoffice, external_reference)
        assert found is not None
        return found

    def record_pending(
        self,
        backoffice: str,
        external_reference: str,
        *,
        screen: str,
        doc_type: str | None = None,
        case_id: str | None = None,
    ) -> None:
        """Write, just before a submit, that it is about to happen; a line already there
        for the same case is replaced."""
        key = {"backoffice": backoffice, "external_reference": external_reference}
        row = fitting(
            pending_submits,
            key
            | {"doc_type": doc_type, "case_id": case_id, "screen": screen[-200:]}
            | {"submitted_at": utcnow()},
        )
        with self._tx() as tx:
            tx.execute(pending_submits.delete().where(*self._pending_key(key)))
            tx.execute(pending_submits.insert().values(**row))

    def pending(self, backoffice: str, external_reference: str) -> Pending | None:
        """The submit for *external_reference* that was started and never settled."""
        key = {"backoffice": backoffice, "external_reference": external_reference}
        with self._tx() as tx:
            row = tx.execute(sa.select(pending_submits).where(*self._pending_key(key))).first()
        return None if row is None else pending_of(row)

    def pendings(self, backoffice: str | None = None) -> list[Pending]:
        """Every unsettled submit (of *backoffice*, or of all), oldest first."""
        query = sa.select(pending_submits).order_by(pending_submits.c.submitted_at)
        if backoffice is not None:
            query = query.where(pending_submits.c.backoffice == backoffice)
        with self._tx() as tx:
            rows = tx.execute(query).all()
        return [pending_of(r) for r in rows]

    def clear_pending(self, backoffice: str, external_reference: str) -> bool:
        """Settle the submit for *external_reference*; whether there was one."""
        key = {"backoffice": backoffice, "external_reference": external_reference}
        with self._tx() as tx:
            return tx.execute(pending_submits.delete().where(*self._pending_key(key))).rowcount > 0

    def settle_pending(
        self, backoffice: str, external_reference: str, reference: str | None, actor: str
    ) -> Pending:
        """A person settles an unconfirmed submit: the record is in the back office as
        *reference* (the ledger records it), or it is not (None: the case may be keyed).
        Audited; StoreError if there is no such pending submit."""
        found = self.pending(backoffice, external_reference)
        if found is None:
            raise StoreError(
                f"no unconfirmed submit of {external_reference} into {backoffice}: "
                "`rekey ledger list` shows them"
            )
        key = {"backoffice": backoffice, "external_reference": external_reference}
        detail = key | {"reference": reference, "screen": found.screen}
        with self._tx() as tx:
            if reference is not None:
                row = key | {"doc_type": found.doc_type, "reference": reference}
                row |= {"case_id": found.case_id, "verified": False, "keyed_at": utcnow()}
                tx.execute(keyed_cases.insert().values(**fitting(keyed_cases, row)))
            tx.execute(pending_submits.delete().where(*self._pending_key(key)))
            action = "ledger:confirmed" if reference is not None else "ledger:forgotten"
            event = AuditEvent(case_id=found.case_id, actor=actor, action=action, detail=detail)
            self._append(tx, event)
        return found

    @staticmethod
    def _pending_key(key: dict[str, str]) -> list[Any]:
        return [pending_submits.c[name] == value for name, value in key.items()]

    # -- users -------------------------------------------------------------------------
    _USER = (users.c.username, users.c.password_hash, users.c.role, users.c.disabled)

    def add_user(self, username: str, password_hash: str, role: str) -> User:
        """A new user; StoreError when the name is taken."""
        try:
            with self._tx() as tx:
                tx.execute(
                    users.insert().values(
                        username=username,
                        password_hash=password_hash,
                        role=role,
                        created_at=utcnow(),
                        disabled=False,
                    )
                )
                self._append(
                    tx, AuditEvent(action="user:added", detail={"user": username, "role": role})
                )
        except IntegrityError as exc:
            raise StoreError(f"a user named {username!r} exists already") from exc
        return User(username, password_hash, role)

    def user(self, username: str) -> User | None:
        with self._tx() as tx:
            row = tx.execute(sa.select(*self._USER).where(users.c.username == username)).first()
        return User(*row) if row else None

    def users(self) -> list[User]:
        with self._tx() as tx:
            return [
                User(*row) for row in tx.execute(sa.select(*self._USER).order_by(users.c.username))
            ]

    def change_user(
        self,
        username: str,
        actor: str,
        *,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User:
        """Disable or enable a user, or set a new password hash; either ends every session
        of the user at once. Audited; StoreError when there is no such user."""
        values: dict[str, Any] = {}
        if disabled is not None:
            values["disabled"] = disabled
        if password_hash is not None:
            values["password_hash"] = password_hash
        action = (
            "user:password"
            if password_hash is not None
            else ("user:disabled" if disabled else "user:enabled")
        )
        with self._tx() as tx:
            done = tx.execute(users.update().where(users.c.username == username).values(**values))
            if done.rowcount == 0:
                raise StoreError(f"no user named {username!r}")
            ended = self._revoke(tx, review_sessions.c.username == username)
            detail = {"user": username, "sessions_ended": ended}
            self._append(tx, AuditEvent(actor=actor, action=action, detail=detail))
        found = self.user(username)
        assert found is not None
        return found

    # -- review station sessions ----------------------------------------------------------
    def open_session(
        self, username: str, id_hash: str, csrf: str, forget_before: datetime | None = None
    ) -> None:
        """Record a new session; ``forget_before``: delete those opened before it (over)."""
        now = utcnow()
        row = {"id_hash": id_hash, "username": username, "csrf": csrf}
        with self._tx() as tx:
            if forget_before is not None:
                old = review_sessions.c.created_at < as_utc(forget_before)
                tx.execute(review_sessions.delete().where(old))
            tx.execute(review_sessions.insert().values(**row, created_at=now, seen_at=now))

    def session(self, id_hash: str) -> StoredSession | None:
        """The session with this id hash, joined with its user (None: no such session or
        no such user any more)."""
        s = review_sessions.c
        query = (
            sa.select(users.c.username, users.c.role, users.c.disabled, s.csrf)
            .add_columns(s.created_at, s.seen_at, s.revoked_at)
            .join(users, users.c.username == s.username)
            .where(s.id_hash == id_hash)
        )
        with self._tx() as tx:
            row = tx.execute(query).first()
        if row is None:
            return None
        revoked = as_utc(row.revoked_at) if row.revoked_at is not None else None
        return StoredSession(
            *row[:4], as_utc(row.created_at), as_utc(row.seen_at), revoked_at=revoked
        )

    def touch_session(self, id_hash: str, at: datetime) -> None:
        with self._tx() as tx:
            tx.execute(
                review_sessions.update()
                .where(review_sessions.c.id_hash == id_hash)
                .values(seen_at=as_utc(at))
            )

    def revoke_session(self, id_hash: str) -> bool:
        with self._tx() as tx:
            return self._revoke(tx, review_sessions.c.id_hash == id_hash) > 0

    @staticmethod
    def _revoke(tx: sa.Connection, where: Any) -> int:
        live = review_sessions.c.revoked_at.is_(None)
        return tx.execute(
            review_sessions.update().where(where, live).values(revoked_at=utcnow())
        ).rowcount

    # -- failed sign-ins ------------------------------------------------------------------
    def sign_in_blocked_until(self, keys: Iterable[str], now: datetime) -> datetime | None:
        """The latest time any of ``keys`` is refused until, if that is after ``now``."""
        f = sign_in_failures.c
        query = sa.select(sa.func.max(f.blocked_until)).where(f.key.in_(list(keys)))
        with self._tx() as tx:
            until = tx.execute(query).scalar()
        return as_utc(until) if until is not None and as_utc(until) > as_utc(now) else None

    def record_sign_in_failure(
        self,
        keys: Iterable[str],
        now: datetime,
        block_s: Callable[[int], float],
        forget_after: timedelta,
    ) -> datetime | None:
        """Count one more failure against each key (a count older than ``forget_after``
        starts again) and block each for ``block_s(failures)`` seconds; returns the latest
        time any of them is now refused until (None: not refused)."""
        try:
            return self._count_failure(list(keys), as_utc(now), block_s, forget_after)
        except IntegrityError:  # two workers counted a new key's first failure at once
            return self._count_failure(list(keys), as_utc(now), block_s, forget_after)

    def _count_failure(
        self,
        keys: list[str],
        now: datetime,
        block_s: Callable[[int], float],
        forget_after: timedelta,
    ) -> datetime | None:
        latest: datetime | None = None
        with self._tx() as tx:
            stale = sign_in_failures.c.last_at < now - forget_after
            tx.execute(sign_in_failures.delete().where(stale))  # the table keeps recent ones
            for key in keys:
                key = key[:200]
                row = tx.execute(
                    sa.select(sign_in_failures)
                    .where(sign_in_failures.c.key == key)
                    .with_for_update()
                ).first()
                failures = 1
                if row is not None and now - as_utc(row.last_at) <= forget_after:
                    failures = row.failures + 1
                seconds = block_s(failures)
                until = now + timedelta(seconds=seconds) if seconds > 0 else None
                values = {"failures": failures, "last_at": now, "blocked_until": until}
                if row is None:
                    tx.execute(sign_in_failures.insert().values(key=key, **values))
                else:
                    tx.execute(
                        sign_in_failures.update()
                        .where(sign_in_failures.c.key == key)
                        .values(**values)
                    )
                if until is not None and (latest is None or until > latest):
                    latest = until
        return latest

    def clear_sign_in_failures(self, key: str) -> None:
        with self._tx() as tx:
            tx.execute(sign_in_failures.delete().where(sign_in_failures.c.key == key[:200]))

    def record_event(
        self, action: str, actor: str = "rekey", case_id: str | None = None, **detail: Any
    ) -> None:
        """Write an audit event that changes nothing stored (a sign-in, a reveal)."""
        event = AuditEvent(case_id=case_id, actor=actor[:80], action=action, detail=detail)
        with self._tx() as tx:
            self._append(tx, event)

    # -- audit trail -------------------------------------------------------------------
    def _append(self, tx: sa.Connection, event: AuditEvent) -> None:
        if tx.dialect.name == "postgresql":  # SQLite writers are serialised at BEGIN
            tx.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
        last = tx.execute(
            sa.select(audit_events.c.hash).order_by(audit_events.c.id.desc()).limit(1)
        ).scalar()
        prev = last or GENESIS
        link = {"prev_hash": prev, "hash": event_hash(prev, event, self.key)}
        row = fitting(audit_events, event.model_dump() | {"at": as_utc(event.at)} | link)
        inserted = tx.execute(audit_events.insert().values(**row)).inserted_primary_key
        tx.info["appended"] = inserted[0]

    def events(self, case_id: str | None = None, since: datetime | None = None) -> list[AuditEvent]:
        """The trail in the order it was written, times in UTC; ``since``: from that time on."""
        query = sa.select(audit_events).order_by(audit_events.c.id)
        if case_id is not None:
            query = query.where(audit_events.c.case_id == case_id)
        if since is not None:
            query = query.where(audit_events.c.at >= as_utc(since))
        with self._tx() as tx:
            return [event_of(row) for row in tx.execute(query)]
