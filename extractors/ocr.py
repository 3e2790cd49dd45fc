"""Tesseract, called as few times as possible, on grayscale images.

Each call starts a process and loads the model (~135 ms here), so callers batch: a whole page
in one call, or all of a template's zones stitched into one image (:mod:`extractors.zonal`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image

from rekey.errors import BadDocument
from rekey.models import Box, Page, Word

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
DEFAULT_LANG = "eng"
CONFIG = "--oem 1 -c tessedit_do_invert=0"


@dataclass(frozen=True)
class RawWord:
    """A word in pixel coordinates of the image Tesseract was given."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0..1


def as_bitmap(gray: np.ndarray) -> Image.Image:
    """The page as pytesseract hands it over: BMP, written without compressing (PNG, its
    default, costs ~30 ms a page to encode for nothing)."""
    image = Image.fromarray(gray)
    image.format = "BMP"
    return image


def tesseract(
    gray: np.ndarray, lang: str = DEFAULT_LANG, psm: int = 3, chars: str | None = None
) -> list[RawWord]:
    """The words Tesseract reads on ``gray`` (``chars``: only these characters may be read)."""
    allowed = f" -c tessedit_char_whitelist={chars}" if chars else ""
    try:
        data = pytesseract.image_to_data(
            as_bitmap(gray),
            lang=lang,
            config=f"--psm {psm} {CONFIG}{allowed}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractError as exc:
        raise BadDocument(f"OCR failed: {exc.message or exc}") from exc
    columns = zip(
        data["text"],
        data["left"],
        data["top"],
        data["width"],
        data["height"],
        data["conf"],
        strict=True,
    )
    return [
        RawWord(text.strip(), left, top, width, height, max(0.0, float(conf)) / 100)
        for text, left, top, width, height, conf in columns
        if text.strip()
    ]


def to_words(
    raw: Iterable[RawWord], width: int, height: int, dx: int = 0, dy: int = 0
) -> list[Word]:
    """Raw words (optionally offset by ``dx, dy`` pixels) in page-relative units."""
    return [
        Word(
            text=w.text,
            box=Box(
                x0=max(0.0, (w.left + dx) / width),
                y0=max(0.0, (w.top + dy) / height),
                x1=min(1.0, (w.left + dx + w.width) / width),
                y1=min(1.0, (w.top + dy + w.height) / height),
            ),
            confidence=w.confidence,
            source="ocr",
        )
        for w in raw
    ]


def ocr_page(number: int, gray: np.ndarray, lang: str = DEFAULT_LANG, psm: int = 3) -> Page:
    """A whole prepared page, read in one call."""
    height, width = gray.shape
    return Page(
        number=number,
        width=width,
        height=height,
        words=to_words(tesseract(gray, lang, psm=psm), width, height),
    )
