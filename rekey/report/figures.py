"""The operating figures for a period, as pure functions over cases and audit events.

Definitions:

- A *document* is a file received (a CSV/XLSX batch counts once). A *case* is what is worked
  on: each document, except that a batch is replaced by its rows (one case each).
- A case is *straight-through* (:func:`straight_through`) when it was keyed and ended
  ``done`` with its receipt and no person touched it: its decision route is ``auto``, it
  never waited for a reviewer, and every event in its audit trail is rekey's own. A case with
  no back-office route ends in review, so it never counts. A document is straight-through
  when its case is, or for a CSV/XLSX batch, when every row's case is
  (:func:`documents_straight_through`; ``make bench`` uses the same definition). The *review
  rate* counts cases that went to review at any time. Both rates are over all cases received
  in the period.
- *Drop to keyed* runs from the case's ``created_at`` to its first ``state:keyed`` event;
  the median and the 90th percentile (nearest rank) are over the cases keyed so far.
- *Exceptions* are the error findings, counted once per case and rule; warnings beside them.
- *Failures* are the cases now ``failed`` or ``quarantined``, with their reasons, and the
  number of times keying failed (``state:failed`` events), including attempts later retried
  successfully.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rekey.models import AuditEvent, Case, CaseState
from rekey.store import as_utc

UNCLASSIFIED = "(unclassified)"


@dataclass(frozen=True)
class CaseFacts:
    """What the report needs of one case, read from the case and its audit events."""

    case_id: str
    file: str
    doc_type: str
    state: CaseState
    received_at: datetime
    keyed_at: datetime | None
    straight_through: bool
    reviewed: bool
    keying_failures: int
    error_rules: frozenset[str]
    warning_rules: frozenset[str]
    reason: str | None
    is_row: bool


@dataclass(frozen=True)
class RuleCount:
    rule: str
    errors: int
    warnings: int


@dataclass(frozen=True)
class TypeFigures:
    doc_type: str
    cases: int
    straight_through: int

    @property
    def rate(self) -> float:
        return self.straight_through / self.cases if self.cases else 0.0


@dataclass(frozen=True)
class Failure:
    case_id: str
    file: str
    state: str
    reason: str


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    documents: int
    cases: int
    states: dict[str, int]
    straight_through: int
    reviewed: int
    median_to_keyed_s: float | None
    p90_to_keyed_s: float | None
    keyed: int
    exceptions: list[RuleCount]
    failures: list[Failure]
    keying_failures: int
    per_day: list[tuple[date, int]]
    by_type: list[TypeFigures]

    @property
    def stp_rate(self) -> float | None:
        return self.straight_through / self.cases if self.cases else None

    @property
    def review_rate(self) -> float | None:
        return self.reviewed / self.cases if self.cases else None


def batch_ids(events: Iterable[AuditEvent]) -> frozenset[str]:
    """Cases that are batch files split into row cases (a row's ``received`` names it)."""
    return frozenset(
        str(e.detail["batch"]) for e in events if e.action == "received" and "batch" in e.detail
    )


def events_by_case(events: Iterable[AuditEvent]) -> dict[str, list[AuditEvent]]:
    grouped: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.case_id is not None:
            grouped[event.case_id].append(event)
    return grouped


SYSTEM_ACTOR = "rekey"


def straight_through(case: Case, events: Sequence[AuditEvent]) -> bool:
    """Keyed and done with no person touching it (``events``: the case's audit trail)."""
    states = {e.action.removeprefix("state:") for e in events if e.action.startswith("state:")}
    auto = case.decision is not None and case.decision.route == "auto"
    untouched = all(e.actor == SYSTEM_ACTOR for e in events)
    return (
        auto
        and untouched
        and case.state is CaseState.done
        and case.receipt is not None
        and CaseState.review.value not in states
    )


def documents_straight_through(
    cases: Iterable[Case], events: Iterable[AuditEvent]
) -> dict[str, bool]:
    """Each document's case id → whether it went straight through: its own case, or for a
    batch file every one of its rows (a batch with no rows does not count)."""
    events = list(events)
    trail = events_by_case(events)
    cases = list(cases)
    rows: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e.action == "received" and "batch" in e.detail and e.case_id is not None:
            rows[str(e.detail["batch"])].append(e.case_id)
    by_id = {c.id: c for c in cases}
    result = {}
    for case in cases:
        if case.document.row is not None:
            continue
        if case.id in rows:
            members = [by_id.get(i) for i in rows[case.id]]
            result[case.id] = bool(members) and all(
                m is not None and straight_through(m, trail.get(m.id, [])) for m in members
            )
        else:
            result[case.id] = straight_through(case, trail.get(case.id, []))
    return result


def case_facts(case: Case, events: Sequence[AuditEvent]) -> CaseFacts:
    """One case's facts; ``events`` are its audit events in the order they were written."""
    states = [e.action.removeprefix("state:") for e in events if e.action.startswith("state:")]
    keyed_times = [as_utc(e.at) for e in events if e.action == "state:keyed"]
    reviewed = CaseState.review.value in states or case.state is CaseState.review
    return CaseFacts(
        case_id=case.id,
        file=case.document.original_name,
        doc_type=case.doc_type or UNCLASSIFIED,
        state=case.state,
        received_at=as_utc(case.created_at),
        keyed_at=keyed_times[0] if keyed_times else None,
        straight_through=straight_through(case, events),
        reviewed=reviewed,
        keying_failures=states.count(CaseState.failed.value),
        error_rules=frozenset(f.rule for f in case.findings if f.severity == "error"),
        warning_rules=frozenset(f.rule for f in case.findings if f.severity == "warning"),
        reason=case.reason,
        is_row=case.document.row is not None,
    )


def nearest_rank(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with ``share`` of values at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def days(received: Iterable[datetime]) -> list[tuple[date, int]]:
    """Documents per UTC day, from the first day to the last, days without any included."""
    counts = Counter(moment.astimezone(UTC).date() for moment in received)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    span = (last - first).days + 1
    return [(first + timedelta(n), counts.get(first + timedelta(n), 0)) for n in range(span)]


def rule_counts(facts: Iterable[CaseFacts]) -> list[RuleCount]:
    """Error and warning findings per rule (once per case), most errors first."""
    errors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for fact in facts:
        errors.update(fact.error_rules)
        warnings.update(fact.warning_rules)
    rules = set(errors) | set(warnings)
    counted = [RuleCount(rule, errors[rule], warnings[rule]) for rule in rules]
    return sorted(counted, key=lambda r: (-r.errors, -r.warnings, r.rule))


def type_figures(facts: Iterable[CaseFacts]) -> list[TypeFigures]:
    totals: Counter[str] = Counter()
    straight: Counter[str] = Counter()
    for fact in facts:
        totals[fact.doc_type] += 1
        straight[fact.doc_type] += fact.straight_through
    return [TypeFigures(t, totals[t], straight[t]) for t in sorted(totals)]


def failures(facts: Iterable[CaseFacts]) -> list[Failure]:
    stuck = (CaseState.failed, CaseState.quarantined)
    return [
        Failure(f.case_id, f.file, f.state.value, f.reason or "") for f in facts if f.state in stuck
    ]


def figures(
    cases: Iterable[Case],
    events: Iterable[AuditEvent],
    since: datetime,
    until: datetime | None = None,
) -> Figures:
    """The figures for cases created in ``[since, until)`` (``until`` defaults to now)."""
    since = as_utc(since)
    until = as_utc(until) if until is not None else datetime.now(UTC)
    events = list(events)
    in_period = [c for c in cases if since <= as_utc(c.created_at) < until]
    trail = events_by_case(events)
    batches = batch_ids(events)
    documents = [c for c in in_period if c.document.row is None]
    facts = [case_facts(c, trail.get(c.id, [])) for c in in_period if c.id not in batches]
    to_keyed = [
        (f.keyed_at - f.received_at).total_seconds() for f in facts if f.keyed_at is not None
    ]
    return Figures(
        since=since,
        until=until,
        documents=len(documents),
        cases=len(facts),
        states=dict(sorted(Counter(f.state.value for f in facts).items())),
        straight_through=sum(f.straight_through for f in facts),
        reviewed=sum(f.reviewed for f in facts),
        median_to_keyed_s=statistics.median(to_keyed) if to_keyed else None,
        p90_to_keyed_s=nearest_rank(to_keyed, 0.9) if to_keyed else None,
        keyed=len(to_keyed),
        exceptions=rule_counts(facts),
        failures=failures(facts),
        keying_failures=sum(f.keying_failures for f in facts),
        per_day=days(as_utc(c.created_at) for c in documents),
        by_type=type_figures(facts),
    )
