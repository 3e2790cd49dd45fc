"""Duplicates: the same claim, or the same applicant, already on file.

Rules ask a :class:`CaseHistory` (``RuleContext.history``) for earlier cases whose fields
equal some keys. Keys are compared after :func:`normalise_key`, so the store-backed history
must normalise the same way (or call it). No history configured: the rules report nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import Field as PydField

from rekey.models import Case, Finding
from validators.masking import mask
from validators.registry import Params, RuleContext, rule
from validators.values import as_amount, text


@dataclass(frozen=True)
class PriorCase:
    """Enough of an earlier case for a reviewer to find it."""

    case_id: str
    doc_type: str | None
    created_at: datetime
    state: str
    document: str  # the original file name
    reference: str  # the back-office external reference


@runtime_checkable
class CaseHistory(Protocol):
    """Earlier cases by field keys.

    ``find(keys, doc_types=..., exclude=case_id)`` returns the cases (not ``exclude``) of one
    of ``doc_types`` (any when empty) whose normalised field values equal every key, oldest
    first.
    """

    def find(
        self,
        keys: Mapping[str, str],
        *,
        doc_types: Collection[str] = (),
        exclude: str | None = None,
    ) -> list[PriorCase]: ...


def normalise_key(value: str) -> str:
    """Spaces and case dropped; amounts to two decimals (``"1234.5"`` equals ``"1234.50"``)."""
    compact = "".join(value.split()).upper()
    amount = as_amount(compact) if "." in compact else None
    return f"{amount.quantize(Decimal('0.01'))}" if amount is not None else compact


def prior(case: Case) -> PriorCase:
    return PriorCase(
        case_id=case.id,
        doc_type=case.doc_type,
        created_at=case.created_at,
        state=str(case.state),
        document=case.document.original_name,
        reference=case.external_reference,
    )


class InMemoryCaseHistory:
    """Cases held in a list, for tests and one-off runs."""

    def __init__(self, cases: Iterable[Case] = ()):
        self.cases: list[Case] = list(cases)

    def add(self, case: Case) -> None:
        self.cases.append(case)

    def find(
        self,
        keys: Mapping[str, str],
        *,
        doc_types: Collection[str] = (),
        exclude: str | None = None,
    ) -> list[PriorCase]:
        wanted = {name: normalise_key(value) for name, value in keys.items()}
        hits = [
            case
            for case in self.cases
            if case.id != exclude
            and (not doc_types or case.doc_type in doc_types)
            and all(
                (value := text(case, name)) is not None and normalise_key(value) == key
                for name, key in wanted.items()
            )
        ]
        return [prior(case) for case in sorted(hits, key=lambda c: c.created_at)]


class DuplicateParams(Params):
    keys: list[str]
    doc_types: list[str] = PydField(default_factory=list)  # default: the case's own type
    masked: list[str] = PydField(default_factory=list)  # keys that are identifiers


def describe(earlier: PriorCase) -> str:
    return (
        f"case {earlier.case_id} ({earlier.document}, {earlier.state}, "
        f"received {earlier.created_at:%d %b %Y}, reference {earlier.reference})"
    )


def duplicates(case: Case, params: DuplicateParams, ctx: RuleContext, what: str) -> list[Finding]:
    keys = {name: text(case, name) for name in params.keys}
    if ctx.history is None or any(value is None for value in keys.values()):
        return []
    doc_types = params.doc_types or ([case.doc_type] if case.doc_type else [])
    earlier = ctx.history.find(keys, doc_types=doc_types, exclude=case.id)
    if not earlier:
        return []
    shown = ", ".join(
        f"{name.replace('_', ' ')} {mask(value) if name in params.masked else value}"
        for name, value in keys.items()
    )
    return [
        ctx.finding(
            list(params.keys),
            f"{what} ({shown}) is already on file as {describe(earlier[0])}"
            + (f" and {len(earlier) - 1} more." if len(earlier) > 1 else "."),
        )
    ]


@rule("duplicate_claim", DuplicateParams)
def duplicate_claim(case: Case, params: DuplicateParams, ctx: RuleContext) -> list[Finding]:
    """The same claim (e.g. policy + date of loss + amount) is not already on file."""
    return duplicates(case, params, ctx, "The same claim")


@rule("duplicate_applicant", DuplicateParams)
def duplicate_applicant(case: Case, params: DuplicateParams, ctx: RuleContext) -> list[Finding]:
    """The same applicant (e.g. ID number) has not already applied."""
    return duplicates(case, params, ctx, "The same applicant")
