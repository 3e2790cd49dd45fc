"""The case store: SQLAlchemy 2 over SQLite by default, any SQLAlchemy URL otherwise.

The schema is owned by the alembic migrations in ``rekey/migrations``; they are applied
whenever a :class:`Store` opens. Each case is kept whole as JSON (the pydantic model) with
the columns needed to look it up beside it. Every change writes an audit event that carries
the hash of the event before it, so an edited or deleted event is detectable.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
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


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    at = as_utc(event.at)
    body = json.dumps(
        [prev_hash, event.case_id, at.isoformat(), event.actor, event.action, event.detail],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


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


class Store:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            # a worker's pooled connection may outlive a database restart: test it on checkout
            self.engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
            if self.engine.dialect.name == "sqlite":
                serialise_sqlite_writers(self.engine)
            migrate(self.engine)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"not a usable database URL ({exc})", key="database_url") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the case store: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"case store failed: {exc}") from exc

    # -- cases -------------------------------------------------------------------------
    def add(self, case: Case, actor: str = "rekey", **detail: Any) -> Case:
        try:
            with self._tx() as tx:
                tx.execute(cases.insert().values(**_case_row(case)))
                self._append(
                    tx,
                    AuditEvent(
                        case_id=case.id,
                        actor=actor,
                        action="received",
                        detail={"file": case.document.original_name, **detail},
                    ),
                )
        except IntegrityError as exc:
            raise DuplicateDocument(case.document.sha256) from exc
        return case

    def save(self, case: Case, action: str, actor: str = "rekey", **detail: Any) -> Case:
        case.updated_at = utcnow()
        with self._tx() as tx:
            tx.execute(cases.update().where(cases.c.id == case.id).values(**_case_row(case)))
            detail.setdefault("state", case.state.value)
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
        if row is None:
            return None
        return Pending(**(row._asdict() | {"submitted_at": as_utc(row.submitted_at)}))

    def pendings(self, backoffice: str | None = None) -> list[Pending]:
        """Every unsettled submit (of *backoffice*, or of all), oldest first."""
        query = sa.select(pending_submits).order_by(pending_submits.c.submitted_at)
        if backoffice is not None:
            query = query.where(pending_submits.c.backoffice == backoffice)
        with self._tx() as tx:
            rows = tx.execute(query).all()
        return [Pending(**(r._asdict() | {"submitted_at": as_utc(r.submitted_at)})) for r in rows]

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
            row = tx.execute(
                sa.select(users.c.username, users.c.password_hash, users.c.role).where(
                    users.c.username == username
                )
            ).first()
        return User(*row) if row else None

    def users(self) -> list[User]:
        query = sa.select(users.c.username, users.c.password_hash, users.c.role)
        with self._tx() as tx:
            return [User(*row) for row in tx.execute(query.order_by(users.c.username))]

    # -- audit trail -------------------------------------------------------------------
    def _append(self, tx: sa.Connection, event: AuditEvent) -> None:
        if tx.dialect.name == "postgresql":  # SQLite writers are serialised at BEGIN
            tx.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
        last = tx.execute(
            sa.select(audit_events.c.hash).order_by(audit_events.c.id.desc()).limit(1)
        ).scalar()
        prev = last or GENESIS
        tx.execute(
            audit_events.insert().values(
                **fitting(
                    audit_events,
                    event.model_dump()
                    | {"at": as_utc(event.at), "prev_hash": prev, "hash": event_hash(prev, event)},
                )
            )
        )

    def events(self, case_id: str | None = None, since: datetime | None = None) -> list[AuditEvent]:
        """The trail in the order it was written, times in UTC; ``since``: from that time on."""
        query = sa.select(audit_events).order_by(audit_events.c.id)
        if case_id is not None:
            query = query.where(audit_events.c.case_id == case_id)
        if since is not None:
            query = query.where(audit_events.c.at >= as_utc(since))
        with self._tx() as tx:
            return [event_of(row) for row in tx.execute(query)]
