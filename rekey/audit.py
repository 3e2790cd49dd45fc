"""Checking the audit trail: every event carries the hash of the one before it and its own.

:func:`first_break` is the check itself, a pure function over the stored links; an edited
event no longer matches its own hash, a deleted one leaves its successor pointing at a hash
that is not the one before it, and an inserted one points at (or hashes to) the wrong value.
:func:`verify_store` reads the trail of a :class:`~rekey.store.Store` and applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from rekey.models import AuditEvent
from rekey.store import GENESIS, Store, audit_events, event_hash, event_of


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


def first_break(links: Iterable[Link], genesis: str = GENESIS) -> Break | None:
    """The first link whose predecessor hash or own hash is wrong; ``None`` when intact."""
    expected_prev = genesis
    for link in links:
        reason = None
        if link.prev_hash != expected_prev:
            reason = "it does not follow the event before it (an event was deleted or inserted)"
        elif event_hash(link.prev_hash, link.event) != link.hash:
            reason = "its content does not match its hash (the event was edited)"
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


def verify_store(store: Store) -> tuple[int, Break | None]:
    """How many events the trail holds, and its first break (``None`` when intact)."""
    links = stored_links(store)
    return len(links), first_break(links)
