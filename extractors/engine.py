"""A source document → its template, its layout and its fields.

Classification reads what is cheapest first: the text layer, then the header band of a
scanned first page, then the whole first page. Once a template has matched, scanned pages
are read in the template's language, and only the zones its fields need when the template
declares them (:mod:`extractors.zonal`); full-page OCR remains the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from extractors.classify import classify
from extractors.extract import extract_fields
from extractors.ocr import DEFAULT_LANG, ocr_page, tesseract, to_words
from extractors.source import Source
from extractors.templates import Template
from rekey.models import Field, Layout, Page

HEADER_SHARE = 0.14  # the top of a page, where titles and form numbers are printed


@dataclass(frozen=True)
class Extraction:
    template: Template | None
    layout: Layout
    fields: dict[str, Field]


def header_page(source: Source, number: int = 1) -> Page:
    gray = source.image(number)
    height, width = gray.shape
    band = gray[: int(height * HEADER_SHARE), :]
    return Page(
        number=number,
        width=width,
        height=height,
        words=to_words(tesseract(band, DEFAULT_LANG, psm=11), width, height),
    )


def classify_source(
    source: Source, templates: Iterable[Template]
) -> tuple[Template | None, dict[int, Page]]:
    """The template, and any pages read in full on the way (reused, never read twice)."""
    templates = list(templates)
    if source.text:
        found = classify(Layout(pages=list(source.text.values())), templates)
        if found or not source.scanned:
            return found, {}
    first = min(source.scanned)
    found = classify(Layout(pages=[header_page(source, first)]), templates)
    if found:
        return found, {}
    page = ocr_page(first, source.image(first))
    return classify(Layout(pages=[page]), templates), {first: page}


def read_pages(source: Source, template: Template | None, done: dict[int, Page]) -> Layout:
    lang = template.language if template else DEFAULT_LANG
    pages = []
    for number in source.numbers:
        if number in source.text:
            pages.append(source.text[number])
        elif number in done and lang == DEFAULT_LANG:
            pages.append(done[number])
        else:
            pages.append(ocr_page(number, source.image(number), lang))
    return Layout(pages=pages, acroform=source.acroform)


def extract_source(
    source: Source, templates: Iterable[Template], forced: Template | None = None
) -> Extraction:
    template, done = (forced, {}) if forced else classify_source(source, templates)
    layout = read_pages(source, template, done)
    fields = extract_fields(layout, template, source.image) if template else {}
    return Extraction(template, layout, fields)
