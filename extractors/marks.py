"""Locators that read ink, not words: tick boxes by fill ratio, signatures by ink density."""

from __future__ import annotations

import cv2
import numpy as np

from extractors.locators import Doc, Hit, find_label, find_labels, pages_of, union
from extractors.preprocess import ink_mask
from extractors.templates import (
    CheckboxLocator,
    ChoiceLocator,
    RegionChoiceLocator,
    SignatureLocator,
)
from rekey.models import Box, Page, Word

TICKED_ABOVE, EMPTY_BELOW = 0.10, 0.04  # share of the box's inside covered by ink
SIGNED_ABOVE = 0.004  # share of the signature area covered by ink, lines removed


def _crop(gray: np.ndarray, box: Box) -> np.ndarray:
    h, w = gray.shape
    x0, x1 = int(max(0, box.x0) * w), int(min(1, box.x1) * w)
    y0, y1 = int(max(0, box.y0) * h), int(min(1, box.y1) * h)
    return gray[y0:y1, x0:x1]


def _certainty(value: float, low: float, high: float) -> float:
    """1.0 far from the undecided band between ``low`` and ``high``, falling to 0 inside it."""
    if value <= low:
        return min(1.0, 0.8 + 0.2 * (1 - value / low)) if low else 1.0
    if value >= high:
        return min(1.0, 0.8 + 0.2 * min(1.0, (value - high) / high))
    return 0.3


def tick_box(label: Box, loc: CheckboxLocator, aspect: float) -> Box:
    """Where the tick box sits relative to its caption (page-relative; aspect = w/h)."""
    side_h = loc.size * aspect
    cy = label.cy
    if loc.side == "left":
        x1 = label.x0 - loc.gap
        return Box(x0=x1 - loc.size, y0=cy - side_h * 0.6, x1=x1, y1=cy + side_h * 0.6)
    x0 = label.x1 + loc.gap
    return Box(x0=x0, y0=cy - side_h * 0.6, x1=x0 + loc.size, y1=cy + side_h * 0.6)


def snap_box(gray: np.ndarray, box: Box) -> Box:
    """The printed box nearest to where ``box`` expects it, found by its outline; ``box``
    itself when there is none. The caption's first word is sometimes lost to the OCR (a
    lone "I"), which would put the expected box over a letter instead."""
    h, w = gray.shape
    bw = (box.x1 - box.x0) * w  # the box side, in pixels
    reach = 1.5 * (box.x1 - box.x0)
    window = Box(
        x0=max(0.0, box.x0 - reach),
        y0=max(0.0, box.y0 - (box.y1 - box.y0) / 2),
        x1=min(1.0, box.x1 + reach),
        y1=min(1.0, box.y1 + (box.y1 - box.y0) / 2),
    )
    crop = _crop(gray, window)
    if crop.size == 0:
        return box
    contours, _ = cv2.findContours(ink_mask(crop), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    ox, oy = window.x0 * w, window.y0 * h
    cx, cy = box.cx * w, box.cy * h
    best: tuple[float, Box] | None = None
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if not (
            0.6 * bw <= cw <= 1.6 * bw and 0.6 * bw <= ch <= 1.6 * bw and 0.7 <= cw / ch <= 1.4
        ):
            continue
        distance = abs(ox + x + cw / 2 - cx) + abs(oy + y + ch / 2 - cy)
        if best is None or distance < best[0]:
            found = Box(
                x0=(ox + x) / w, y0=(oy + y) / h, x1=(ox + x + cw) / w, y1=(oy + y + ch) / h
            )
            best = (distance, found)
    return best[1] if best else box


def fill_ratio(crop: np.ndarray) -> float:
    """Ink inside the box, its border left out (the inner 60%)."""
    mask = ink_mask(crop) if crop.size else crop
    h, w = mask.shape[:2]
    if h < 5 or w < 5:
        return 0.0
    inner = mask[int(h * 0.2) : int(h * 0.8), int(w * 0.2) : int(w * 0.8)]
    if float(crop.min()) > 160:  # nothing dark at all: an empty, faint box
        return 0.0
    return float((inner > 0).mean())


Tick = tuple[float, float, Hit]  # fill ratio, certainty, hit


def tick_beside(doc: Doc, page: Page, caption: list[Word], match: float, label: str, loc) -> Tick:
    """The tick box beside a caption found on ``page`` with ``match``."""
    gray = doc.image(page.number)
    expected = tick_box(union(caption), loc, gray.shape[1] / gray.shape[0])
    box = snap_box(gray, expected)
    ratio = fill_ratio(_crop(gray, box))
    ticked = ratio >= (TICKED_ABOVE + EMPTY_BELOW) / 2
    certainty = _certainty(ratio, EMPTY_BELOW, TICKED_ABOVE)
    hit = Hit(
        text="true" if ticked else "false",
        match=match * certainty,
        how=f"tick box by {label!r} ({ratio:.0%} ink)",
        page=page.number,
        box=box,
        # a box found by its printed outline is read by its ink, whatever the OCR made
        # of the caption's letters; one only placed from the caption keeps their doubt
        words=() if box is not expected else tuple(caption),
    )
    return ratio, certainty, hit


def read_tick(doc: Doc, label: str, loc, page_number: int | None) -> Tick | None:
    """(fill ratio, certainty, hit) for the tick box beside ``label``."""
    if doc.image is None:
        return None
    for page in pages_of(doc.layout, page_number):
        found = find_label(page, label, floor=loc.match)
        if found is not None:
            return tick_beside(doc, page, *found, label, loc)
    return None


def locate_checkbox(doc: Doc, loc: CheckboxLocator) -> Hit | None:
    found = read_tick(doc, loc.label, loc, loc.page)
    return found[2] if found else None


def captions_apart(
    page: Page, options: list[str], floor: float
) -> dict[str, tuple[list[Word], float]]:
    """Each option's caption on ``page``, no word shared between two: the closest matches
    (the longer caption first, on a tie) take their words first, so one option's caption
    read inside another's (``> 250,000`` in ``100,000 - 250,000``) finds its own place."""
    candidates = sorted(
        (
            (score, option, words)
            for option in options
            for words, score in find_labels(page, option, floor=floor)
        ),
        key=lambda c: (-c[0], -len(c[1])),
    )
    placed: dict[str, tuple[list[Word], float]] = {}
    used: set[int] = set()
    for score, option, words in candidates:
        if option in placed or any(id(w) in used for w in words):
            continue
        placed[option] = (words, score)
        used |= {id(w) for w in words}
    return placed


UNSEEN_OPTION = 0.5  # an option's caption not found: the tick read is not trusted alone


def locate_choice(doc: Doc, loc: ChoiceLocator) -> Hit | None:
    """The caption of the one ticked box; unsure unless exactly one is clearly ticked and
    every option's caption was found (a box beside a caption OCR garbled may be ticked)."""
    if doc.image is None:
        return None
    found: dict[str, Tick] = {}
    for page in pages_of(doc.layout, loc.page):
        captions = captions_apart(page, loc.options, loc.match)
        if captions:
            found = {o: tick_beside(doc, page, *c, o, loc) for o, c in captions.items()}
            break
    ticked = [(o, r) for o, r in found.items() if r[2].text == "true"]
    if not ticked:
        return None
    option, (ratio, _, hit) = max(ticked, key=lambda item: item[1][0])
    certainty = min(r[1] for r in found.values()) * (1.0 if len(ticked) == 1 else 0.3)
    how = f"ticked {option!r} of {len(loc.options)} ({ratio:.0%} ink)"
    unseen = len(loc.options) - len(found)
    if unseen:
        certainty *= UNSEEN_OPTION
        how = f"{how}; {unseen} of the captions not found"
    return Hit(
        text=option,
        match=certainty,
        how=how,
        page=hit.page,
        box=hit.box,
        words=hit.words,
    )


def ink_without_lines(crop: np.ndarray) -> float:
    mask = ink_mask(crop) > 0 if crop.size else np.zeros((0, 0), bool)
    if mask.size == 0:
        return 0.0
    row_share = mask.mean(axis=1)
    mask[row_share > 0.5] = False  # ruled lines (the line to sign on)
    return float(mask.mean())


def locate_signature(doc: Doc, loc: SignatureLocator) -> Hit | None:
    if doc.image is None:
        return None
    for page in pages_of(doc.layout, loc.page):
        found = find_label(page, loc.label, floor=loc.match)
        if found is None:
            continue
        words, match = found
        label = union(words)
        height = label.y1 - label.y0
        area = Box(
            x0=label.x1 + 0.02,
            y0=label.y0 - 2.0 * height,
            x1=min(1.0, label.x1 + loc.window),
            y1=label.y1 + 0.4 * height,
        )
        area = below_print(page, area, label)
        gray = doc.image(page.number)
        density = ink_without_lines(_crop(gray, area))
        signed = density >= SIGNED_ABOVE
        certainty = _certainty(density, SIGNED_ABOVE / 3, SIGNED_ABOVE * 2)
        return Hit(
            text="true" if signed else "false",
            match=match * certainty,
            how=f"signature by {loc.label!r} ({density:.2%} ink)",
            page=page.number,
            box=area,
            words=tuple(words),
        )
    return None


PRINTED = 0.6  # OCR's confidence in a word above a signature line that marks it as print


def below_print(page: Page, area: Box, label: Box) -> Box:
    """The area a signature is looked for in, cut off below the printed words over it: a
    line of print (a caption and its tick box) can stand within it when the form was
    printed smaller, and its ink is not a signature."""
    above = [
        w.box.y1
        for w in page.words
        if w.confidence >= PRINTED
        and area.y0 < w.box.y1 <= label.y0
        and w.box.x1 > area.x0
        and w.box.x0 < area.x1
    ]
    if not above:
        return area
    return area.model_copy(update={"y0": max(above) + 0.1 * (label.y1 - label.y0)})


def locate_region_choice(doc: Doc, loc: RegionChoiceLocator) -> Hit | None:
    """The tick box, among boxes at fixed places, with the most ink inside."""
    if doc.image is None:
        return None
    gray = doc.image(loc.page)
    ratios = {
        name: fill_ratio(_crop(gray, Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])))
        for name, b in loc.boxes.items()
    }
    ticked = [name for name, r in ratios.items() if r >= (TICKED_ABOVE + EMPTY_BELOW) / 2]
    certainty = min(_certainty(r, EMPTY_BELOW, TICKED_ABOVE) for r in ratios.values())
    if not ticked:
        if loc.unticked is None:
            return None
        x0, y0, x1, y1 = next(iter(loc.boxes.values()))
        how = f"none of {len(loc.boxes)} boxes ticked"
        box = Box(x0=x0, y0=y0, x1=x1, y1=y1)
        return Hit(text=loc.unticked, match=certainty, how=how, page=loc.page, box=box)
    best = max(ticked, key=ratios.get)
    x0, y0, x1, y1 = loc.boxes[best]
    return Hit(
        text=best,
        match=certainty if len(ticked) == 1 else 0.3,
        how=f"ticked {best!r} of {len(loc.boxes)} boxes ({ratios[best]:.0%} ink)",
        page=loc.page,
        box=Box(x0=x0, y0=y0, x1=x1, y1=y1),
        several=tuple(ticked) if len(ticked) > 1 else (),
    )
