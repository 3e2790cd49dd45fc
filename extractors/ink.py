"""Writing where a value belongs that no reading made out.

An optional field that is not found is taken as left blank, and a blank is keyed as a
blank. On a form with a fixed layout, registered to its blank, that is checked: the
field's boxes are looked at on the page with the blank's own print dropped out, and ink
there (characters, not specks or a rule's remains) means something was written that was
not read. Such a field is marked, and the ``confidence`` rule sends the case to a person
instead of keying the blank.
"""

from __future__ import annotations

import json

import cv2
import numpy as np

from extractors.calibration import DOUBTED
from extractors.source import Source
from extractors.templates import RegionLocator, Template
from extractors.zonal import pixel_box
from rekey.models import Box, Field

INK_LEVEL = 128  # grey levels darker than this on the dropped-out page are ink
MIN_GLYPH_PX = 8  # a component this tall (at the reference's ~300 dpi) may be a character
MIN_INK_SHARE = 0.001  # of a field's boxes' area in such components: something is written


def ink_share(filled: np.ndarray, box: Box) -> float:
    """The share of ``box`` on a dropped-out page covered by character-sized ink."""
    x0, y0, x1, y1 = pixel_box(box, filled.shape[1], filled.shape[0])
    crop = filled[y0:y1, x0:x1]
    if crop.size == 0:
        return 0.0
    ink = (crop < INK_LEVEL).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    glyphs = np.nonzero(stats[:, cv2.CC_STAT_HEIGHT] >= MIN_GLYPH_PX)[0]
    glyphs = glyphs[glyphs != 0]
    return float(np.isin(labels, glyphs).sum()) / crop.size if len(glyphs) else 0.0


def fixed_boxes(spec_locators: list, page: int) -> list[Box]:
    """The boxes of a field's fixed (not anchored) region locators on ``page``."""
    return [
        Box(x0=x0, y0=y0, x1=x1, y1=y1)
        for loc in spec_locators
        if isinstance(loc, RegionLocator) and loc.anchor is None and loc.page == page
        for x0, y0, x1, y1 in loc.boxes
    ]


def written_in(source: Source, template: Template, name: str) -> int | None:
    """The page on which field ``name``'s boxes hold unread writing, or None."""
    spec = template.fields[name]
    for number, scan in source.scanned.items():
        fit = scan.registration
        if scan.filled is None or fit is None or not fit.good:
            continue
        boxes = fixed_boxes(spec.locators, number)
        area = sum((b.x1 - b.x0) * (b.y1 - b.y0) for b in boxes)
        if not area:
            continue
        inked = sum(ink_share(scan.filled, b) * (b.x1 - b.x0) * (b.y1 - b.y0) for b in boxes)
        if inked / area >= MIN_INK_SHARE:
            return number
    return None


def list_boxes(spec_locators: list) -> RegionLocator | None:
    """A field's fixed region locator that reads its boxes as a list (one item a box)."""
    return next(
        (
            loc
            for loc in spec_locators
            if isinstance(loc, RegionLocator) and loc.as_list and loc.anchor is None
        ),
        None,
    )


def items_unread(source: Source, template: Template, name: str, field: Field) -> bool:
    """Whether more of a list field's boxes hold writing than it has items: a box filled
    in that no reading made out (a list's empty boxes are the rule, so they say nothing)."""
    loc = list_boxes(template.fields[name].locators)
    scan = source.scanned.get(loc.page) if loc and field.page == loc.page else None
    if loc is None or scan is None or scan.filled is None:
        return False
    if scan.registration is None or not scan.registration.good:
        return False
    try:
        items = len(json.loads(field.value or "[]"))
    except ValueError:
        return False
    boxes = (Box(x0=x0, y0=y0, x1=x1, y1=y1) for x0, y0, x1, y1 in loc.boxes)
    return sum(ink_share(scan.filled, b) >= MIN_INK_SHARE for b in boxes) > items


def unread_ink(source: Source, template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with each optional one not found, whose boxes hold writing, marked so; and
    each list with a filled box it did not read, not trusted."""
    marked = dict(fields)
    for name, field in fields.items():
        if field.value is not None and items_unread(source, template, name, field):
            why = "a box with writing in it was not read"
            how = f"{field.how}; {why}"
            update = {"confidence": min(field.confidence, DOUBTED), "how": how, "doubt": why}
            marked[name] = field.model_copy(update=update)
        if field.value is not None or field.required or field.several_ticked:
            continue
        page = written_in(source, template, name)
        if page is not None:
            how = f"{field.how}; writing in its boxes on page {page} was not read"
            marked[name] = field.model_copy(update={"unread_ink": page, "how": how})
    return marked
