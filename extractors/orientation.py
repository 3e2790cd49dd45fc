"""Turning a scanned page upright (quarter turns), cheaply.

Quarter turns are found from line structure (:func:`preprocess.turned_ratio`), a page that
is upside down from where its ink sits (forms fill from the top). Only when those signals are
ambiguous is Tesseract's orientation detection (OSD) asked, on a half-size page.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytesseract

from extractors.preprocess import ink_centroid, quarter_turn, turned_ratio

TURNED_ABOVE, UPRIGHT_BELOW = 1.25, 0.8
BOTTOM_HEAVY, SURELY_BOTTOM_HEAVY = 0.58, 0.65
OSD_SURE = 0.1


def osd_turn(gray: np.ndarray) -> int | None:
    """Tesseract's orientation guess (clockwise turn to upright), or None when unsure."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    try:
        osd = pytesseract.image_to_osd(
            small, config="--psm 0 -c min_characters_to_try=5", output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractError:
        return None
    return int(osd["rotate"]) if float(osd["orientation_conf"]) >= OSD_SURE else None


def quarter(gray: np.ndarray) -> int:
    """0 or 90: the clockwise quarter turn that makes the text run horizontally."""
    ratio = turned_ratio(gray)
    if ratio > TURNED_ABOVE:
        return 90
    if ratio < UPRIGHT_BELOW:
        return 0
    turn = osd_turn(gray)
    return 90 if turn in (90, 270) else 0


def upside_down(gray: np.ndarray) -> bool:
    """Turned over when its ink sits low (forms fill from the top) and OSD agrees; pages
    whose ink is spread evenly (ID cards, passports) are left as they are."""
    _, y = ink_centroid(gray)
    if y < BOTTOM_HEAVY:
        return False
    turn = osd_turn(gray)
    return turn == 180 if turn is not None else y > SURELY_BOTTOM_HEAVY


def upright_turn(gray: np.ndarray) -> int:
    """The clockwise turn (0, 90, 180, 270) that puts the page upright."""
    first = quarter(gray)
    turned = quarter_turn(gray, first)
    return (first + (180 if upside_down(turned) else 0)) % 360
