"""Pages as grayscale images: PDFs rasterised with pypdfium2, image files frame by frame.

Sizes are checked before anything is decoded, so a decompression bomb (a small file that
declares a huge image) is refused without allocating it.

PDFium is not thread-safe, and documents are read on several threads at once (a folder's
documents are fanned out): every call into it, closing included, holds :data:`PDFIUM`, and
nothing of it is left for the garbage collector to close on some other thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

from rekey.errors import BadDocument

TARGET_DPI = 300
MAX_PIXELS = 80_000_000  # ~ A0 at 300 dpi; anything larger is refused unread
MIN_SIDE = 32  # pixels: a page smaller than this holds no document (and breaks resampling)
MAX_PAGES = 100
DEFAULT_IMAGE_DPI = 300
PDFIUM = threading.RLock()


@dataclass(frozen=True)
class PageImage:
    number: int  # 1-based
    gray: np.ndarray  # uint8, H×W
    dpi: float
    dpi_from: str = "rendered"  # "rendered" (exact: a PDF page), "tag" or "none" (a guess)


def _check_pixels(width: float, height: float, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise BadDocument(
            f"{what} is {int(width)}×{int(height)} pixels, more than rekey reads "
            f"({MAX_PIXELS // 1_000_000} megapixels); it may be a decompression bomb"
        )
    if min(width, height) < MIN_SIDE:
        raise BadDocument(
            f"{what} is {int(width)}×{int(height)} pixels, too small to hold a document "
            f"(rekey reads pages of at least {MIN_SIDE}×{MIN_SIDE}); scan it again"
        )


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        with PDFIUM:
            return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise BadDocument("the PDF is encrypted and needs a password") from exc
        raise BadDocument(f"the PDF cannot be opened ({exc})") from exc


def close_pdf(pdf: pdfium.PdfDocument) -> None:
    with PDFIUM:
        pdf.close()


def render_pdf_page(pdf: pdfium.PdfDocument, index: int, dpi: float = TARGET_DPI) -> PageImage:
    with PDFIUM:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scale = dpi / 72
            _check_pixels(width * scale, height * scale, f"page {index + 1}")
            bitmap = page.render(scale=scale, grayscale=True)
            try:
                pixels = bitmap.to_numpy()
                gray = np.array(pixels[..., 0] if pixels.ndim == 3 else pixels)
            finally:
                bitmap.close()
        finally:
            page.close()
    return PageImage(index + 1, gray, dpi)


def render_page(path: Path, number: int, dpi: float = TARGET_DPI) -> PageImage:
    """Page *number* (1-based) of the PDF at *path*, opened and closed for it."""
    pdf = open_pdf(path)
    try:
        return render_pdf_page(pdf, number - 1, dpi)
    finally:
        close_pdf(pdf)


def pdf_pages(
    path: Path, dpi: float = TARGET_DPI, pages: list[int] | None = None
) -> Iterator[PageImage]:
    pdf = open_pdf(path)
    try:
        with PDFIUM:
            count = len(pdf)
        if count > MAX_PAGES:
            raise BadDocument(f"the PDF has {count} pages, more than rekey reads ({MAX_PAGES})")
        for index in range(count):
            if pages is None or index + 1 in pages:
                yield render_pdf_page(pdf, index, dpi)
    finally:
        close_pdf(pdf)


def _image_dpi(image: Image.Image) -> tuple[float, str]:
    """The image's DPI tag and ``"tag"``, or the default and ``"none"`` when it has none."""
    dpi = image.info.get("dpi")
    if dpi and dpi[0] and float(dpi[0]) >= 50:
        return float(dpi[0]), "tag"
    return DEFAULT_IMAGE_DPI, "none"


def image_pages(path: Path) -> Iterator[PageImage]:
    """Every frame of a PNG, JPEG or (multi-page) TIFF, as grayscale."""
    try:
        with Image.open(path) as image:  # reads the header only
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_PAGES:
                raise BadDocument(f"the image has {frames} pages, more than rekey reads")
            for index in range(frames):
                image.seek(index)
                _check_pixels(image.width, image.height, f"page {index + 1}")
                gray = np.asarray(image.convert("L"))
                yield PageImage(index + 1, gray, *_image_dpi(image))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise BadDocument(f"the image cannot be read ({exc!s:.120})") from exc
