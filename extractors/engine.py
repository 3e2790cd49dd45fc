"""A source document → its template, its layout and its fields.

Classification reads what is cheapest first: the text layer, then the header band of a
scanned first page, then the whole first page. Once a template has matched, scanned pages
are read in the template's language, and only the zones its fields need when the template
declares them (:mod:`extractors.zonal`); full-page OCR remains the fallback.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from extractors import preprocess, register
from extractors.calibration import calibrated
from extractors.classify import classify
from extractors.crosscheck import crosscheck_fields
from extractors.extract import extract_fields, with_fallbacks
from extractors.ink import unread_ink
from extractors.mrzprint import held_to_print
from extractors.ocr import DEFAULT_LANG, ocr_page, tesseract, to_words
from extractors.reread import reread_missing, reread_unsettled
from extractors.source import Source
from extractors.templates import Template
from extractors.verify import verify_fields
from extractors.zonal import read_zones
from rekey.models import Box, Field, Layout, Page

HEADER_SHARE = 0.14  # the top of a page, where titles and form numbers are printed
HEADER_MARGIN = 0.012  # of the page's height: read above where the print was found to start


@dataclass(frozen=True)
class Extraction:
    template: Template | None
    layout: Layout
    fields: dict[str, Field]


UNREGISTERED_CONFIDENCE = 0.5  # a field on a page that did not register: never trusted
RETRY_TURNS = (180, 90, 180)  # relative: upside down, then a quarter turn either way


def header_page(source: Source, number: int = 1, lang: str = DEFAULT_LANG) -> Page:
    """The page's header band: :data:`HEADER_SHARE` of its height from just above where
    its print starts (a form printed smaller on larger paper, or shifted, starts lower; the
    first row found with ink is often inside a title's letters, whose tops a band cut
    there loses)."""
    gray = source.image(number)
    height, width = gray.shape
    top = max(0, preprocess.print_top(gray) - int(height * HEADER_MARGIN))
    band = gray[top : top + int(height * HEADER_SHARE), :]
    return Page(
        number=number,
        width=width,
        height=height,
        words=to_words(tesseract(band, lang, psm=11), width, height, dy=top),
    )


def other_languages(templates: list[Template]) -> list[str]:
    """The OCR languages the templates read in besides the default one."""
    return sorted({t.language for t in templates} - {DEFAULT_LANG})


def classify_source(
    source: Source, templates: Iterable[Template]
) -> tuple[Template | None, dict[int, Page]]:
    """The template, and any pages read in full on the way (reused, never read twice)."""
    templates = list(templates)
    if source.text:
        found = classify(Layout(pages=list(source.text.values())), templates)
        if found:
            return found, {}
    first = min(source.scanned) if source.scanned else 1
    found = classify(Layout(pages=[header_page(source, first)]), templates)
    if found or first not in source.scanned:
        return found, {}
    for lang in other_languages(templates):  # a title in Chinese is no keyword read as Latin
        found = classify(Layout(pages=[header_page(source, first, lang)]), templates)
        if found:
            return found, {}
    # not upright after all? Upside down, the header reads at the bottom; a quarter turn
    # the orientation check missed (faint or CJK text) puts it at a side
    turned = 0
    for turn in RETRY_TURNS:
        source.turn(first, turn)
        turned += turn
        found = classify(Layout(pages=[header_page(source, first)]), templates)
        if found:
            return found, {}
    source.turn(first, -turned)
    page = ocr_page(first, source.image(first))
    return classify(Layout(pages=[page]), templates), {first: page}


def read_page(
    source: Source, number: int, template: Template | None, done: dict[int, Page], zonal: bool
) -> Page:
    if number in source.text:
        return source.text[number]
    lang = template.language if template else DEFAULT_LANG
    zones = template.zones(number) if template and zonal else None
    if zones == [] and number not in done:  # no field on this page: nothing to read
        height, width = source.image(number).shape
        return Page(number=number, width=width, height=height, words=[])
    if zones:
        boxes = [Box(x0=x0, y0=y0, x1=x1, y1=y1) for x0, y0, x1, y1 in zones]
        return read_zones(number, source.zone_image(number), boxes, lang, template.zone_psm)
    if number in done and lang == DEFAULT_LANG:
        return done[number]
    return ocr_page(number, source.image(number), lang)


def scan_facts(source: Source, page: Page) -> Page:
    """A scanned page with its turn, resampling and registration recorded (its boxes are
    page-relative: on the file's own pixels too, or on the blank's when it registered)."""
    scan = source.scanned.get(page.number)
    if scan is None:
        return page
    facts = {"rotation": scan.rotation, "scale": scan.scale, "registration": scan.registration}
    return page.model_copy(update=facts)


def register_pages(source: Source, template: Template) -> None:
    """Bring each scanned page with zones onto the template's blank (the same page of it)."""
    if template.reference is None:
        return
    for number in sorted(source.scanned):
        if not template.zones(number):
            continue
        started = time.perf_counter()
        reference = register.load_reference(template.reference, number)
        h, fit = register.fit_page(source.image(number), reference)
        facts = {"reference": f"{template.reference.name} page {number}"}
        if h is None or not fit.good:
            facts["seconds"] = round(time.perf_counter() - started, 4)
            source.registered(number, fit.model_copy(update=facts), source.image(number), None)
            continue
        gray = register.warp_to(source.image(number), h, reference)
        filled = register.drop_out(gray, reference)
        facts["seconds"] = round(time.perf_counter() - started, 4)
        source.registered(number, fit.model_copy(update=facts), gray, filled)


def unregistered_doubt(fields: dict[str, Field], layout: Layout) -> dict[str, Field]:
    """No field read on a page that did not register to its blank is trusted: its zones
    may lie a line off, on a caption or a neighbour's value."""
    off = {
        p.number: p.registration
        for p in layout.pages
        if p.registration is not None and not p.registration.good
    }
    doubted = {}
    for name, field in fields.items():
        fit = off.get(field.page or 0)
        if fit is None or field.value is None:
            doubted[name] = field
            continue
        why = f"; page {field.page} not registered to its blank ({fit.inliers} inliers)"
        update = {
            "confidence": min(field.confidence, UNREGISTERED_CONFIDENCE),
            "how": field.how + why,
            "doubt": why.removeprefix("; "),
        }
        doubted[name] = field.model_copy(update=update)
    return doubted


def extract_source(
    source: Source,
    templates: Iterable[Template],
    forced: Template | None = None,
    zonal: bool = True,
) -> Extraction:
    """Classify (unless ``forced``), read every page, and locate the template's fields.

    ``zonal`` reads only a fixed-layout template's boxes on scanned pages; off, every
    scanned page is read whole (the slower path, kept as the reference).
    """
    template, done = (forced, {}) if forced else classify_source(source, templates)
    if template is not None and zonal:
        register_pages(source, template)
    read = [read_page(source, n, template, done, zonal) for n in source.numbers]
    pages = [scan_facts(source, page) for page in read]
    layout = Layout(pages=pages, acroform=source.acroform)
    fields = extract_fields(layout, template, source.image) if template else {}
    if template is not None and source.scanned:
        fields = reread_missing(source, template, layout, fields)
        fields = reread_unsettled(source, template, layout, fields)
        fields = verify_fields(source, template, fields)
        fields = crosscheck_fields(source, template, layout, fields)
    if template is not None:
        fields = with_fallbacks(layout, template, fields, source.image)
        fields = held_to_print(template, fields)
        if source.scanned:
            fields = unread_ink(source, template, fields)
        fields = calibrated(unregistered_doubt(fields, layout))
    return Extraction(template, layout, fields)


def extract_row(
    row: dict[str, str], templates: Iterable[Template]
) -> tuple[Template | None, dict[str, Field]]:
    """One row of a batch: classified by its column names, read by ``column`` locators."""
    layout = Layout(cells=row)
    template = classify(layout, list(templates))
    return template, (calibrated(extract_fields(layout, template)) if template else {})
