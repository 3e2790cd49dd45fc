"""What a person is shown of a case: identifiers masked unless revealed, and line items
(a field whose value is a JSON list of objects) as a table.

Identifiers (the fields a template types ``identifier``) show masked to everyone by
default, in the field values, the finding messages, the reason and the history. Revealing
them is an audited action: a reviewer may reveal a case waiting for review; a finished
case (or any case) only a supervisor or admin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rekey.models import Case, CaseState
from rekey.review.auth import Role
from rekey.review.queue import WAITING, masked_text, masks
from validators.masking import mask

REVEAL_ANY = Role.supervisor  # the role that may see the identifiers of any case


def may_reveal(role: Role | None, state: CaseState) -> bool:
    return role is not None and (role >= REVEAL_ANY or state in WAITING)


@dataclass(frozen=True)
class Shown:
    """How a case's identifiers are shown on one page."""

    identifiers: frozenset[str]  # the identifier fields of the case's template
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (value, mask), longest first
    revealed: bool = False

    def masked(self, name: str | None) -> bool:
        return not self.revealed and name in self.identifiers

    def value(self, name: str | None, value: str | None) -> str:
        """A field's value (or a value once held by it) as this page may show it."""
        if value is None:
            return ""
        return mask(value) if self.masked(name) else self.text(str(value))

    def text(self, text: str | None) -> str:
        """A message with the case's identifier values masked in it."""
        if text is None:
            return ""
        return text if self.revealed else masked_text(str(text), self.pairs)


def shown(case: Case, identifiers: list[str], revealed: bool) -> Shown:
    values = [case.fields[n].value or "" for n in identifiers if n in case.fields]
    return Shown(frozenset(identifiers), masks(values), revealed)


def line_items(value: str | None) -> tuple[list[str], list[dict]] | None:
    """A value holding line items (a JSON list of objects) as (columns, rows); None for
    any other value. Columns in the order they first appear."""
    if not value or not value.lstrip().startswith("["):
        return None
    try:
        rows = json.loads(value)
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return (columns, rows) if columns else None
