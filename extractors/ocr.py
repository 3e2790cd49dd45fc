"""Images → Layout with Tesseract (grayscale in, words with boxes and confidences out)."""

from __future__ import annotations

import os
from pathlib import Path

import pytesseract
from PIL import Image, ImageOps, UnidentifiedImageError

from rekey.errors import BadDocument
from rekey.models import Box, Layout, Page, Word

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
MAX_PIXELS = 60_000_000  # ~ an A0 page at 300 dpi; larger images are refused before decoding
DEFAULT_LANG = "eng"


def image_to_page(number: int, image: Image.Image, lang: str = DEFAULT_LANG) -> Page:
    gray = ImageOps.grayscale(image)
    width, height = gray.size
    try:
        data = pytesseract.image_to_data(gray, lang=lang, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError as exc:
        raise BadDocument(f"OCR failed on page {number}: {exc}") from exc
    words = [
        Word(
            text=text,
            box=Box(
                x0=left / width,
                y0=top / height,
                x1=min(1.0, (left + w) / width),
                y1=min(1.0, (top + h) / height),
            ),
            confidence=max(0.0, float(conf)) / 100,
            source="ocr",
        )
        for text, left, top, w, h, conf in zip(
            data["text"],
            data["left"],
            data["top"],
            data["width"],
            data["height"],
            data["conf"],
            strict=True,
        )
        if text.strip()
    ]
    return Page(number=number, width=width, height=height, words=words)


def image_to_layout(path: Path) -> Layout:
    """Every frame of an image file (multi-page TIFF included) as an OCR'd page."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise BadDocument(
                    f"the image is {image.width}×{image.height} pixels, larger than rekey reads"
                )
            pages = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                pages.append(image_to_page(index + 1, image.copy()))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise BadDocument(f"the image cannot be read ({exc!s:.120})") from exc
    return Layout(pages=pages)
