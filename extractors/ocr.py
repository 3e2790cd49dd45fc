"""Tesseract, called as few times as possible, on grayscale images.

With the default engine each call starts a process and loads the model (~135 ms here), so
callers batch: a whole page in one call, or all of a template's zones stitched into one
image (:mod:`extractors.zonal`). The engine is the setting ``ocr_engine``
(:mod:`extractors.engines`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

from extractors.engines import Engine, RawWord, engine
from rekey.models import Box, Page, Word
from rekey.settings import Settings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
DEFAULT_LANG = "eng"

__all__ = [
    "DEFAULT_LANG",
    "RawWord",
    "configured_engine",
    "ocr_page",
    "tesseract",
    "to_words",
    "using_engine",
]
_chosen = threading.local()  # per thread: engines chosen for a while (using_engine)


@cache
def settings_engine() -> Engine:
    """The engine the settings name (read once per process)."""
    return engine(Settings().ocr_engine)


def _stack() -> list[Engine]:
    """This thread's engines chosen for a while, innermost last."""
    return _chosen.__dict__.setdefault("stack", [])


def configured_engine() -> Engine:
    return _stack()[-1] if _stack() else settings_engine()


@contextmanager
def using_engine(name: str) -> Iterator[Engine]:
    """Read with the engine ``name`` inside the block, in this thread, whatever the
    settings say."""
    _stack().append(engine(name))
    try:
        yield _stack()[-1]
    finally:
        _stack().pop()


def tesseract(
    gray: np.ndarray, lang: str = DEFAULT_LANG, psm: int = 3, chars: str | None = None
) -> list[RawWord]:
    """The words Tesseract reads on ``gray`` (``chars``: only these characters may be read)."""
    return configured_engine().words(gray, lang, psm, chars)


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
