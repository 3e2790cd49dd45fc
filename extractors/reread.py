"""Scanned pages read again, for the fields a first reading left unsettled.

- A required field not found on a page read whole: the page is read again as one block of
  text. Tesseract's page layout analysis can take a stamp or a smudge for a picture and drop
  the lines beneath it whole.
- A field whose reading makes no sense (not found, a date that is no date, a currency none
  of the listed ones, check digits that fail): its page is read again in other looks,
  enlarged, reduced, softened and laid out as one block. Tesseract's recognizer is sensitive
  to the size and sharpness of the glyphs, and a faxed slip in one look is often read right
  in another. A value that makes sense and that two looks agree on is taken, never trusted
  on its own: a person checks it. Only a value with strong check digits (an IBAN's mod 97)
  that every look reads alike is trusted as they read it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np

from extractors.extract import (
    DISAGREEMENT_CONFIDENCE,
    extract_fields,
    makes_sense,
    strong_check,
)
from extractors.ocr import ocr_page
from extractors.source import Source
from extractors.templates import Template
from extractors.zonal import read_zones
from rekey.models import Box, Field, Layout, Page

BLOCK_PSM = 6  # one uniform block: keeps lines the automatic layout drops under a stamp
OTHER_ZONE_PSM = {6: 4, 4: 6}  # stacked zones laid out the other way


@dataclass(frozen=True)
class Look:
    name: str
    scale: float = 1.0
    blur: float = 0.0  # sigma of a Gaussian blur, in pixels
    block: bool = False  # laid out as one block (zones: the template's other layout)

    def image(self, gray: np.ndarray) -> np.ndarray:
        if self.blur:
            gray = cv2.GaussianBlur(gray, (0, 0), self.blur)
        if self.scale != 1:
            smaller = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_CUBIC
            gray = cv2.resize(gray, None, fx=self.scale, fy=self.scale, interpolation=smaller)
        return gray


AS_ONE_BLOCK = Look("as one block", block=True)
LOOKS = (
    Look("enlarged", scale=1.5),
    Look("reduced", scale=0.75),
    Look("softened", blur=1.0),
    AS_ONE_BLOCK,
)
AGREEING = 2  # looks that must read the same value


def read_look(source: Source, template: Template, number: int, look: Look) -> Page:
    """A scanned page read in ``look``: the template's zones, or the whole page."""
    zones = template.zones(number)
    page_image = source.zone_image(number) if zones else source.image(number)
    height, width = page_image.shape
    gray = look.image(page_image)
    if zones:
        boxes = [Box(x0=x0, y0=y0, x1=x1, y1=y1) for x0, y0, x1, y1 in zones]
        psm = OTHER_ZONE_PSM[template.zone_psm] if look.block else template.zone_psm
        page = read_zones(number, gray, boxes, template.language, psm)
    else:
        page = (
            ocr_page(number, gray, template.language, psm=BLOCK_PSM)
            if look.block
            else ocr_page(number, gray, template.language)
        )
    return page.model_copy(update={"width": width, "height": height})


def fields_on(
    source: Source, template: Template, layout: Layout, read: dict[int, Page], only: list[str]
) -> dict[str, Field]:
    """The fields ``only`` located on ``layout`` with the pages ``read`` again put in."""
    pages = [read.get(p.number, p) for p in layout.pages]
    again = Layout(pages=pages, acroform=layout.acroform)
    return extract_fields(again, template, source.image, only=only)


def agreed(readings: list[Field], least: int = AGREEING) -> Field | None:
    """The reading of the value most looks read alike, when at least ``least`` did and no
    other value as many (a tie is for a person to settle)."""
    counts = Counter(f.value.casefold() for f in readings if f.value).most_common(2)
    if not counts or counts[0][1] < least or (len(counts) > 1 and counts[1][1] == counts[0][1]):
        return None
    value = counts[0][0]
    return max(
        (f for f in readings if f.value and f.value.casefold() == value), key=lambda f: f.confidence
    )


def on_scan(source: Source, field: Field) -> bool:
    """Whether ``field`` was read on a scanned page, or not found (perhaps on one)."""
    return field.page is None or field.page in source.scanned


def pages_holding(source: Source, template: Template, found: list[Field]) -> list[int]:
    """The scanned pages to read again for the fields ``found``: those they were read on
    (every scanned page when one was not found), less pages whose zones hold nothing."""
    on = {f.page for f in found}
    return [
        n for n in sorted(source.scanned) if (None in on or n in on) and template.zones(n) != []
    ]


def reread_unsettled(
    source: Source, template: Template, layout: Layout, fields: dict[str, Field]
) -> dict[str, Field]:
    """``fields`` with those whose reading makes no sense read again in other ``LOOKS``."""
    unsettled = [
        name
        for name, field in fields.items()
        if on_scan(source, field) and not makes_sense(template.fields[name], field.value)
    ]
    # a blank the form allows is no reason to read again, but is looked for when reading
    slips = [n for n in unsettled if fields[n].value is not None or fields[n].required]
    numbers = pages_holding(source, template, [fields[n] for n in slips])
    if not slips or not numbers:
        return fields
    readings: dict[str, list[Field]] = {name: [] for name in unsettled}
    for look in LOOKS:
        looked = {n: read_look(source, template, n, look) for n in numbers}
        for name, field in fields_on(source, template, layout, looked, unsettled).items():
            if makes_sense(template.fields[name], field.value):
                how = f"{field.how} ({look.name})"
                readings[name].append(field.model_copy(update={"how": how}))
    settled = dict(fields)
    for name, found in readings.items():
        taken = agreed(found)
        if taken is None:
            continue
        alike = sum(f.value.casefold() == taken.value.casefold() for f in found)
        sure = alike == len(LOOKS) and strong_check(template.fields[name], taken.value)
        confidence = taken.confidence if sure else min(taken.confidence, DISAGREEMENT_CONFIDENCE)
        settled[name] = taken.model_copy(
            update={
                "confidence": confidence,
                "how": f"{taken.how}; read so in {alike} of {len(LOOKS)} looks"
                f" (first read {fields[name].value!r})",
                "doubt": taken.doubt if sure else f"read so in {alike} of {len(LOOKS)} looks",
            }
        )
    return settled


def reread_missing(
    source: Source, template: Template, layout: Layout, fields: dict[str, Field]
) -> dict[str, Field]:
    """When a required field is not found on full-page-read scans, every missing field is
    looked for again in a second reading of those pages as one block of text."""
    missing = [n for n, f in fields.items() if f.value is None]
    if not any(fields[n].required for n in missing):
        return fields
    read_whole = [
        p.number
        for p in layout.pages
        if p.number in source.scanned and template.zones(p.number) is None
    ]
    if not read_whole:
        return fields
    again = {n: read_look(source, template, n, AS_ONE_BLOCK) for n in read_whole}
    second = fields_on(source, template, layout, again, missing)
    found = {
        n: second[n].model_copy(update={"how": f"{second[n].how} (second reading)"})
        for n in missing
        if second[n].value is not None
    }
    return fields | found
