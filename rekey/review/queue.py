"""The review queue: which cases wait, how long against the SLA, and what a list may show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from extractors.templates import load_templates
from rekey.models import Case, CaseState, Finding
from rekey.settings import Settings
from rekey.store import Store
from validators.masking import mask

WAITING = (CaseState.review,)


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ListedValue(_View):
    value: str | None = None


class ListedDocument(_View):
    original_name: str


class ListedCase(_View):
    """What the queue shows of a case (read without the rest of it)."""

    id: str
    doc_type: str | None = None
    template: str | None = None
    document: ListedDocument
    fields: dict[str, ListedValue] = {}
    findings: list[Finding] = []
    created_at: datetime


@dataclass(frozen=True)
class Filters:
    doc_type: str | None = None
    rule: str | None = None
    min_age_hours: float | None = None
    page: int = 1


@dataclass(frozen=True)
class Age:
    hours: float
    sla_hours: float

    @property
    def overdue(self) -> bool:
        return self.hours > self.sla_hours

    @property
    def share(self) -> float:
        """How much of the SLA has gone (1.0 = due now)."""
        return self.hours / self.sla_hours if self.sla_hours > 0 else 1.0

    def __str__(self) -> str:
        if self.hours < 1:
            return f"{int(self.hours * 60)} min"
        if self.hours < 48:
            return f"{self.hours:.1f} h"
        return f"{self.hours / 24:.1f} days"


def age_of(case: ListedCase | Case, now: datetime, sla_hours: float) -> Age:
    return Age(max(0.0, (now - case.created_at).total_seconds() / 3600), sla_hours)


@dataclass(frozen=True)
class Row:
    case: ListedCase
    age: Age
    identifiers: list[tuple[str, str]]  # (field, masked value)
    findings: list[tuple[str, str, str]]  # (rule, severity, message with identifiers masked)


def identifier_fields(settings: Settings, template: str | None) -> list[str]:
    """The fields the case's template types as identifiers (masked in lists)."""
    spec = load_templates(settings.templates_dir).get(template or "")
    return [name for name, f in spec.fields.items() if f.type == "identifier"] if spec else []


def masked_identifiers(case: ListedCase, names: list[str]) -> list[tuple[str, str]]:
    fields = case.fields
    return [(n, mask(fields[n].value)) for n in names if n in fields and fields[n].value]


def facets(settings: Settings) -> tuple[list[str], list[str]]:
    """The document types and rules a queue can be filtered by, from the templates and
    rule sets (plus the findings rekey makes itself)."""
    from validators.rulesets import load_rulesets

    rulesets = load_rulesets(settings.rules_dir)
    types = {t.doc_type for t in load_templates(settings.templates_dir).values()}
    rules = {use.rule for rs in rulesets.values() for use in rs.rules}
    return sorted(types | set(rulesets)), sorted(rules | SELF_FINDINGS)


SELF_FINDINGS = {"classification", "confidence", "backoffice"}


def masks(values: list[str]) -> list[tuple[str, str]]:
    """Each identifier value worth masking with its mask, longest first."""
    unique = sorted({v for v in values if len(v) > 4}, key=len, reverse=True)
    return [(v, mask(v)) for v in unique]


def masked_text(text: str, pairs: list[tuple[str, str]]) -> str:
    """``text`` with each identifier value in it replaced by its mask."""
    for value, masked in pairs:
        if value in text:
            text = text.replace(value, masked)
    return text


def row_of(case: ListedCase, settings: Settings, now: datetime) -> Row:
    names = identifier_fields(settings, case.template)
    pairs = masks([case.fields[n].value or "" for n in names if n in case.fields])
    return Row(
        case,
        age_of(case, now, settings.review_sla_hours),
        masked_identifiers(case, names),
        [(f.rule, f.severity, masked_text(f.message, pairs)) for f in case.findings],
    )


def queue_page(
    store: Store, settings: Settings, filters: Filters, now: datetime
) -> tuple[int, list[Row]]:
    """The cases waiting for review that pass ``filters``, oldest first, one page of them."""
    size = settings.review_page_size
    before = (
        now - timedelta(hours=filters.min_age_hours) if filters.min_age_hours is not None else None
    )
    total, cases = store.page(
        WAITING,
        doc_type=filters.doc_type or None,
        rule=filters.rule or None,
        created_before=before,
        limit=size,
        offset=(max(filters.page, 1) - 1) * size,
        model=ListedCase,
    )
    return total, [row_of(case, settings, now) for case in cases]
