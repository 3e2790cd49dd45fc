"""Which template a layout belongs to, from its keywords."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz

from extractors.normalise import CJK_GAP
from extractors.templates import Template
from rekey.models import Layout


def contains(folded: str, keyword: str, score: float) -> bool:
    """``keyword`` appears in ``folded`` text, exactly or within ``score`` (0-100)."""
    keyword = keyword.casefold()
    return keyword in folded or (score < 100 and fuzz.partial_ratio(keyword, folded) >= score)


def matches(text: str, template: Template) -> bool:
    """Every keyword appears (allowing OCR slips), or every one of an alternative set, and
    no exclusion does (exactly). Chinese or Japanese read with spaces between characters
    is read without them."""
    folded = CJK_GAP.sub("", text).casefold()
    other = template.alternative_match or template.keyword_match
    sets = [(template.keywords, template.keyword_match)]
    sets += [(keywords, other) for keywords in template.alternative_keywords]
    found = any(all(contains(folded, k, score) for k in s) for s, score in sets)
    return found and not any(k.casefold() in folded for k in template.exclude_keywords)


def classify(layout: Layout, templates: Iterable[Template]) -> Template | None:
    text = layout.text
    candidates = [t for t in templates if matches(text, t)]
    if not candidates:
        return None
    return max(candidates, key=lambda t: (t.priority, len(t.keywords)))
