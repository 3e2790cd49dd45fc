"""Layout + template → fields, each with value, confidence, page, box and how it was found."""

from __future__ import annotations

from extractors.locators import LOCATORS, Hit
from extractors.normalise import NormaliseError, normalise
from extractors.templates import FieldSpec, Template
from rekey.models import Field, Layout

UNREADABLE_PENALTY = 0.3  # a value that does not read as its type is kept, but not trusted


def hit_confidence(hit: Hit) -> float:
    words = [w.confidence for w in hit.words] or [1.0]
    return round(min(words) * hit.match, 4)


def first_hit(layout: Layout, spec: FieldSpec) -> Hit | None:
    for locator in spec.locators:
        hit = LOCATORS[locator.kind](layout, locator)
        if hit is not None and hit.text.strip():
            return hit
    return None


def extract_field(layout: Layout, name: str, spec: FieldSpec) -> Field:
    base = Field(name=name, required=spec.required, threshold=spec.threshold)
    hit = first_hit(layout, spec)
    if hit is None:
        return base.model_copy(update={"how": "not found"})
    confidence, how = hit_confidence(hit), hit.how
    try:
        value = normalise(spec.type, hit.text, spec.formats, spec.decimal)
    except NormaliseError as exc:
        value, confidence, how = hit.text, confidence * UNREADABLE_PENALTY, f"{how}; {exc}"
    return base.model_copy(
        update={
            "value": value,
            "confidence": confidence,
            "page": hit.page,
            "box": hit.box,
            "how": how,
        }
    )


def extract_fields(layout: Layout, template: Template) -> dict[str, Field]:
    return {name: extract_field(layout, name, spec) for name, spec in template.fields.items()}
