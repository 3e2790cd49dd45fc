"""Which template a layout belongs to, from its keywords."""

from __future__ import annotations

from collections.abc import Iterable

from extractors.templates import Template
from rekey.models import Layout


def matches(text: str, template: Template) -> bool:
    folded = text.casefold()
    return all(k.casefold() in folded for k in template.keywords) and not any(
        k.casefold() in folded for k in template.exclude_keywords
    )


def classify(layout: Layout, templates: Iterable[Template]) -> Template | None:
    text = layout.text
    candidates = [t for t in templates if matches(text, t)]
    if not candidates:
        return None
    return max(candidates, key=lambda t: (t.priority, len(t.keywords)))
