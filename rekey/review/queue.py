"""The review queue: which cases wait, how long against the SLA, and what a list may show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from extractors.templates import load_templates
from rekey.models import Case, CaseState, Field
from rekey.settings import Settings
from rekey.store import Store
from validators.masking import mask

WAITING = (CaseState.review,)


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


def age_of(case: Case, now: datetime, sla_hours: float) -> Age:
    return Age(max(0.0, (now - case.created_at).total_seconds() / 3600), sla_hours)


@dataclass(frozen=True)
class Row:
    case: Case
    age: Age
    identifiers: list[tuple[str, str]]  # (field, masked value)
    findings: list[tuple[str, str, str]]  # (rule, severity, message with identifiers masked)


def identifier_fields(settings: Settings, template: str | None) -> list[str]:
    """The fields the case's template types as identifiers (masked in lists)."""
    spec = load_templates(settings.templates_dir).get(template or "")
    return [name for name, f in spec.fields.items() if f.type == "identifier"] if spec else []


def masked_identifiers(case: Case, names: list[str]) -> list[tuple[str, str]]:
    fields: dict[str, Field] = case.fields
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


def masked_text(text: str, values: list[str]) -> str:
    """``text`` with each of the identifier ``values`` in it masked, longest first."""
    for value in sorted({v for v in values if len(v) > 4}, key=len, reverse=True):
        text = text.replace(value, mask(value))
    return text


def row_of(case: Case, settings: Settings, now: datetime) -> Row:
    names = identifier_fields(settings, case.template)
    values = [case.fields[n].value or "" for n in names if n in case.fields]
    return Row(
        case,
        age_of(case, now, settings.review_sla_hours),
        masked_identifiers(case, names),
        [(f.rule, f.severity, masked_text(f.message, values)) for f in case.findings],
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
    )
    return total, [row_of(case, settings, now) for case in cases]
