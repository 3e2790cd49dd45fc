"""The stages of one document, as plain functions the flows wrap in tasks.

``intake`` fingerprints the file and opens (or finds) its case, ``understand`` reads,
classifies, extracts and checks it and decides where it goes, ``key`` types it into the
back office. Each stage records its transitions in the store; none raises for a bad
document: the case ends quarantined, in review, rejected or failed with its reason. A
document whose reading or checking raises something unforeseen is quarantined with the
stage and the exception (:class:`rekey.errors.ReadingCrashed`); ``failed`` is kept for
application errors, which are retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import cv2

from connectors.inbox import fingerprint, keep_copy, quarantine
from extractors import cache as extraction_cache
from extractors.engine import Extraction, extract_row, extract_source
from extractors.registry import read_document
from extractors.sniff import media_type
from extractors.source import Source
from extractors.tabular import read_rows
from extractors.templates import Template, load_templates
from rekey.audit import anchor_of, anchored_store
from rekey.errors import (
    BadDocument,
    BusinessRuleError,
    DuplicateDocument,
    ReadingCrashed,
    RekeyError,
)
from rekey.history import StoreCaseHistory
from rekey.models import Case, CaseState, Decision, Field, Finding, Layout
from rekey.settings import Settings
from rekey.store import Store
from validators.engine import decide, run_rules
from validators.registry import RuleContext
from validators.rulesets import OPENERS, RuleSet, RuleUse, load_rulesets

DONE_ALREADY = "already processed"
log = logging.getLogger(__name__)


def store_for(settings: Settings) -> Store:
    """The settings' case store, its audit trail anchored (rekey.audit)."""
    return anchored_store(settings.db_url, anchor_of(settings))


@dataclass(frozen=True)
class Outcome:
    """One line of a run's summary."""

    file: str
    case_id: str | None
    state: str
    doc_type: str | None = None
    reference: str | None = None
    note: str = ""

    @classmethod
    def of(cls, case: Case, note: str = "") -> Outcome:
        return cls(
            file=case.document.original_name,
            case_id=case.id,
            state=case.state.value,
            doc_type=case.doc_type,
            reference=case.receipt.reference if case.receipt else None,
            note=note or case.reason or "; ".join(case.decision.reasons if case.decision else []),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def case_dir(settings: Settings, case: Case) -> Path:
    return settings.cases_dir / case.id


# A case in one of these states has not ended: it failed after its retries, or a crash
# left it mid-way. Seeing its content again picks it up where it stopped.
RESUMABLE = frozenset(
    {
        CaseState.received,
        CaseState.extracted,
        CaseState.validated,
        CaseState.keying,
        CaseState.keyed,  # saved in the back office, its receipt not yet filed
        CaseState.failed,
    }
)


def needs_understanding(case: Case) -> bool:
    """Not yet read, classified and checked to the end (a crash may have stopped it)."""
    if case.decision is None or case.state in (CaseState.received, CaseState.extracted):
        return True
    stopped = case.state in (CaseState.validated, CaseState.failed)
    return stopped and case.decision.route != "auto"


def with_copy(case: Case, path: Path, settings: Settings) -> Case:
    """The case with its copy of the original kept (a crash may have stopped it before)."""
    stored = Path(case.document.stored_path or "")
    if stored.is_file() and stored.stat().st_size == case.document.size:
        return case
    stored = keep_copy(path, case_dir(settings, case))
    case.document = case.document.model_copy(update={"stored_path": str(stored)})
    return store_for(settings).save(case, action="stored", path=str(stored))


def intake(path: Path, settings: Settings) -> tuple[Case, bool]:
    """Open a case for ``path``; ``False`` when its content was processed before.

    A case that has not ended (failed in the back office, or left mid-way by a crash) is
    picked up again.
    """
    store = store_for(settings)
    document = fingerprint(path)
    existing = store.by_sha256(document.sha256)
    if existing is not None:
        if existing.state not in RESUMABLE and not unfinished_rows(existing, store):
            return existing, False
        return with_copy(existing, path, settings), True
    case = Case(document=document)
    try:
        store.add(case)
    except DuplicateDocument:  # another worker took the same content a moment ago
        return store.by_sha256(document.sha256), False
    stored = keep_copy(path, case_dir(settings, case))
    case.document = case.document.model_copy(update={"stored_path": str(stored)})
    return store.save(case, action="stored", path=str(stored)), True


@lru_cache(maxsize=8)
def batch_rows(path: Path, kind: str, modified_ns: int) -> tuple[dict[str, str], ...]:
    """A batch's rows, read once for all of its row cases (the row cases share the file)."""
    return tuple(read_rows(path, kind))


def row_sha256(file_sha256: str, row: int) -> str:
    return hashlib.sha256(f"{file_sha256}:row:{row}".encode()).hexdigest()


def unfinished_rows(case: Case, store: Store) -> bool:
    """A batch some of whose rows a crash left unopened or mid-way, or that failed."""
    if not is_batch(case) or case.state is not CaseState.done:
        return False
    rows = (
        store.by_sha256(row_sha256(case.document.sha256, n))
        for n in range(1, (case.document.page_count or 0) + 1)
    )
    return any(row is None or row.state in RESUMABLE for row in rows)


def is_batch(case: Case) -> bool:
    return case.document.row is None and Path(case.document.original_name).suffix.lower() in (
        ".csv",
        ".xlsx",
    )


def split_batch(case: Case, settings: Settings) -> list[Case]:
    """A CSV/XLSX batch becomes one case per row; returns the rows still to process (new,
    or failed before). The batch's own case ends done, or quarantined when unreadable."""
    store = store_for(settings)
    path = Path(case.document.stored_path or "")
    try:
        with stage("reading the batch's rows", case):
            kind = media_type(path)
            rows = batch_rows(path, kind, path.stat().st_mtime_ns)
    except BadDocument as exc:
        send_to_quarantine(case, str(exc), settings)
        return []
    pending = []
    for number in range(1, len(rows) + 1):
        document = case.document.model_copy(
            update={
                "original_name": f"{case.document.original_name} row {number}",
                "sha256": row_sha256(case.document.sha256, number),
                "media_type": kind,
                "row": number,
                "page_count": 1,
            }
        )
        existing = store.by_sha256(document.sha256)
        if existing is not None:
            if existing.state in RESUMABLE:
                pending.append(existing)
            continue
        try:
            pending.append(store.add(Case(document=document), batch=case.id))
        except DuplicateDocument:
            continue
    case.document = case.document.model_copy(update={"media_type": kind, "page_count": len(rows)})
    case.reason = f"batch of {len(rows)} rows, each its own case"
    store.transition(case, CaseState.done, rows=len(rows))
    return pending


@contextmanager
def stage(name: str, case: Case) -> Iterator[None]:
    """Any exception of the block that is not one of rekey's own (an application error is
    retried, a config error names its file) becomes :class:`ReadingCrashed`: the document
    is quarantined with the stage and the exception, never retried for ever."""
    try:
        yield
    except RekeyError:
        raise
    except Exception as exc:
        raise ReadingCrashed(name, case.document.original_name, exc) from exc


def send_to_quarantine(case: Case, reason: str, settings: Settings) -> Case:
    """End the case quarantined with ``reason``, its copy and reason file filed in the data
    folder's quarantine (a copy that cannot be filed is logged: the case still ends)."""
    source = Path(case.document.stored_path or "")
    if source.is_file():
        try:
            quarantine(
                source, reason, settings.quarantine_dir, case.document.original_name, case.id
            )
        except OSError as exc:
            log.error(
                "case %s: its copy could not be quarantined in %s: %s",
                case.id,
                settings.quarantine_dir,
                exc,
            )
    case.reason = reason
    return store_for(settings).transition(case, CaseState.quarantined, reason=reason)


def save_layout(layout: Layout, settings: Settings, case: Case) -> None:
    folder = case_dir(settings, case)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout.json").write_text(layout.model_dump_json())


UNKNOWN_FORM = Finding(
    rule="classification",
    message="rekey could not tell which form this is; a reviewer must choose.",
)


def read(path: Path) -> tuple[str, Source]:
    """The file's real media type, opened for extraction; BadDocument when unreadable."""
    kind = media_type(path)
    return kind, read_document(path, kind)


def extract(source: Source, settings: Settings) -> tuple[Template | None, dict[str, Field]]:
    """The matching template and the fields it locates (no template: no fields)."""
    result = extract_source(source, load_templates(settings.templates_dir).values())
    return result.template, result.fields


@cache
def reference_overrides(policies: Path | None, watchlist: Path | None) -> dict[str, object]:
    """Reference sources named in settings, replacing those the rule sets name."""
    found: dict[str, object] = {}
    if policies is not None:
        found["policies"] = OPENERS["policies_csv"](policies)
    if watchlist is not None:
        found["watchlist"] = OPENERS["sdn_csv"](watchlist)
    return found


def check(
    case: Case, settings: Settings, today: date | None = None
) -> tuple[list[Finding], Decision]:
    """Run the case's rule set and decide: auto, review or reject."""
    if case.doc_type is None:
        return [UNKNOWN_FORM], Decision(route="review", reasons=[UNKNOWN_FORM.message])
    ruleset = load_rulesets(settings.rules_dir).get(case.doc_type)
    if ruleset is None:  # no rules of its own: still nothing missing or unsure is keyed
        findings = run_rules(case, default_ruleset(case), RuleContext())
        return findings, decide(findings, None)
    with reference_sources(settings) as reference:
        context = RuleContext(
            today=today or date.today(),
            history=StoreCaseHistory(store_for(settings)),
            reference=reference,
        )
        findings = run_rules(case, ruleset, context)
    return findings, decide(findings, ruleset)


def default_ruleset(case: Case) -> RuleSet:
    """The checks of a document type with no rule set: its template's required fields are
    there (``required``); ``confidence`` and ``printed_again`` always run."""
    needed = [name for name, field in case.fields.items() if field.required]
    uses = [RuleUse(rule="required", params={"fields": needed})] if needed else []
    return RuleSet(doc_type=case.doc_type or "", rules=uses)


@contextmanager
def reference_sources(settings: Settings) -> Iterator[dict[str, object]]:
    """The reference sources settings name; the policy register may be the back office's."""
    found = reference_overrides(settings.policies_csv, settings.watchlist_csv)
    if settings.policy_register != "backoffice":
        yield found
        return
    from connectors.backoffice.policies import BackOfficePolicyRegister

    with BackOfficePolicyRegister(settings) as register:
        yield found | {"policies": register}


ROUTE_STATE = {
    "auto": CaseState.validated,
    "review": CaseState.review,
    "reject": CaseState.rejected,
}


def save_pages(source: Source, folder: Path) -> None:
    """The pages as the reviewer will see them (for scans: upright and straightened)."""
    for number in source.numbers:
        cv2.imwrite(
            str(folder / f"page-{number}.png"),
            source.image(number),
            [cv2.IMWRITE_PNG_COMPRESSION, 1],
        )


def extract_document(case: Case, settings: Settings) -> tuple[str, int, Extraction]:
    """Media type, page count and extraction; from the cache when this content (and these
    template versions) were read before."""
    templates = load_templates(settings.templates_dir)
    folder = settings.data_path / "cache" / "extract"
    key = extraction_cache.cache_key(case.document.sha256, templates.values())
    hit = extraction_cache.load(folder, key, templates)
    if hit is not None:
        cached, result = hit
        return cached.media_type, cached.page_count, result
    path = Path(case.document.stored_path or "")
    if case.document.row is not None:
        kind = media_type(path)
        row = dict(batch_rows(path, kind, path.stat().st_mtime_ns)[case.document.row - 1])
        template, fields = extract_row(row, templates.values())
        return kind, 1, Extraction(template, Layout(cells=row), fields)
    kind, source = read(path)
    result = extract_source(source, templates.values())
    save_pages(source, case_dir(settings, case))
    extraction_cache.save(folder, key, kind, source.page_count, result)
    return kind, source.page_count, result


def understand(case: Case, settings: Settings, today: date | None = None) -> Case:
    """Read, classify, extract and check the case's document, and record where it goes."""
    store = store_for(settings)
    try:
        with stage("reading", case):
            kind, pages, result = extract_document(case, settings)
    except BadDocument as exc:
        return send_to_quarantine(case, str(exc), settings)
    case.document = case.document.model_copy(update={"media_type": kind, "page_count": pages})
    save_layout(result.layout, settings, case)
    template, case.fields = result.template, result.fields
    if template is not None:
        case.doc_type, case.template = template.doc_type, template.name
        store.transition(case, CaseState.extracted, template=template.name)
    try:
        with stage("checking the rules", case):
            case.findings, case.decision = check(case, settings, today)
    except BadDocument as exc:
        return send_to_quarantine(case, str(exc), settings)
    store.transition(case, CaseState.validated, findings=len(case.findings))
    route_state = ROUTE_STATE[case.decision.route]
    if route_state is not CaseState.validated:
        case.reason = "; ".join(case.decision.reasons)
        store.transition(case, route_state)
    return case


@cache
def keyable_types(screens_dir: Path) -> frozenset[str]:
    """The document types the screen maps have a back-office route for."""
    from connectors.backoffice.screenmap import load_screens

    return frozenset(load_screens(screens_dir).routes)


def to_review(case: Case, why: str, store: Store) -> Case:
    case.findings = [*case.findings, Finding(rule="backoffice", fields=[], message=why)]
    case.decision = Decision(route="review", reasons=[why])
    case.reason = why
    return store.transition(case, CaseState.review)


def key(case: Case, settings: Settings) -> Case:
    """Key an auto-routed (or approved) case, its identifiers covered in the screenshots.
    ApplicationError propagates for retries."""
    from connectors.backoffice import key_case
    from rekey.review.queue import identifier_fields

    store = store_for(settings)
    if case.doc_type not in keyable_types(settings.screens_dir):
        why = f"no back-office screens for document type {case.doc_type!r}; key it by hand"
        return to_review(case, why, store)
    store.transition(case, CaseState.keying)
    try:
        receipt = key_case(case, settings, identifiers=identifier_fields(settings, case.template))
    except BusinessRuleError as exc:
        return to_review(case, str(exc), store)
    case.receipt = receipt
    case.reason = None
    store.transition(case, CaseState.keyed, reference=receipt.reference)
    return file_receipt(case, settings)


def file_receipt(case: Case, settings: Settings) -> Case:
    """File a keyed case's receipt beside it, and end the case (a crash may have come in
    between: the case is picked up here, not keyed again)."""
    if case.receipt is not None:
        receipt = json.dumps(case.receipt.model_dump(mode="json"), indent=2)
        (case_dir(settings, case) / "receipt.json").write_text(receipt)
    return store_for(settings).transition(case, CaseState.done)


def mark_failed(case: Case, settings: Settings, reason: str) -> Case:
    case.reason = reason
    return store_for(settings).transition(case, CaseState.failed, reason=reason)
