"""A document opened for extraction: text-layer pages as words, scanned pages as prepared
(upright, straightened, cleaned) images waiting for OCR.

A PDF page with a text layer is read by pdfplumber; one without goes to OCR, so mixed PDFs
work. Images (PNG, JPEG, multi-page TIFF) are all scanned pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from extractors import orientation, preprocess, raster, stamps, textsize
from extractors.pdf import acroform_values, text_pages
from extractors.sniff import media_type
from rekey.models import Page, Registration

RASTER_DPI = 200  # for looking at digital pages (checkboxes, signatures, pictures)


@dataclass(frozen=True)
class ScannedPage:
    number: int
    gray: np.ndarray  # prepared: text at Tesseract's size, upright, straightened
    rotation: int
    skew: float
    scale: float = 1.0  # the resampling applied to the file's pixels
    steps: tuple[str, ...] = ()  # the clean-up steps the page's measures called for
    registration: Registration | None = None  # brought onto its template's blank
    filled: np.ndarray | None = None  # registered, with the blank's print dropped out


def prepare(image: raster.PageImage) -> ScannedPage:
    """Scale from the text's own size (the file's DPI is only a hint), clean only what the
    page needs, turn it upright, straighten it, lift a stamp.

    A page of known provenance (a PDF page rendered here, an image whose DPI tag its text
    agrees with) gets the clean-up chain and orientation rules the corpus figures were
    measured with; an image of unknown resolution (no tag, or a wrong one: phone photos,
    screenshots, most office scans) gets only the steps measured to help on real scans of
    that kind (FUNSD), and is turned only on strong evidence."""
    cap = textsize.cap_height(image.gray)
    scale, unknown = textsize.scaling(cap, image.dpi, image.dpi_from)
    gray = textsize.resample(image.gray, scale)
    gray, steps = preprocess.clean(gray, unknown, cap * scale if cap else textsize.TARGET_CAP_PX)
    turn = orientation.upright_turn(gray, strict=unknown)
    gray = preprocess.quarter_turn(gray, turn)
    gray, skew = preprocess.straighten(gray)
    lifted = stamps.without_stamp(gray)
    steps = [*steps, "stamp lifted"] if lifted is not gray else steps
    return ScannedPage(image.number, lifted, turn, skew, scale, tuple(steps))


@dataclass
class Source:
    path: Path
    media_type: str
    page_count: int
    text: dict[int, Page] = field(default_factory=dict)  # pages with a text layer
    scanned: dict[int, ScannedPage] = field(default_factory=dict)
    acroform: dict[str, str] = field(default_factory=dict)
    _rendered: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def numbers(self) -> list[int]:
        return list(range(1, self.page_count + 1))

    def image(self, number: int) -> np.ndarray:
        """The page as a grayscale image: the prepared scan, or the digital page rendered."""
        if number in self.scanned:
            return self.scanned[number].gray
        if number not in self._rendered:
            self._rendered[number] = raster.render_page(self.path, number, RASTER_DPI).gray
        return self._rendered[number]

    def registered(
        self, number: int, fit: Registration, gray: np.ndarray, filled: np.ndarray
    ) -> None:
        """Record how a scanned page registered to its blank; when it did well, the page
        in the blank's frame, and what was filled in on it (for its zones)."""
        page = self.scanned[number]
        self.scanned[number] = replace(page, gray=gray, filled=filled, registration=fit)

    def zone_image(self, number: int) -> np.ndarray:
        """What a page's zones are read from: what was filled in on a registered scan, else
        the page itself."""
        scan = self.scanned.get(number)
        return scan.filled if scan is not None and scan.filled is not None else self.image(number)

    def turn(self, number: int, degrees: int) -> None:
        """Turn a scanned page clockwise by a multiple of 90° (its first reading showed it
        was not upright after all)."""
        page = self.scanned[number]
        self.scanned[number] = replace(
            page,
            gray=preprocess.quarter_turn(page.gray, degrees % 360),
            rotation=(page.rotation + degrees) % 360,
        )

    @cached_property
    def digital_text(self) -> str:
        return "\n".join(page.text for page in self.text.values())


def open_source(path: Path, kind: str | None = None) -> Source:
    """Open a PDF or image for extraction (``kind`` if already sniffed); BadDocument when it
    cannot be read."""
    kind = kind or media_type(path)
    if kind == "application/pdf":
        pages, count, missing = text_pages(path)
        scanned = (
            {image.number: prepare(image) for image in raster.pdf_pages(path, pages=missing)}
            if missing
            else {}
        )
        return Source(path, kind, count, pages, scanned, acroform_values(path))
    images = [prepare(image) for image in raster.image_pages(path)]
    return Source(path, kind, len(images), scanned={p.number: p for p in images})
