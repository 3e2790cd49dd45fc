"""Turning a scanned page upright (quarter turns), only on strong evidence.

A page is turned sideways when its text lines run vertically (:func:`preprocess.turned_ratio`,
line structure across the page) and Tesseract's orientation detection (OSD) is sure of it
too (:data:`SIDEWAYS_SURE`); upside down only when its ink sits low (forms fill from the
top) and OSD is sure (:data:`UPSIDE_DOWN_SURE`). An upright page is never turned on one
weak signal: a page turned wrongly reads nothing, while one left the wrong way is still
turned by classification when its header reads only that way (:mod:`extractors.engine`).
"""

from __future__ import annotations

import cv2
import numpy as np

from extractors.ocr import configured_engine
from extractors.preprocess import ink_centroid, quarter_turn, turned_ratio

TURNED_ABOVE, UPRIGHT_BELOW = 1.25, 0.8  # line structure: vertical above, upright below
BOTTOM_HEAVY, SURELY_BOTTOM_HEAVY = 0.58, 0.65  # ink centroid this low: upside down?
# Tesseract's orientation confidence needed: upright FUNSD forms gave sideways readings up
# to 0.96 and upside-down ones up to 1.23
SIDEWAYS_SURE, UPSIDE_DOWN_SURE = 1.0, 2.0
LOOSE_SURE = 0.1  # the corpus's rules


def osd(gray: np.ndarray) -> tuple[int, float] | None:
    """Tesseract's orientation guess on a half-size page: the clockwise turn to upright and
    its confidence."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return configured_engine().orientation(small)


def sure_turn(gray: np.ndarray, sure: float) -> int | None:
    """OSD's turn when its confidence is at least ``sure``, else None."""
    guess = osd(gray)
    return guess[0] if guess is not None and guess[1] >= sure else None


def quarter(gray: np.ndarray, strict: bool) -> int:
    """0 or 90: the clockwise quarter turn that makes the text run horizontally."""
    ratio = turned_ratio(gray)
    if ratio <= TURNED_ABOVE:
        if strict or ratio < UPRIGHT_BELOW:
            return 0
        return 90 if sure_turn(gray, LOOSE_SURE) in (90, 270) else 0
    if not strict:
        return 90
    return 90 if sure_turn(gray, SIDEWAYS_SURE) in (90, 270) else 0


def upside_down(gray: np.ndarray, strict: bool) -> bool:
    """Turned over when its ink sits low (forms fill from the top) and OSD is sure."""
    _, y = ink_centroid(gray)
    if y < BOTTOM_HEAVY:
        return False
    turn = sure_turn(gray, UPSIDE_DOWN_SURE if strict else LOOSE_SURE)
    if turn is not None or strict:
        return turn == 180
    return y > SURELY_BOTTOM_HEAVY


def upright_turn(gray: np.ndarray, strict: bool = True) -> int:
    """The clockwise turn (0, 90, 180, 270) that puts the page upright. ``strict`` (an
    image of unknown provenance): only on two signals that agree. Otherwise the rules the
    corpus figures were measured with: clear line structure alone, or a weak OSD reading,
    or ink sitting very low."""
    first = quarter(gray, strict)
    turned = quarter_turn(gray, first)
    return (first + (180 if upside_down(turned, strict) else 0)) % 360
