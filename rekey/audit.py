"""Checking the audit trail: every event carries the hash of the one before it and its own.

:func:`first_break` is the check itself, a pure function over the stored links; an edited
event no longer matches its own hash, a deleted one leaves its successor pointing at a hash
that is not the one before it, and an inserted one points at (or hashes to) the wrong value.
:func:`verify_store` reads the trail of a :class:`~rekey.store.Store` and applies it.

The trail is anchored outside the database, so that whoever can write to the database
cannot rewrite it unseen:

- the audit key (``REKEY_AUDIT_KEY``, or the key file ``keys/audit.key`` in the data folder,
  made once with mode 0600): each event's hash is an HMAC-SHA256 under it. Events written
  before the key existed keep their plain SHA-256 and still verify; one written after a
  keyed event without the key is a rewrite.
- checkpoints: every ``audit_checkpoint_every`` events (and after ``rekey run`` and a passing
  ``rekey audit verify``) a line ``{id, count, head, at, mac}`` is appended to
  ``audit/checkpoints.jsonl``. A trail with fewer events up to a checkpoint's id than it
  counted, or without its head, was cut short or rewritten (:func:`checkpoint_break`).
- the head: after every event, the last event's id and hash, signed, replace
  ``audit/head.json`` beside the checkpoints. Events cut off after the last checkpoint take
  the head event with them, and that is seen.
- the cases: every event of a case change holds the digest of the case as stored; a case
  that no longer matches its last event was edited outside rekey (:func:`case_breaks`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from rekey.errors import ConfigError
from rekey.models import AuditEvent
from rekey.settings import Settings
from rekey.store import GENESIS, Store, audit_events, case_digest, cases, event_hash, event_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    """One stored audit event with the hashes that chain it."""

    id: int
    event: AuditEvent
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """The first event at which the chain does not hold, and why."""

    id: int
    case_id: str | None
    action: str
    reason: str

    def __str__(self) -> str:
        case = f" (case {self.case_id})" if self.case_id else ""
        return f"audit event {self.id}{case}, {self.action}: {self.reason}"


def first_break(
    links: Iterable[Link], genesis: str = GENESIS, key: bytes | None = None
) -> Break | None:
    """The first link whose predecessor hash or own hash is wrong; ``None`` when intact.

    With ``key``, a link may be hashed with it (HMAC) or plainly (SHA-256), but a plain
    one after a keyed one was written by someone without the key."""
    expected_prev, keyed = genesis, False
    for link in links:
        reason = None
        if link.prev_hash != expected_prev:
            reason = "it does not follow the event before it (an event was deleted or inserted)"
        elif key is not None and event_hash(link.prev_hash, link.event, key) == link.hash:
            keyed = True
        elif event_hash(link.prev_hash, link.event) != link.hash:
            reason = "its content does not match its hash (the event was edited)"
            if key is None:
                reason += ", or it was written with an audit key this check was not given"
        elif keyed:
            reason = "it was hashed without the audit key after keyed events (rewritten)"
        if reason:
            return Break(link.id, link.event.case_id, link.event.action, reason)
        expected_prev = link.hash
    return None


def stored_links(store: Store) -> list[Link]:
    """Every audit event of the store, in the order they were appended."""
    query = sa.select(audit_events).order_by(audit_events.c.id)
    with store.engine.connect() as connection:
        return [
            Link(id=row.id, event=event_of(row), prev_hash=row.prev_hash, hash=row.hash)
            for row in connection.execute(query)
        ]


# -- the cases against their last event -------------------------------------------------
def case_breaks(links: Sequence[Link], stored: dict[str, str]) -> list[str]:
    """The cases (id → digest as stored now) that differ from their last event's digest,
    have no event, or whose last event says they exist and that are gone."""
    last: dict[str, str | None] = {}
    for link in links:
        if link.event.case_id is not None:
            digest = link.event.detail.get("case_digest")
            if digest is not None or link.event.case_id not in last:
                last[link.event.case_id] = digest
    found = []
    for case_id, digest in sorted(stored.items()):
        if case_id not in last:
            found.append(f"case {case_id} has no audit event (inserted outside rekey)")
        elif last[case_id] is not None and last[case_id] != digest:
            found.append(f"case {case_id} differs from its last audit event (edited outside rekey)")
    for case_id, digest in sorted(last.items()):
        if digest is not None and case_id not in stored:
            found.append(f"case {case_id} is gone though its audit events remain (deleted)")
    return found


def stored_cases(store: Store) -> dict[str, str]:
    """Every case's id and the digest of its row as stored."""
    with store.engine.connect() as connection:
        return {row.id: case_digest(row) for row in connection.execute(sa.select(cases))}


# -- the key ----------------------------------------------------------------------------
def _make_key(path: Path) -> None:
    """Write a new key file whole, then link it into place: a reader never sees it half
    written, and of two processes making it at once the first one's key stands."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(draft, 0o600)
        with suppress(FileExistsError):  # another process made it a moment ago
            os.link(draft, path)
    finally:
        os.unlink(draft)


def read_key(settings: Settings, create: bool = False) -> bytes | None:
    """The audit key: REKEY_AUDIT_KEY, or the key file (made, 0600, when ``create``);
    ``None`` when there is none. ConfigError when others may read the key file."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    path = settings.audit_key_path
    if not path.exists() and create:
        _make_key(path)
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        raise ConfigError("the audit key is readable by others: run `chmod 600` on it", file=path)
    text = path.read_text().strip()
    if not text:
        raise ConfigError("the audit key file is empty: restore it from its backup", file=path)
    return text.encode()


# -- checkpoints ------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """The trail's head at one moment: its last event's id and hash, how many events."""

    id: int
    count: int
    head: str
    at: str
    mac: str = ""

    def body(self) -> bytes:
        return json.dumps([self.id, self.count, self.head, self.at]).encode()

    def signed(self, key: bytes) -> Checkpoint:
        mac = hmac.new(key, self.body(), hashlib.sha256).hexdigest()
        return Checkpoint(self.id, self.count, self.head, self.at, mac)

    def genuine(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).mac, self.mac)


def head_of(store: Store, up_to: int | None = None) -> Checkpoint:
    """The trail's head now (or at event ``up_to``), unsigned."""
    query = sa.select(audit_events.c.id, audit_events.c.hash).order_by(audit_events.c.id.desc())
    count = sa.select(sa.func.count()).select_from(audit_events)
    if up_to is not None:
        query = query.where(audit_events.c.id <= up_to)
        count = count.where(audit_events.c.id <= up_to)
    with store.engine.connect() as connection:
        row = connection.execute(query.limit(1)).first()
        total = connection.execute(count).scalar_one()
    at = datetime.now(UTC).isoformat()
    return Checkpoint(row.id, total, row.hash, at) if row else Checkpoint(0, 0, GENESIS, at)


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """One line added to the checkpoints file (append-only, its owner's only)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(checkpoint.__dict__, sort_keys=True) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a") as out:
        out.write(line)


HEAD_FILE = "head.json"  # the last event's id and hash, beside the checkpoints file


def head_path(checkpoints: Path) -> Path:
    return checkpoints.with_name(HEAD_FILE)


def head_at(store: Store, event_id: int) -> Checkpoint:
    """Event ``event_id`` as the trail's head, unsigned; its events are not counted (0)."""
    query = sa.select(audit_events.c.hash).where(audit_events.c.id == event_id)
    with store.engine.connect() as connection:
        head = connection.execute(query).scalar_one()
    return Checkpoint(event_id, 0, head, datetime.now(UTC).isoformat())


def write_head(path: Path, head: Checkpoint) -> None:
    """The head file replaced whole (a reader sees the old one or the new, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".head-")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(json.dumps(head.__dict__, sort_keys=True))
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints in the file, oldest first, then the head file's (the latest); a
    ConfigError naming a line that is not one."""
    found = _checkpoint_lines(path)
    head = head_path(path)
    if head.exists():
        try:
            found.append(Checkpoint(**json.loads(head.read_text())))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a head record ({exc})", file=head) from exc
    return found


def _checkpoint_lines(path: Path) -> list[Checkpoint]:
    if not path.exists():
        return []
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a checkpoint ({exc})", file=path, key=f"line {number}") from exc
    return found


def checkpoint_break(
    links: Sequence[Link], checkpoints: Sequence[Checkpoint], key: bytes | None
) -> str | None:
    """Why the trail does not hold the checkpoints (``None`` when it does): a checkpoint
    not signed with the key, fewer events up to a checkpoint than it counted, or its
    head event gone or different."""
    ids = [link.id for link in links]
    hashes = {link.id: link.hash for link in links}
    for number, checkpoint in enumerate(checkpoints, start=1):
        where = f"checkpoint {number} (event {checkpoint.id}, {checkpoint.count} events)"
        if checkpoint.id and not checkpoint.count:  # the head file's: not counted
            where = f"the last event recorded in {HEAD_FILE} (event {checkpoint.id})"
        if key is None:
            return f"{where} cannot be checked without the audit key"
        if not checkpoint.genuine(key):
            return f"{where} was not written with the audit key (edited or forged)"
        held = bisect_right(ids, checkpoint.id)
        if held < checkpoint.count:
            return f"{where}: the trail holds {held} events up to it (events were deleted)"
        if checkpoint.id and hashes.get(checkpoint.id) != checkpoint.head:
            missing = checkpoint.id not in hashes
            how = "is gone (the trail was cut short)" if missing else "differs (rewritten)"
            return f"{where}: its head event {how}"
    return None


# -- the anchored store -----------------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    """Where a store's trail is anchored: its key, its checkpoints file and how often."""

    key: bytes
    checkpoints: Path
    every: int

    def checkpoint(self, store: Store, up_to: int | None = None) -> Checkpoint:
        signed = head_of(store, up_to).signed(self.key)
        append_checkpoint(self.checkpoints, signed)
        return signed

    def after_append(self, store: Store, last_id: int) -> None:
        """The head file rewritten, and a checkpoint every ``every`` events; one that
        cannot be written is logged (the events are committed already; the next one covers
        them)."""
        try:
            write_head(head_path(self.checkpoints), head_at(store, last_id).signed(self.key))
            if last_id % self.every == 0:
                self.checkpoint(store, last_id)
        except OSError as exc:
            log.warning(
                "audit checkpoint not written to %s (%s): check the folder's space and "
                "permissions; `rekey audit verify` writes one when it passes",
                self.checkpoints,
                exc.strerror or exc,
            )


def anchor_of(settings: Settings) -> Anchor:
    """The anchor the settings name; the key file is made the first time."""
    secret = settings.audit_key.get_secret_value() if settings.audit_key else None
    paths = (settings.audit_key_path, settings.audit_checkpoints_path)
    return _anchor(secret, *paths, settings.audit_checkpoint_every)


@cache
def _anchor(secret: str | None, key_file: Path, checkpoints: Path, every: int) -> Anchor:
    settings = Settings.model_construct(
        audit_key=SecretStr(secret) if secret else None, audit_key_file=key_file
    )
    key = read_key(settings, create=True)
    assert key is not None
    return Anchor(key, checkpoints, every)


@cache
def anchored_store(url: str, anchor: Anchor | None) -> Store:
    """The store at ``url``, its events keyed and checkpointed by ``anchor``; the first
    checkpoint is written at once (it anchors the events written before the key)."""
    if anchor is None:
        return Store(url)
    store = Store(url, key=anchor.key, checkpoint=anchor.after_append)
    if not anchor.checkpoints.exists():
        anchor.checkpoint(store)
    return store


# -- the whole check --------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """What ``rekey audit verify`` found."""

    events: int
    broken: Break | None
    checkpoint: str | None
    cases: list[str]
    checkpoints: int

    @property
    def intact(self) -> bool:
        return self.broken is None and self.checkpoint is None and not self.cases


def verify_store(
    store: Store, key: bytes | None = None, checkpoints: Sequence[Checkpoint] = ()
) -> Verdict:
    """The trail of ``store`` checked link by link (with ``key``), against ``checkpoints``
    and against the cases as stored now."""
    links = stored_links(store)
    return Verdict(
        events=len(links),
        broken=first_break(links, key=key),
        checkpoint=checkpoint_break(links, checkpoints, key) if checkpoints else None,
        cases=case_breaks(links, stored_cases(store)),
        checkpoints=len(checkpoints),
    )
