"""A second reading for fields where one reading is not enough (names, places).

The English model cannot see diacritics: it reads "Müller" as "Muller" and is sure of it.
Fields marked ``verify`` on a scanned page are read again, all in one call, with Tesseract's
Latin-script model (or the model the field names); when the two readings differ the second
one is kept if it is close to the first or in another script (the Latin model knows ü, ł,
å), and the field is no longer trusted, so a reviewer looks at it. Two readings that agree
are evidence of their own (``agreed``, calibrated on its own curve). Dates and amounts are
compared by what they mean; a second model that cannot read them at all gives no opinion.
"""

from __future__ import annotations

import re
import unicodedata

import cv2
import numpy as np
from rapidfuzz import fuzz

from extractors.calibration import LETTERS, agreed, checked_by
from extractors.engines import list_langs
from extractors.extract import DISAGREEMENT_CONFIDENCE, captions_in, doubted, listed
from extractors.locators import caption_words, words_in
from extractors.normalise import (
    HAN,
    NormaliseError,
    given_name_first,
    join_words,
    normalise,
    strip_noise,
    whitespace,
)
from extractors.plausible import put_right
from extractors.source import Source
from extractors.templates import FieldSpec, Template
from extractors.zonal import pixel_box, read_zones
from rekey.models import Box, Field, Page, Word
from rekey.text import without_marks

SECOND_READING = "Latin"
PAD = 0.006


def installed_languages() -> frozenset[str]:
    """The models ``tesseract --list-langs`` lists."""
    return frozenset(line.strip() for line in list_langs()[1:] if line.strip())


def second_model(spec: FieldSpec) -> str | None:
    """The model a field is read again with, if any."""
    if spec.verify is True:
        return SECOND_READING
    return spec.verify or None


def fitted_second(field: Field, spec: FieldSpec, second: str) -> Field:
    """A field whose first reading did not fit its ``pattern``: the second reading, when
    that fits, never trusted on its own."""
    value = spec.fitted(second) if second else None
    if not value:
        return field
    return field.model_copy(
        update={
            "value": value,
            "confidence": DISAGREEMENT_CONFIDENCE,
            "how": f"{field.how}; the second reading fits",
            "doubt": "the first reading did not fit its pattern",
        }
    )


def _text_of(words: list[Word], captions: frozenset[str] = frozenset()) -> str:
    """The words' text, without a caption the padded box took in before them."""
    texts = [w.text for w in words]
    return whitespace(strip_noise(join_words(texts[caption_words(captions, texts) :])))


def on_its_line(page: Page, box: Box) -> list[Word]:
    """The words of a second reading that count: those on the value's own line, with the
    margin read around it only across. Down, the margin would take in a caption or a
    neighbour's value on a page printed small (a passport copied onto A4)."""
    return words_in(page, (box.x0 - PAD, box.y0, box.x1 + PAD, box.y1), pad=0)


def meaning(spec: FieldSpec, text: str) -> str | None:
    """What a reading says, compared as the field's type compares (None: unreadable)."""
    if spec.values:  # a closed list: the listed value it spells, or none
        near = listed(spec, text)
        return near[0] if near else None
    if spec.type == "text":  # with the slips its grammar fixes put right, as the first
        text = given_name_first(text) if spec.surname_first else text  # ... and in its order
        return put_right(spec.looks_like, text)[0]
    try:  # a date or an amount: what it means
        return normalise(spec.type, text, spec.formats, spec.decimal, True)
    except NormaliseError:
        return None  # this reading cannot be understood at all: no opinion


LIKENESS = 60  # rapidfuzz ratio (0-100): how alike two readings of one word must be


def _han(text: str) -> bool:
    return re.search(f"[{HAN}]", text) is not None


def replaces(first: str, second: str) -> bool:
    """Whether the second model's reading is taken over the first: when it is close to it
    in Latin letters (``Muller`` → ``Müller``) with no more stray marks, or in a script the
    first could not read (``FR`` → ``秀英市``).
    Another reading altogether in the same script is no likelier to be right (``Zou`` read
    again as ``Brna Zou``, a caption's tail taken in), nor is a Chinese model's Chinese
    over the mixed model's (one character slipped in either: ``湿滑`` / ``湿消``)."""
    if _han(first) != _han(second):
        return True
    close = fuzz.ratio(first.casefold(), second.casefold()) >= LIKENESS
    return close and not _han(first) and _marks(second) <= _marks(first)


STRAY = set("!|¦{}[]<>\\")  # marks no name, place, address or e-mail holds inside a word


def _marks(text: str) -> int:
    """Stray marks in ``text``: a second model that reads ``l`` as ``!`` (``Biomedica!``)
    is no likelier to be right, while one that reads an apostrophe or an ``@`` the first
    missed (``O'Brien``, ``name@example.net``) may be."""
    return sum(ch in STRAY for ch in text)


def marks_only(first: str, second: str) -> bool:
    """Whether the second reading differs from the first by diacritics alone, which the
    second model is made to see: the same letters (``Zoé Bronte`` / ``Zoë Brontë``), at
    least as many marked letters in the second, no stray marks added."""
    if first == second or without_marks(first).casefold() != without_marks(second).casefold():
        return False
    return _marked(second) >= _marked(first) and _marks(second) <= _marks(first)


def _marked(text: str) -> int:
    return sum(ch != without_marks(ch) for ch in text)


def _lettered(field: Field, second: str) -> Field:
    """The second model's reading, its letters seconded by the first: evidence of its own
    (``letters``, calibrated on its own curve), for the diacritics rest on one model."""
    how = f"{field.how}; the second reading adds the diacritics ({field.value!r})"
    update = {"value": second, "evidence": checked_by(field, LETTERS), "how": how}
    return field.model_copy(update=update)


def judged(field: Field, spec: FieldSpec, second: str, alone: str | None = None) -> Field:
    """The field after its second model read ``second`` and its own model, given the box
    alone, read ``alone`` (None: not read so). The second model's reading wins when they
    differ and it ``replaces`` the first (it knows the diacritics); a different reading of
    the box alone keeps the value. Either way the field is no longer trusted."""
    if not field.value:  # the first reading did not fit the field's pattern
        return fitted_second(field, spec, second)
    meant = meaning(spec, second)
    if meant and marks_only(field.value, meant):
        return _lettered(field, meant)
    if meant is not None and meant.casefold() != field.value.casefold():
        kept = meant if meant and replaces(field.value, meant) else field.value
        return doubted(field, f"second reading differs ({field.value!r})", kept)
    seconded = meant is not None
    meant = meaning(spec, alone) if alone is not None else None
    if meant is not None and meant.casefold() != field.value.casefold():
        return doubted(field, f"reading of the box alone differs ({field.value!r})")
    return agreed(field) if seconded else field


def verify_fields(source: Source, template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with the ``verify`` ones on scanned pages checked by a second reading."""
    installed = installed_languages()
    models = {name: second_model(spec) for name, spec in template.fields.items()}
    todo = {
        name: field
        for name, field in fields.items()
        if models[name] in installed
        and (field.value or template.fields[name].pattern)
        and field.box
        and field.page in source.scanned
    }
    checked = dict(fields)
    captions = captions_in(template)
    for page, model in sorted({(f.page, models[n]) for n, f in todo.items()}, key=str):
        batch = {n: f for n, f in todo.items() if f.page == page and models[n] == model}
        boxes = [f.box.padded(PAD) for f in batch.values()]
        gray = source.zone_image(page)
        second = read_zones(page, gray, boxes, model)
        again = None  # the page's own model on the crops alone: a reading in another context
        if template.zones(page) is None:
            again = read_zones(page, gray, boxes, template.language)
        for name, field in batch.items():
            alone = _text_of(on_its_line(again, field.box)) if again and again.words else None
            words = on_its_line(second, field.box)
            judgement = judged(field, template.fields[name], _text_of(words, captions), alone)
            unread = marks_unread(gray, words)
            checked[name] = doubted(judgement, unread) if unread else judgement
            unseen = marks_unseen(gray, words) if judgement.evidence.endswith(LETTERS) else None
            if unseen:  # the letters the two models agree on, without the mark
                checked[name] = doubted(judgement, unseen, field.value)
    return checked


MARK_BAND = (0.45, 0.08)  # above a capital, as shares of its height: where a mark stands
MARK_SIZE = 0.12  # the smallest mark, across and down, as a share of the capitals' height


def marks_unread(gray: np.ndarray, words: list[Word]) -> str | None:
    """Why a word in capitals was read without a mark that is printed over it (None: none
    is). Both models can read ``MÜHLDORF`` as ``MUHLDORF``, and agree; the dots stand in
    the band just above the capitals, apart from the line above, and OCR leaves them out
    of the word's box."""
    height, width = gray.shape
    for word in words:
        if not _bare_capitals(word.text):
            continue
        x0, y0, x1, y1 = pixel_box(word.box, width, height)
        tall = y1 - y0
        top, bottom = max(0, y0 - round(MARK_BAND[0] * tall)), y0 - round(MARK_BAND[1] * tall)
        if tall < 8 or bottom - top < 3:
            continue
        crop = gray[top:bottom, x0:x1]
        ink = (crop < _ink_level(gray[y0:y1, x0:x1])).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        least = max(2, round(MARK_SIZE * tall))
        for _, top_edge, w, h, _ in stats[1:count]:
            if top_edge > 0 and w >= least and h >= least:  # not hanging from the line above
                return f"a mark over {word.text!r} was not read"
    return None


ABOVE = 230  # Unicode's combining class of a mark set above its letter (acute, dots, ring)
MARK_HEIGHT = 0.6  # a mark is shorter than this share of the letters' body
MARK_CLEAR = 0.85  # ... and ends above the body, this share of its height over the line
SPECK = 3  # pixels of ink: less is the scan's noise


def marks_unseen(gray: np.ndarray, words: list[Word]) -> str | None:
    """Why a mark the second model read over a letter is not believed (None: it is). That
    model can add a mark the print has none of (``manàger``, ``Dachâu``). A mark stands
    apart above the letters' body, as an i's dot does: a word read with marks over its
    letters must show more such ink than its i's and j's dots."""
    for word in words:
        if not any(_marked_above(ch) for ch in word.text):
            continue
        found = _ink_above(gray, word)
        if found is not None and found <= sum(word.text.count(ch) for ch in "ij"):
            return f"the mark read in {word.text!r} is not in the print"
    return None


def _marked_above(letter: str) -> bool:
    decomposed = unicodedata.normalize("NFD", letter)
    return any(unicodedata.combining(ch) == ABOVE for ch in decomposed)


def _ink_above(gray: np.ndarray, word: Word) -> int | None:
    """How many specks of ink stand apart above the word's body (marks, i's dots), in the
    word's box and the band over it; None when the word has no body to measure."""
    height, width = gray.shape
    x0, y0, x1, y1 = pixel_box(word.box, width, height)
    top = max(0, y0 - round(MARK_BAND[0] * (y1 - y0)))
    if y1 - y0 < 8 or x1 <= x0:
        return None
    ink = (gray[top:y1, x0:x1] < _ink_level(gray[y0:y1, x0:x1])).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    tops, tall = stats[1:count, cv2.CC_STAT_TOP], stats[1:count, cv2.CC_STAT_HEIGHT]
    # the letters: tall enough, and standing on the word's line (not a caption above it)
    body = (tall >= 0.3 * (y1 - y0)) & (tops + tall >= y0 - top + 0.5 * (y1 - y0))
    if not body.any():
        return None
    line = float(np.median((tops + tall)[body]))  # the letters' foot
    small = float(np.percentile(tall[body], 25))  # a small letter's height
    apart = (tops > 0) & (tall < MARK_HEIGHT * small)  # not hanging from the line above
    apart &= stats[1:count, cv2.CC_STAT_AREA] >= SPECK  # nor a speck of the scan
    apart &= tops + tall <= line - MARK_CLEAR * small
    return int(apart.sum())


def _bare_capitals(text: str) -> bool:
    """A word all in capitals, none of them marked (``MUHLDORF``, not ``MÜHLDORF``)."""
    return text.isalpha() and text.isupper() and without_marks(text) == text


def _ink_level(word: np.ndarray) -> float:
    """Midway between the paper and the ink of a word's own crop."""
    return (float(np.percentile(word, 95)) + float(np.percentile(word, 5))) / 2
