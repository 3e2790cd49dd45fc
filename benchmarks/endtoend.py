"""Straight-through and wrong values keyed, end to end: what a batch through the real flow
left in the case store and in the back office, scored on the corpus truth.

- A document is straight-through when it was keyed and ended ``done`` with no person
  touching it: :func:`rekey.report.figures.documents_straight_through`, the definition
  ``rekey report`` uses. A kind with no back-office route ends in review: its figure is 0
  and ``why`` says so.
- ``stp`` is the share of the documents that may go straight through (no planted error:
  nothing a rule must stop) that did; a document with a planted error belongs in review.
  ``stp_all_documents`` is the share of every document (those with a planted error
  counted as not straight-through), and ``planted_through`` the documents with a planted
  error that went straight through anyway: a rule's miss, kept in sight.
- ``wrong_keyed`` counts the fields of straight-through records whose value in the back
  office (read from its own database, not through rekey) differs from the truth, compared
  as the accuracy figures compare them (:func:`benchmarks.scoring.same`).
- Each document is keyed into the back office that routes its type (:func:`split_by_route`):
  ClaimBase first, Ledgerline for the types only it routes (W-9, CMS-1500, passport), as a
  second deployment of rekey would. Each back office's records are read from its own
  database (:func:`record_values` for ClaimBase's tables, :func:`ledgerline_values` for
  Ledgerline's ``records``), its columns renamed to the template's field names, and values
  a screen map keys in another shape (an option's text, a masked number) read back as the
  case value (:func:`as_case_value`); the rows of every back office are merged
  (:func:`merge_rows`, :func:`combined`), each saying where it was keyed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
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
# Ledgerline (samples/spa): one ``records`` table, each record's values and lines as JSON.
# Its screen → value key → field name, where the two differ (samples/spa/screens.py)
LEDGERLINE_KEYS: dict[str, dict[str, str]] = {"tax": {"customer_name": "name"}}
# its screen → (the field its lines hold, line key → item key where they differ)
LEDGERLINE_LINES: dict[str, tuple[str, dict[str, str]]] = {"medical": ("services", {"code": "cpt"})}

CLAIMBASE, LEDGERLINE = "ClaimBase", "Ledgerline"
Record = dict[str, Any]
ReadRecord = Callable[[str], Record | None]  # back-office reference → its record, or None


@dataclass
class RowStp:
    documents: int = 0
    straight_through: int = 0
    states: Counter[str] = field(default_factory=Counter)
    why: str | None = None
    backoffice: str | None = None  # where the row's documents were keyed
    may_pass: int = 0  # documents with no planted error: nothing a rule must stop
    passed: int = 0  # ... of them straight-through

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "documents": self.documents,
            "straight_through": self.straight_through,
            "may_pass": self.may_pass,
            "stp": ratio(self.passed, self.may_pass),  # None: every document must stop
            "stp_all_documents": ratio(self.straight_through, self.documents) or 0.0,
            "planted_through": self.straight_through - self.passed,
            "states": dict(sorted(self.states.items())),
        }
        if self.backoffice:
            out["backoffice"] = self.backoffice
        if self.why:
            out["why"] = self.why
        return out


def original_name(case: Case) -> str:
    return case.document.original_name


def split_by_route(
    docs: list[CorpusDoc], routes: Mapping[str, frozenset[str]]
) -> dict[str, list[CorpusDoc]]:
    """The documents by the back office they are keyed into: the first of ``routes`` (back
    office → the document types its screen maps route) that routes their type; a type no
    back office routes stays with the first, where it ends in review."""
    home = next(iter(routes))
    shares: dict[str, list[CorpusDoc]] = {name: [] for name in routes}
    for doc in docs:
        where = next((n for n, types in routes.items() if doc.truth.doc_type in types), home)
        shares[where].append(doc)
    return shares


def stp_by_row(
    docs: list[CorpusDoc],
    cases: list[Case],
    events: list[AuditEvent],
    routed: set[str] | frozenset[str],
    backoffice: str | None = None,
) -> tuple[dict[str, RowStp], dict[str, Case]]:
    """Per ``kind/rendition``: documents, straight-through, end states; and the
    straight-through documents' cases by file name."""
    straight = documents_straight_through(cases, events)
    by_name = {original_name(c): c for c in cases if c.document.row is None}
    rows: dict[str, RowStp] = defaultdict(lambda: RowStp(backoffice=backoffice))
    through: dict[str, Case] = {}
    for doc in docs:
        row = rows[doc.row]
        row.documents += 1
        clean = doc.truth.planted_error is None
        row.may_pass += clean
        case = by_name.get(doc.name)
        row.states[case.state.value if case else "not processed"] += 1
        if case is not None and straight.get(case.id):
            row.straight_through += 1
            row.passed += clean
            through[doc.name] = case
        if doc.truth.doc_type not in routed:
            row.why = f"no back-office route for document type {doc.truth.doc_type!r}"
    return dict(sorted(rows.items())), through


def merge_rows(*runs: dict[str, RowStp]) -> dict[str, RowStp]:
    """The rows of several back offices' runs as one table; a row found in more than one
    run adds up and names every back office."""
    merged: dict[str, RowStp] = defaultdict(RowStp)
    for rows in runs:
        for name, row in rows.items():
            into = merged[name]
            into.documents += row.documents
            into.straight_through += row.straight_through
            into.may_pass += row.may_pass
            into.passed += row.passed
            into.states.update(row.states)
            into.why = into.why or row.why
            places = [p for p in (into.backoffice, row.backoffice) if p]
            into.backoffice = " + ".join(dict.fromkeys(places)) or None
    return dict(sorted(merged.items()))


def stp_all(rows: dict[str, RowStp]) -> float:
    """Over every row: the documents that may go straight through that did."""
    may_pass = sum(r.may_pass for r in rows.values())
    return ratio(sum(r.passed for r in rows.values()), may_pass) or 0.0


def stp_all_documents(rows: dict[str, RowStp]) -> float:
    """Over every row: every document that went straight through."""
    documents = sum(r.documents for r in rows.values())
    return ratio(sum(r.straight_through for r in rows.values()), documents) or 0.0


def planted_through(rows: dict[str, RowStp]) -> int:
    return sum(r.straight_through - r.passed for r in rows.values())


def summary(rows: dict[str, RowStp]) -> dict[str, Any]:
    """The figures over every row: ``all`` (the documents that may pass), ``all_documents``,
    ``planted_through`` and ``by_rendition``."""
    return {
        "all": stp_all(rows),
        "all_documents": stp_all_documents(rows),
        "planted_through": planted_through(rows),
        "by_rendition": by_rendition(rows),
    }


def by_rendition(rows: dict[str, RowStp]) -> dict[str, float | None]:
    """Per rendition, over the kinds a back office routes (a row without ``why``): the
    documents that may go straight through that did (None: none may)."""
    renditions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, row in rows.items():
        if row.why is None:
            counts = renditions[name.partition("/")[2]]
            counts[0] += row.passed
            counts[1] += row.may_pass
    return {r: ratio(passed, may) for r, (passed, may) in sorted(renditions.items())}


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


def ledgerline_values(db: Path, reference: str) -> Record | None:
    """The record Ledgerline holds under ``reference``, as field name → value (its lines as
    the list field they came from)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT screen, payload FROM records WHERE reference = ?", (reference,)
        ).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    screen, payload = row[0], json.loads(row[1])
    renamed = LEDGERLINE_KEYS.get(screen, {})
    values = {renamed.get(k, k): v for k, v in payload["values"].items() if k not in NOT_FIELDS}
    if screen in LEDGERLINE_LINES:
        name, keys = LEDGERLINE_LINES[screen]
        values[name] = [{keys.get(k, k): v for k, v in line.items()} for line in payload["lines"]]
    return values


def screen_formats(screens_dir: Path) -> dict[str, dict[str, Any]]:
    """Per document type, the format each case field is keyed in on its entry screens."""
    from connectors.backoffice.screenmap import load_screens

    return {
        doc_type: {
            name: spec.format for screen in route.entry for name, spec in screen.fields.items()
        }
        for doc_type, route in load_screens(screens_dir).routes.items()
    }


def as_case_value(value: Any, fmt: Any) -> Any:
    """A value stored in the shape a screen map keyed it in, as the case (and the truth)
    writes it: a select's option text as the case value mapped to it (``Partnership`` →
    ``partnership``), a masked identifier without the mask's separators (``12-3456789`` →
    ``123456789``); anything else as it is."""
    from connectors.backoffice.formats import MaskFormat, SelectFormat

    if not isinstance(value, str):
        return value
    if isinstance(fmt, SelectFormat):
        return {text: case for case, text in fmt.options.items()}.get(value, value)
    if isinstance(fmt, MaskFormat):
        return "".join(c for c in value if c.isalnum())
    return value


@dataclass
class KeyedScore:
    records: int = 0
    fields: int = 0
    wrong: int = 0
    missing_records: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        return {
            "records": self.records,
            "fields_compared": self.fields,
            "wrong": self.wrong,
            "records_not_found": self.missing_records,
        }


def combined(scores: Mapping[str, KeyedScore]) -> KeyedScore:
    """Several back offices' scores as one (the examples of each, at most 10 in all)."""
    return KeyedScore(
        records=sum(s.records for s in scores.values()),
        fields=sum(s.fields for s in scores.values()),
        wrong=sum(s.wrong for s in scores.values()),
        missing_records=sum(s.missing_records for s in scores.values()),
        examples=[e for s in scores.values() for e in s.examples][:10],
    )


def truth_of(doc: CorpusDoc, case: Case) -> dict[str, Any]:
    """The truth of the case: the document's fields, or one row's for a batch row."""
    if case.document.row is None:
        return doc.truth.fields
    return doc.truth.fields["rows"][case.document.row - 1]


def score_keyed(
    keyed: list[tuple[CorpusDoc, Case]],
    read: ReadRecord,
    types: dict[str, dict[str, str]],
    formats: dict[str, dict[str, Any]] | None = None,
    backoffice: str = CLAIMBASE,
) -> KeyedScore:
    """Every field of every record keyed with no reviewer into ``backoffice`` (its records
    read by ``read``; values its screen maps key in another shape read back by ``formats``,
    see :func:`screen_formats`), against the truth."""
    score = KeyedScore()
    for doc, case in keyed:
        if case.receipt is None:
            continue
        record = read(case.receipt.reference)
        if record is None:
            score.missing_records += 1
            continue
        score.records += 1
        truth = truth_of(doc, case)
        kinds = types.get(case.doc_type or "", {})
        shapes = (formats or {}).get(case.doc_type or "", {})
        for name, stored in record.items():
            if name not in truth:
                continue
            score.fields += 1
            shown = as_case_value(stored, shapes.get(name))
            if not same(truth[name], shown, kind_of(truth[name], kinds.get(name))):
                score.wrong += 1
                if len(score.examples) < 10:
                    score.examples.append(
                        {
                            "document": doc.name,
                            "backoffice": backoffice,
                            "field": name,
                            "truth": truth[name],
                            "keyed": stored,
                        }
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
