"""Straight-through and wrong values keyed, end to end: what a batch through the real flow
left in the case store and in the back office, scored on the corpus truth.

- A document is straight-through when it was keyed and ended ``done`` with no person
  touching it: :func:`rekey.report.figures.documents_straight_through`, the definition
  ``rekey report`` uses. A kind with no back-office route ends in review: its figure is 0
  and ``why`` says so.
- ``wrong_keyed`` counts the fields of straight-through records whose value in the back
  office (read from its own database, not through rekey) differs from the truth, compared
  as the accuracy figures compare them (:func:`benchmarks.scoring.same`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.figures import CorpusDoc
from benchmarks.scoring import kind_of, ratio, same
from rekey.models import AuditEvent, Case
from rekey.report.figures import documents_straight_through

# back-office column → field name, where the two differ (the demo back office's schema)
COLUMNS = {
    "claims": {"amount": "amount_claimed", "description": "loss_description"},
    "customers": {},
}
LINES = ("claims", "claim_lines", "expenses")  # table, its lines table, the field they hold
NOT_FIELDS = {"id", "reference", "external_ref", "created_by", "created_at", "payout_account"}


@dataclass
class RowStp:
    documents: int = 0
    straight_through: int = 0
    states: Counter[str] = field(default_factory=Counter)
    why: str | None = None

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "documents": self.documents,
            "straight_through": self.straight_through,
            "stp": ratio(self.straight_through, self.documents) or 0.0,
            "states": dict(sorted(self.states.items())),
        }
        if self.why:
            out["why"] = self.why
        return out


def original_name(case: Case) -> str:
    return case.document.original_name


def stp_by_row(
    docs: list[CorpusDoc], cases: list[Case], events: list[AuditEvent], routed: set[str]
) -> tuple[dict[str, RowStp], dict[str, Case]]:
    """Per ``kind/rendition``: documents, straight-through, end states; and the
    straight-through documents' cases by file name."""
    straight = documents_straight_through(cases, events)
    by_name = {original_name(c): c for c in cases if c.document.row is None}
    rows: dict[str, RowStp] = defaultdict(RowStp)
    through: dict[str, Case] = {}
    for doc in docs:
        row = rows[doc.row]
        row.documents += 1
        case = by_name.get(doc.name)
        row.states[case.state.value if case else "not processed"] += 1
        if case is not None and straight.get(case.id):
            row.straight_through += 1
            through[doc.name] = case
        if doc.truth.doc_type not in routed:
            row.why = f"no back-office route for document type {doc.truth.doc_type!r}"
    return dict(sorted(rows.items())), through


def stp_all(rows: dict[str, RowStp]) -> float:
    documents = sum(r.documents for r in rows.values())
    return ratio(sum(r.straight_through for r in rows.values()), documents) or 0.0


def record_values(db: Path, reference: str) -> dict[str, Any] | None:
    """The record the back office holds under ``reference``, as field name → value."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        for table, renamed in COLUMNS.items():
            row = con.execute(f"SELECT * FROM {table} WHERE reference = ?", (reference,)).fetchone()
            if row is None:
                continue
            values = {renamed.get(k, k): v for k, v in dict(row).items() if k not in NOT_FIELDS}
            if table == LINES[0]:
                lines = con.execute(
                    f"SELECT date, description, amount FROM {LINES[1]} "
                    "WHERE claim_id = ? ORDER BY line_no",
                    (row["id"],),
                )
                values[LINES[2]] = [dict(line) for line in lines]
            return values
        return None
    finally:
        con.close()


@dataclass
class KeyedScore:
    records: int = 0
    fields: int = 0
    wrong: int = 0
    missing_records: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def truth_of(doc: CorpusDoc, case: Case) -> dict[str, Any]:
    """The truth of the case: the document's fields, or one row's for a batch row."""
    if case.document.row is None:
        return doc.truth.fields
    return doc.truth.fields["rows"][case.document.row - 1]


def score_keyed(
    keyed: list[tuple[CorpusDoc, Case]], db: Path, types: dict[str, dict[str, str]]
) -> KeyedScore:
    """Every field of every record keyed with no reviewer, against the truth."""
    score = KeyedScore()
    for doc, case in keyed:
        if case.receipt is None:
            continue
        record = record_values(db, case.receipt.reference)
        if record is None:
            score.missing_records += 1
            continue
        score.records += 1
        truth = truth_of(doc, case)
        kinds = types.get(case.doc_type or "", {})
        for name, shown in record.items():
            if name not in truth:
                continue
            score.fields += 1
            if not same(truth[name], shown, kind_of(truth[name], kinds.get(name))):
                score.wrong += 1
                if len(score.examples) < 10:
                    score.examples.append(
                        {"document": doc.name, "field": name, "truth": truth[name], "keyed": shown}
                    )
    return score


def keyed_cases(
    docs: list[CorpusDoc], cases: list[Case], through: dict[str, Case]
) -> list[tuple[CorpusDoc, Case]]:
    """The straight-through documents' keyed cases (a batch: each of its rows)."""
    by_name = {d.name: d for d in docs}
    out = []
    for case in cases:
        name = original_name(case)
        if case.document.row is not None:
            name = name.rsplit(" row ", 1)[0]
        if name in through and (case.document.row is not None or case.receipt is not None):
            out.append((by_name[name], case))
    return out
