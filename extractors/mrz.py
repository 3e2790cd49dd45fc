"""The machine-readable zone of a passport data page (ICAO 9303 TD3: two lines of 44).

The MRZ is found among the OCR'd lines as the last two lines made almost only of
``A-Z 0-9 <``; its check digits say whether it was read right, and set the confidence.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterable, Iterator
from datetime import date
from functools import partial
from typing import NamedTuple

import cv2
import numpy as np

from extractors.locators import (
    LETTER_LOOKALIKES,
    Doc,
    Hit,
    by_ocr,
    locate_region,
    pages_of,
    union,
)
from extractors.normalise import DIGIT_LOOKALIKES
from extractors.ocr import tesseract, to_words
from extractors.tables import lines_of
from extractors.templates import MrzLocator, RegionLocator, ZoneBox
from extractors.zonal import pixel_box
from rekey.models import Box, Page
from validators.mrz import check_digit

LENGTH = 44
CONFUSIONS = str.maketrans({"«": "<", "‹": "<", "(": "<", "{": "<", "[": "<", "|": "<"})


# OCR slips between look-alike letters and digits, undone where ICAO 9303 fixes the class
DIGITS = (*range(9, 10), *range(13, 20), *range(21, 28), 43)  # dates and check digits
LETTERS = range(10, 13)  # nationality
# what OCR may have read each of these for (OCR-B's 9 closes into an O at low resolution)
LOOKALIKES = {"0": "O", "O": "09", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8"}
MAX_TRIES = 64
FILLER_RUN = 8  # this many "<" in the personal number: it is empty, "<" misread as C or K


def _by_class(line: str, positions: Iterable[int], table: dict[int, int]) -> str:
    chars = list(line)
    for i in positions:
        if i < len(chars):
            chars[i] = chars[i].translate(table)
    return "".join(chars)


def _lookalike_lines(line2: str) -> Iterator[str]:
    """Line 2 as read, then with the document number's look-alike characters swapped, each
    way (up to :data:`MAX_TRIES`)."""
    number = line2[0:9]
    choices = [ch + LOOKALIKES.get(ch, "") for ch in number]
    for chars in itertools.islice(itertools.product(*choices), MAX_TRIES):
        yield "".join(chars) + line2[9:]


def _number_by_check(line2: str) -> str:
    """Line 2 with the document number as read, or with the look-alike swaps (``0``/``O``,
    ``1``/``I``…: the number may hold letters and digits) that make every check digit
    agree; as read when none does (a wrong check digit is for a person to see)."""
    candidates = []
    for candidate in _lookalike_lines(line2):
        if checks_pass(candidate):
            return candidate
        candidates.append(candidate)
    if line2[43] == "<":  # the composite check digit was lost: the number's own decides,
        fits = [c for c in candidates if checks(c[0:9], c[9])]  # when only one way fits
        if len(fits) == 1:
            return fits[0]
    return line2


def checks(body: str, digit: str) -> bool:
    try:
        return check_digit(body) == digit
    except ValueError:
        return False


def repair(line1: str, line2: str) -> tuple[str, str]:
    """Both lines with letters where only letters may stand (line 1 after the document
    type, the nationality) and digits where only digits may (dates, check digits), and the
    document number settled by its check digit."""
    line1 = _by_class(line1, range(2, LENGTH), LETTER_LOOKALIKES)  # letters and filler only
    line2 = _by_class(_by_class(line2, DIGITS, DIGIT_LOOKALIKES), LETTERS, LETTER_LOOKALIKES)
    if line2[28:42].count("<") >= FILLER_RUN:  # no personal number, nor its check digit
        line2 = line2[:28] + "<" * 15 + line2[43:]
    return line1, _number_by_check(line2)


MAX_SHIFT = 3  # stray marks OCR may read before a line


def fitted(text: str, shift: int = 0) -> str:
    return text[shift : shift + LENGTH].ljust(LENGTH, "<")


FIELD_CHECKS = ((slice(0, 9), 9), (slice(13, 19), 19), (slice(21, 27), 27))


def implied_checks(line2: str) -> str:
    """``line2`` with a field's check digit that OCR read as filler put back from the field
    (the composite check digit, which covers them all, still has to agree)."""
    out = list(line2)
    for field, at in FIELD_CHECKS:
        if out[at] == "<" and "<" not in line2[field]:
            out[at] = check_digit(line2[field])
    return "".join(out)


def aligned(line1: str, raw2: str) -> tuple[str, str]:
    """Line 1 and line 2 repaired, line 2 read from where its check digits agree (a stray
    mark read before it would shift every field); from its start when nowhere. Line 1
    ends in filler, so it is cut or filled to its length."""
    one, two, _ = aligned_read(line1, raw2)
    return one, two


def aligned_read(line1: str, raw2: str) -> tuple[str, str, bool]:
    """:func:`aligned`, and whether line 2's composite check digit was read (not worked
    out from the rest, when OCR lost it)."""
    first = None
    for shift in range(min(MAX_SHIFT, max(0, len(raw2) - LENGTH + 3)) + 1):
        one, two = repair(fitted(line1), fitted(raw2, shift))
        two = implied_checks(two)
        read = two[-1] != "<"
        if not read:  # the final check digit lost in the OCR: the rest implies it
            two = two[:-1] + check_digit(two[0:10] + two[13:20] + two[21:43])
        first = first or (one, two, read)
        if checks_pass(two):
            return one, two, read
    assert first is not None
    return first


def mrz_text(words: list) -> str:
    text = "".join(w.text for w in words).upper().translate(CONFUSIONS)
    return re.sub(r"[^A-Z0-9<]", "", text)


def find_lines(doc: Doc, page: int | None) -> tuple[str, str, list] | None:
    for found in pages_of(doc.layout, page):
        candidates = []
        for line in lines_of(found.words):
            text = mrz_text(line)
            if len(text) >= LENGTH - 6 and text.count("<") >= 2:
                candidates.append((text, line))
        if len(candidates) >= 2:
            (first, words1), (second, words2) = candidates[-2:]
            return first, second, [*words1, *words2]
    return None


def checks_pass(line2: str) -> bool:
    """The number's, the dates' and the composite check digits all agree with the line."""
    fields = [
        (line2[0:9], line2[9]),
        (line2[13:19], line2[19]),
        (line2[21:27], line2[27]),
        (line2[0:10] + line2[13:20] + line2[21:43], line2[43]),
    ]
    return all(checks(body, digit) for body, digit in fields)


def yymmdd(text: str, past: bool) -> str | None:
    try:
        year, month, day = int(text[0:2]), int(text[2:4]), int(text[4:6])
        century = 2000 if (year <= date.today().year % 100 + (10 if not past else 0)) else 1900
        return date(century + year, month, day).isoformat()
    except ValueError:
        return None


def part_of(line1: str, line2: str, part: str) -> str | None:
    names = line1[5:].split("<<", 1)
    values = {
        "line1": line1,
        "line2": line2,
        "issuing_state": line1[2:5].strip("<"),
        "surname": names[0].replace("<", " ").strip(),
        "given_names": names[1].replace("<", " ").strip() if len(names) > 1 else "",
        "document_number": line2[0:9].strip("<"),
        "nationality": line2[10:13].strip("<"),
        "date_of_birth": yymmdd(line2[13:19], past=True),
        "sex": line2[20].replace("<", "X"),
        "date_of_expiry": yymmdd(line2[21:27], past=False),
    }
    return values.get(part)


CHECKED = {"document_number", "date_of_birth", "date_of_expiry", "nationality", "sex", "line2"}


def filler(line1: str) -> str:
    """Line 1 with everything after the names read as filler (``<`` misread as C or K)."""
    end = line1.find("<<<", 5)
    return line1 if end < 0 else line1[:end].ljust(LENGTH, "<")


# the band read alone, only its characters allowed, with its capitals first this tall (near
# Tesseract's best, 30 px: larger, OCR-B's 9 closes into an O and narrow letters run
# together), then as read in the page, then this tall (on dev seeds 7-9, a few bands that
# fail at the first size read right at this one)
BAND_CAP_PX = (28.0, 36.0)
REREAD_PAD = 0.01
PAPER_PERCENTILE = 90  # the band is mostly paper: its light end is the paper's tone
MRZ_CHARS = string.ascii_uppercase + string.digits + "<"


def cap_px(words: list, height: int) -> float:
    """The MRZ's capital height in pixels on a page ``height`` pixels tall: the median
    height of its words (all capitals, digits and ``<``, nothing below the line)."""
    return float(np.median([(w.box.y1 - w.box.y0) * height for w in words]))


def band(gray: np.ndarray, box: Box, scale: float, margin: int) -> np.ndarray:
    """The MRZ's band of the page, padded, resized by ``scale`` and set in ``margin``
    pixels of its own paper (a character at the crop's very edge is read twice or lost)."""
    height, width = gray.shape
    x0, y0, x1, y1 = pixel_box(box.padded(REREAD_PAD), width, height)
    crop = gray[y0:y1, x0:x1]
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=shrink)
    paper = int(np.percentile(crop, PAPER_PERCENTILE))
    return cv2.copyMakeBorder(crop, *[margin] * 4, cv2.BORDER_CONSTANT, value=paper)


def read_band(gray: np.ndarray, words: list, cap: float) -> str | None:
    """The MRZ's line 2 read from its band alone, capitals ``cap`` px tall, only its
    characters allowed, as MRZ readers do: in the page, OCR reads a character twice or runs
    two together. (Line 1, mostly filler, comes back with its runs of ``<`` cut short: it
    is not taken.)"""
    crop = band(gray, union(words), cap / cap_px(words, gray.shape[0]), round(cap))
    height, width = crop.shape
    words = to_words(tesseract(crop, "eng", psm=6, chars=MRZ_CHARS), width, height)
    lines = [mrz_text(line) for line in lines_of(words)]
    return next((line for line in reversed(lines) if len(line) >= LENGTH - 6), None)


class Lines(NamedTuple):
    line1: str
    line2: str
    words: list  # the OCR'd words the lines were read from
    page: int
    composite_read: bool = True  # the final check digit was read, not worked out
    rival: str = ""  # another reading of line 2 whose check digits pass as well


def read_lines(doc: Doc, page: int | None) -> Lines | None:
    """The MRZ's lines, aligned and repaired, the words they were read from and their
    page. On a scan line 2 is taken from the first of these readings whose check digits
    pass and whose composite check digit was read: its band alone at
    :data:`BAND_CAP_PX`'s first size, the page's own reading, the band at the second size.
    Failing that, the first whose check digits pass with the composite worked out; failing
    that, the page's. A line 2 taken from the band while the page's own, which differs,
    passes too is not vouched for (:func:`doubt_of`). Worked out once per document."""
    key = ("mrz", page)
    if key not in doc.found:
        doc.found[key] = _read_lines(doc, page)
    return doc.found[key]  # type: ignore[return-value]


def _read_lines(doc: Doc, page: int | None) -> Lines | None:
    found = find_lines(doc, page)
    if found is None:
        return None
    line1, line2, words = found
    line1, line2, read = aligned_read(filler(fitted(line1)), line2)
    number = next(p.number for p in doc.layout.pages if words[0] in p.words)
    as_read = Lines(line1, line2, words, number, read)
    if doc.image is None or not by_ocr(words):
        return as_read
    readings = _band_readings(doc.image(number), as_read)
    passing = [r for r in readings if checks_pass(r.line2)]
    taken = next((r for r in passing if r.composite_read), passing[0] if passing else as_read)
    if checks_pass(as_read.line2) and as_read.line2 != taken.line2:
        return taken._replace(rival=as_read.line2)  # two slips that keep every sum
    return taken


def _band_readings(gray: np.ndarray, as_read: Lines) -> list[Lines]:
    """:func:`read_lines`'s readings in turn (the band at its first size, the page's own,
    the band at the other sizes), each only when the ones before it fail."""
    first, *rest = BAND_CAP_PX
    looks = [
        partial(_band_reading, gray, as_read, first),
        lambda: as_read,
        *(partial(_band_reading, gray, as_read, cap) for cap in rest),
    ]
    readings = []
    for look in looks:
        reading = look()
        if reading is None:
            continue
        readings.append(reading)
        if checks_pass(reading.line2) and reading.composite_read:
            break
    return readings


def _band_reading(gray: np.ndarray, as_read: Lines, cap: float) -> Lines | None:
    """Line 2 read from the band alone, its capitals ``cap`` pixels tall (None: no band)."""
    text = read_band(gray, as_read.words, cap)
    if text is None:
        return None
    _, line2, read = aligned_read(as_read.line1, text)
    return as_read._replace(line2=line2, composite_read=read)


def locate_mrz(doc: Doc, loc: MrzLocator) -> Hit | None:
    found = read_lines(doc, loc.page)
    if found is None:
        return None
    value = part_of(found.line1, found.line2, loc.part)
    if not value:
        return None
    doubt = doubt_of(found)
    verified = doubt is None
    # parts covered by check digits that pass are trusted whatever the OCR's own doubt
    trusted = verified and loc.part in CHECKED
    return Hit(
        text=value,
        match=1.0 if verified else 0.3,
        how=f"MRZ {loc.part} ({'check digits pass' if verified else doubt})",
        page=found.page,
        box=union(found.words),
        words=() if trusted else tuple(found.words),
        read_by_ocr=by_ocr(found.words),
        vouched_by="mrz" if trusted else "",
    )


def doubt_of(found: Lines) -> str | None:
    """Why the check digits do not vouch for the lines (None: they do). They fail; or the
    composite check digit was not read but worked out from the rest; or the number read
    two ways that both pass (``8``/``B`` and ``5``/``S`` slips can cancel out)."""
    if not checks_pass(found.line2):
        return "check digits FAIL"
    if found.rival:
        return f"check digits pass for two readings of line 2: {found.line2}, {found.rival}"
    if not found.composite_read:
        return "composite check digit not read: worked out from the rest, so it checks nothing"
    passing = number_readings(found.line2)
    if len(passing) > 1:
        return f"check digits pass for {len(passing)} readings of the number: {', '.join(passing)}"
    return None


def number_readings(line2: str) -> list[str]:
    """The document numbers, as read and with look-alike swaps, for which every check
    digit of ``line2`` passes."""
    return [line[0:9] for line in _lookalike_lines(line2) if checks_pass(line)]


def framed_boxes(doc: Doc, page: Page, loc: RegionLocator) -> tuple[list[ZoneBox], float] | None:
    """The region's boxes where they stand on ``page``, measured from its MRZ: the zone's
    width gives the scale (the same across and down), its left edge and top the offset.
    None when the page has no MRZ. Boxes are fractions of a page: on a page printed
    smaller, ``across`` and ``down`` are below 1."""
    found = read_lines(doc, None)
    if found is None or found.page != page.number or loc.frame is None:
        return None
    mrz, frame = union(found.words), loc.frame
    left, top, right, _ = frame.mrz
    across = (mrz.x1 - mrz.x0) / (right - left)  # a frame's width, in the page's
    down = across * frame.aspect * page.width / page.height
    # the words' margin (``pad``) scales with the page: kept in by what it would overrun
    inset_x, inset_y = loc.pad * (1 - across), loc.pad * (1 - down)

    def placed(x: float, y: float, sign: int) -> tuple[float, float]:
        return (
            mrz.x0 + (x - left) * across + sign * inset_x,
            mrz.y0 + (y - top) * down + sign * inset_y,
        )

    boxes = [(*placed(x0, y0, 1), *placed(x1, y1, -1)) for x0, y0, x1, y1 in loc.boxes]
    on_page = [
        (max(x0, 0.0), max(y0, 0.0), min(x1, 1.0), min(y1, 1.0))
        for x0, y0, x1, y1 in boxes
        if x0 < 1 and y0 < 1 and x1 > 0 and y1 > 0
    ]
    return (on_page, 1.0) if on_page else None


def locate_framed(doc: Doc, loc: RegionLocator) -> Hit | None:
    """A region placed on a passport's data page by its MRZ."""
    return locate_region(doc, loc, place=framed_boxes)
