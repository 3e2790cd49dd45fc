"""Reading a field's string value as a date, an amount or a tick: pure, tolerant, never raising.

Field values are strings (ISO dates, amounts like ``"1234.56"``, ticks like ``"true"``) or
``None`` when the extractor found nothing. Each reader returns ``None`` for "cannot tell".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from rekey.models import Case
from rekey.text import without_marks

TRUE = frozenset({"true", "yes", "y", "x", "1", "on", "checked", "ticked", "signed", "✓", "✔"})
FALSE = frozenset({"false", "no", "n", "0", "off", "unchecked", ""})


def text(case: Case, name: str) -> str | None:
    """The field's value stripped, or ``None`` when it is absent or blank."""
    field = case.fields.get(name)
    if field is None or field.value is None:
        return None
    value = field.value.strip()
    return value or None


def as_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def as_amount(value: str | None) -> Decimal | None:
    try:
        amount = Decimal(value) if value else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def as_bool(value: str | None) -> bool | None:
    """``True``/``False`` for the usual ways of writing a tick; ``None`` when unclear."""
    if value is None:
        return None
    word = value.strip().casefold()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    return None


def fold_name(name: str) -> str:
    """A name for comparing: accents dropped, case folded, punctuation to spaces."""
    folded = without_marks(name).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def age_on(born: date, day: date) -> int:
    """Completed years from ``born`` to ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def label(name: str) -> str:
    """A field name as a reviewer reads it: ``date_of_birth`` → "date of birth"."""
    return name.replace(".", " ").replace("_", " ")
