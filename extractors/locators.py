"""Locators over words: ``(doc, locator) -> Hit | None``, one small function per kind.

A hit is the raw printed text, where it was, and how sure the locator is that it found the
right words (1.0 for an exact label match). OCR word confidences are folded in by the
caller. Locators that look at ink rather than words live in :mod:`extractors.marks` and
:mod:`extractors.tables`; the registry is in :mod:`extractors.extract`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from rapidfuzz import fuzz

from extractors.lines import reading_order, same_line
from extractors.normalise import DIGIT_LOOKALIKES, join_words
from extractors.templates import (
    AcroformLocator,
    ColumnLocator,
    LabelLocator,
    RegexLocator,
    RegionLocator,
    ZoneBox,
)
from rekey.models import Box, Layout, Page, Word
from rekey.text import letters

LABEL_MATCH_FLOOR = 85.0  # rapidfuzz ratio below which a caption does not count as found


@dataclass(frozen=True)
class Doc:
    """What locators look at: the words, and (for ink) each page as a grayscale image."""

    layout: Layout
    image: Callable[[int], np.ndarray] | None = None
    captions: frozenset[str] = frozenset()  # the template's captions, squashed
    # what a locator worked out once for all the fields that ask (the MRZ read again)
    found: dict[object, object] = field(default_factory=dict, compare=False)


def by_ocr(words: Iterable[Word]) -> bool:
    """Some of ``words`` were read by OCR (not printed text or form data)."""
    return any(w.source == "ocr" for w in words)


def is_caption(doc: Doc, words: list[Word]) -> bool:
    """The words start with one of the template's own captions, or spell the start of
    one: what stands where a value should, when the value is missing or faded out."""
    captions = _lettered(doc.captions)  # a stroke read or not: "Type / Code"
    text = "".join(letters(w.text) for w in words)
    if len(text) >= 4 and any(c.startswith(text) for c in captions):
        return True
    spelled = ""
    for word in words:  # whole words only: "Email:" is a caption, "email@…" a value
        spelled += letters(word.text)
        if spelled in captions:
            return True
    return False


@cache
def _lettered(captions: frozenset[str]) -> frozenset[str]:
    return frozenset(letters(c) for c in captions)


MIN_CAPTION_TAIL = 4  # characters: what is left of a caption whose first letters were lost


def caption_words(captions: frozenset[str], texts: list[str]) -> int:
    """How many of the leading ``texts`` spell one of the ``captions``, or its end
    (``urname`` for ``Surname``: a box on a page printed a little off takes in the caption
    above or beside the value, its first letters cut); never all of them."""
    spelled = ""
    for count, text in enumerate(texts[:-1], start=1):
        spelled += _squash(text)
        if len(spelled) >= MIN_CAPTION_TAIL and any(c.endswith(spelled) for c in captions):
            return count
    return 0


def without_caption(doc: Doc, words: list[Word]) -> list[Word]:
    """``words`` without the leading ones that are a caption's (:func:`caption_words`)."""
    return words[caption_words(doc.captions, [w.text for w in words]) :]


def captions_of(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(_squash(t) for t in texts)


@dataclass(frozen=True)
class Hit:
    text: str
    match: float
    how: str
    page: int | None = None
    box: Box | None = None
    words: tuple[Word, ...] = ()
    several: tuple[str, ...] = ()  # a one-of choice with these options ticked together
    read_by_ocr: bool = False  # OCR read it, though ``words`` are not kept for its confidence
    vouched_by: str = ""  # what vouches for it beyond OCR ("mrz": its check digits pass)


CAPTION_PUNCTUATION = ":;.,：；。，"  # what a caption ends in, in Latin and CJK forms


def _token(text: str) -> str:
    return text.casefold().strip(CAPTION_PUNCTUATION)


def _caption_mark(word: Word) -> bool:
    """A word that is only a caption's colon (OCR often reads it apart from the caption)."""
    return bool(word.text) and not word.text.strip(CAPTION_PUNCTUATION)


def _squash(text: str) -> str:
    return "".join(_token(part) for part in text.split())


def find_labels(
    page: Page, text: str, longest: int = 8, floor: float = LABEL_MATCH_FLOOR, most: int = 4
) -> list[tuple[list[Word], float]]:
    """The runs of words on ``page`` that spell ``text`` best, best first, with how well
    (0..1): at most ``most``, one per starting word.

    Spaces are ignored, so a caption OCR split into pieces (common for CJK) still matches;
    the pieces must share one line (OCR may read a column of captions as one block, and a
    run across two captions would anchor the value to the wrong line).
    """
    target = _squash(text)
    words = page.words
    found: list[tuple[list[Word], float]] = []
    for start in range(len(words)):
        joined = ""
        best: tuple[list[Word], float] | None = None
        for end in range(start, min(start + longest, len(words))):
            if end > start and not same_line(words[end], words[start].box):
                break
            joined += _squash(words[end].text)
            if len(joined) > len(target) * 1.5 + 2:
                break
            score = fuzz.ratio(target, joined) / 100
            if score * 100 >= floor and (best is None or score > best[1]):
                best = (words[start : end + 1], score)
        if best is not None:
            if best[1] == 1.0:
                return [best]
            found.append(best)
    return sorted(found, key=lambda run: -run[1])[:most]


def find_label(
    page: Page, text: str, longest: int = 8, floor: float = LABEL_MATCH_FLOOR
) -> tuple[list[Word], float] | None:
    """The run of words on ``page`` that best spells ``text``, and how well (0..1)."""
    found = find_labels(page, text, longest, floor, most=1)
    return found[0] if found else None


# how far below a line (in its heights) the next line of the same value may start: forms
# set address lines 2.4 word heights apart; a new caption ends the value (``stop_left``)
LINE_GAP = 2.5


def _line_below(
    page: Page, above: Box, x_from: float, x_to: float, stop_left: bool = True
) -> list[Word]:
    """The words of the next line below ``above`` between ``x_from`` and ``x_to``.

    Empty when there is no next line close by, or when that line starts with words left of
    ``x_from`` (a new caption, so the value above has ended).
    """
    height = above.y1 - above.y0
    reach = above.y1 + LINE_GAP * height
    below = [w for w in page.words if above.y1 - 0.2 * height < w.box.y0 <= reach]
    if not below:
        return []
    top = min(w.box.y0 for w in below)
    line = [w for w in below if w.box.y0 <= top + height / 2]
    if stop_left and any(w.box.x1 < x_from for w in line):
        return []
    return sorted((w for w in line if x_from <= w.box.x0 < x_to), key=lambda w: w.box.x0)


def union(words: list[Word]) -> Box:
    box = words[0].box
    for word in words[1:]:
        box = box.union(word.box)
    return box


def pages_of(layout: Layout, number: int | None) -> list[Page]:
    return [p for p in layout.pages if number is None or p.number == number]


def label_hits(doc: Doc, loc: LabelLocator) -> Iterator[Hit]:
    """What is written by each run of words that could be the caption, the likeliest
    caption first (a caption OCR slipped on can score below a heading that shares its
    first words)."""
    for page in pages_of(doc.layout, loc.page):
        for label_words, match in find_labels(page, loc.text, floor=loc.match):
            hit = _label_value(doc, loc, page, label_words, match)
            if hit is not None:
                yield hit


def locate_label(doc: Doc, loc: LabelLocator) -> Hit | None:
    return next(label_hits(doc, loc), None)


def _label_value(
    doc: Doc, loc: LabelLocator, page: Page, label_words: list[Word], match: float
) -> Hit | None:
    anchor = union(label_words)
    if loc.direction == "right":
        first = sorted(
            (
                w
                for w in page.words
                if same_line(w, anchor) and anchor.x1 < w.box.x0 <= anchor.x1 + loc.window
            ),
            key=lambda w: w.box.x0,
        )
        while first and _caption_mark(first[0]):
            first = first[1:]
    else:
        first = _line_below(page, anchor, anchor.x0 - 0.01, anchor.x0 + loc.window, stop_left=False)
    if not first:
        return None
    lines = [first]
    while len(lines) < loc.lines + loc.skip:
        more = _line_below(page, union(lines[-1]), first[0].box.x0 - 0.01, 1.0)
        if not more:
            break
        lines.append(more)
    words = [w for line in lines[loc.skip :] for w in line]
    if not words or is_caption(doc, words):
        return None
    return Hit(
        text=join_words(w.text for w in words),
        match=match,
        how=f"label {loc.text!r} {loc.direction}",
        page=page.number,
        box=union(words),
        words=tuple(words),
    )


def locate_regex(doc: Doc, loc: RegexLocator) -> Hit | None:
    pattern = re.compile(loc.pattern)
    for page in pages_of(doc.layout, loc.page):
        match = pattern.search(page.text)
        if match:
            return Hit(
                text=match.group(loc.group),
                match=1.0,
                how=f"regex {loc.pattern!r}",
                page=page.number,
            )
    return None


def form_value(acroform: dict[str, str], name: str) -> str:
    """A form field's value by full name, or by the end of its name (``f1_1[0]``)."""
    if name in acroform:
        return acroform[name]
    return next((v for k, v in acroform.items() if k.endswith("." + name)), "")


def locate_acroform(doc: Doc, loc: AcroformLocator) -> Hit | None:
    values = [form_value(doc.layout.acroform, name) for name in loc.names]
    if loc.choices:
        values = [loc.choices.get(v, v) for v in values]
    if not any(values):
        return None
    how = f"form field {', '.join(loc.names)}"
    ticked = tuple(v for v in values if v)
    if loc.choices and len(ticked) > 1:  # one of them is meant: not for rekey to guess
        return Hit(text=" ".join(ticked), match=0.0, how=f"{how}; several ticked", several=ticked)
    return Hit(text=joined(values, loc.format, loc.as_list), match=1.0, how=how)


def joined(parts: list[str], fmt: str | None = None, as_list: bool = False) -> str:
    """Several read parts as one value: a JSON list of the filled ones, by ``fmt``, or
    spaced."""
    if as_list:
        return json.dumps([p for p in parts if p])
    if fmt:
        return fmt.format(*parts)
    return " ".join(p for p in parts if p)


def words_in(page: Page, box: tuple[float, float, float, float], pad: float) -> list[Word]:
    x0, y0, x1, y1 = box
    inside = [
        w
        for w in page.words
        if x0 - pad <= w.box.cx <= x1 + pad and y0 - pad <= w.box.cy <= y1 + pad
    ]
    return reading_order(inside)


# digits (and signs) OCR reads where a letter is printed
LETTER_LOOKALIKES = str.maketrans("0125678$", "OIZSGTBS")


def fit_pattern(text: str, pattern: str) -> str:
    """``text`` when it is what ``pattern`` describes; else the text with a first digit
    read as the letter it looks like, when that fits (``110`` → ``I10`` for a code that
    starts with a letter); else empty."""
    for candidate in (text, text[:1].translate(LETTER_LOOKALIKES) + text[1:]):
        if re.fullmatch(pattern, candidate):
            return candidate
    return ""


def only_chars(words: list[Word], chars: str) -> list[Word]:
    """The words written in ``chars``, other characters dropped (``(830`` → ``830``);
    words with more other characters than those are left out. Where only digits are
    written, letters OCR confuses with digits count as those in a word that has a digit or
    is made only of them (``O1``, ``Ol`` → ``01``; a lone ``I`` is more likely a box rule
    than a one)."""
    digits_only = not any(ch.isalpha() for ch in chars)
    kept = []
    for word in words:
        spelled = word.text.replace("()", "0") if digits_only else word.text  # a 0 read as ()
        looks_numeric = any(ch.isdigit() for ch in spelled) or (
            len(spelled) > 1 and spelled.translate(DIGIT_LOOKALIKES).isdigit()
        )
        read = spelled.translate(DIGIT_LOOKALIKES) if digits_only and looks_numeric else spelled
        if "S" in chars and "$" not in chars:
            read = read.replace("$", "S")
        text = "".join(ch for ch in read if ch in chars)
        if text and len(text) * 2 >= len(read):
            kept.append(word.model_copy(update={"text": text}))
    return kept


RULE_LOOKALIKES = "lI|[]"  # a box's edge rule, read as a letter at either end of a value


def edge_trimmed(words: list[Word]) -> list[Word]:
    """``words`` without a box rule read as a letter before the first or after the last."""
    if not words:
        return words
    first, last = words[0].text.lstrip(RULE_LOOKALIKES), words[-1].text.rstrip(RULE_LOOKALIKES)
    if len(words) == 1:
        trimmed = [words[0].model_copy(update={"text": first.rstrip(RULE_LOOKALIKES)})]
    else:
        trimmed = [
            words[0].model_copy(update={"text": first}),
            *words[1:-1],
            words[-1].model_copy(update={"text": last}),
        ]
    return [w for w in trimmed if w.text]


SPECK_CONFIDENCE = 0.1  # OCR's confidence in a mark it read as a short word


def without_specks(words: list[Word]) -> list[Word]:
    """``words`` without the one- or two-letter words OCR had no confidence in, when it was
    sure of another word in the same box (specks beside a value read as ``Oo``)."""
    if not any(w.confidence >= 0.5 for w in words):
        return words
    return [w for w in words if len(w.text) > 2 or w.confidence >= SPECK_CONFIDENCE]


def read_box(words: list[Word], loc: RegionLocator) -> tuple[str, list[Word]]:
    """One box's text and the words it is made of; with a ``pattern``, the first reading
    that fits it (as read, then without a box rule read at its ends), else nothing."""
    glue = "" if loc.chars and " " not in loc.chars else None
    words = without_specks(words)
    for attempt in (words, edge_trimmed(words)) if loc.pattern else (words,):
        kept = only_chars(attempt, loc.chars) if loc.chars else attempt
        texts = [w.text for w in kept]
        text = join_words(texts) if glue is None else glue.join(texts)
        if not loc.pattern:
            return text, kept
        fitted = fit_pattern(text, loc.pattern)
        if fitted:
            return fitted, kept
    return "", []


def placed_boxes(doc: Doc, page: Page, loc: RegionLocator) -> tuple[list[ZoneBox], float] | None:
    """The region's boxes on ``page`` and how sure their placing is: as written, or
    measured from the anchor caption (None: the caption is not there). A :data:`Placing`:
    other placings need ``doc`` (:func:`extractors.mrz.framed_boxes`)."""
    if loc.anchor is None:
        return list(loc.boxes), 1.0
    found = find_label(page, loc.anchor.text, floor=loc.anchor.match)
    if found is None:
        return None
    corner = union(found[0])
    boxes = [
        (corner.x0 + x0, corner.y0 + y0, corner.x0 + x1, corner.y0 + y1)
        for x0, y0, x1, y1 in loc.boxes
    ]
    return boxes, found[1]


Placing = Callable[[Doc, Page, RegionLocator], tuple[list[ZoneBox], float] | None]


def locate_region(doc: Doc, loc: RegionLocator, place: Placing = placed_boxes) -> Hit | None:
    """The words in the region's boxes, placed as written or by the anchor caption
    (:func:`placed_boxes`), or by another ``place`` (a frame found on the page)."""
    pages = pages_of(doc.layout, loc.page)
    if not pages:
        return None
    placed = place(doc, pages[0], loc)
    if placed is None:
        return None
    boxes, sure = placed
    read = [read_box(without_caption(doc, words_in(pages[0], box, loc.pad)), loc) for box in boxes]
    texts = [text for text, _ in read]
    if not any(texts):
        return None
    text = joined(texts, loc.format, loc.as_list)
    words = [w for _, part in read for w in part]
    by = f" by {loc.anchor.text!r}" if loc.anchor else " by the MRZ" if loc.frame else ""
    return Hit(
        text=text,
        # a box left empty: a value's part missing; a list's box, unused (its ink is
        # looked at after reading: :func:`extractors.ink.items_unread`)
        match=(1.0 if all(texts) or loc.as_list else 0.5) * loc.trust * sure,
        how=f"region{'s' if len(boxes) > 1 else ''}{by} on page {loc.page}",
        page=loc.page,
        box=union(words) if words else None,
        words=tuple(words),
    )


def locate_column(doc: Doc, loc: ColumnLocator) -> Hit | None:
    value = doc.layout.cells.get(loc.name)
    if value is None:
        return None
    return Hit(text=value, match=1.0, how=f"column {loc.name!r}")
