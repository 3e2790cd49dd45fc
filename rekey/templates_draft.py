"""Writing a drafted template (:mod:`extractors.draft`) as YAML beside the others."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from extractors.draft import draft_template

HEADER = """\
# Drafted by `rekey template draft` from {blank}.
# Each field reads its form field on a fillable copy and its zone (the field's rectangle on
# the blank) on a flattened or scanned one; scans are registered to the blank first.
# To do: rename the fields, give them types (date, money, identifier, checkbox…) and
# `required`, name the choices, and check that the keywords tell this form from others.
"""


def write_draft(blank: Path, doc_type: str, target: Path) -> int:
    """Draft the template for ``blank`` into ``target``; returns how many fields it has."""
    target.parent.mkdir(parents=True, exist_ok=True)
    reference = Path(os.path.relpath(blank.resolve(), target.parent.resolve())).as_posix()
    drafted = draft_template(blank, doc_type, reference)
    text = yaml.safe_dump(drafted, sort_keys=False, allow_unicode=True, default_flow_style=None)
    target.write_text(HEADER.format(blank=blank.name) + text, encoding="utf-8")
    return len(drafted["fields"])
