"""PDF text layers with pdfplumber, and AcroForm values with pypdf."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import PdfminerException
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from extractors.raster import MAX_PAGES
from rekey.errors import BadDocument
from rekey.models import Box, Layout, Page, Word

MIN_WORDS_FOR_TEXT_LAYER = 3


def words_to_page(number: int, width: float, height: float, words: list[dict]) -> Page:
    return Page(
        number=number,
        width=width,
        height=height,
        words=[
            Word(
                text=w["text"],
                box=Box(
                    x0=max(0.0, w["x0"] / width),
                    y0=max(0.0, w["top"] / height),
                    x1=min(1.0, w["x1"] / width),
                    y1=min(1.0, w["bottom"] / height),
                ),
                confidence=1.0,
                source="text",
            )
            for w in words
            if w["text"].strip()
        ],
    )


def check_size(number: int, width: float, height: float) -> None:
    """A page with no area (a zero or inverted MediaBox) holds nothing rekey can place."""
    if not (width >= 1 and height >= 1):
        raise BadDocument(
            f"the PDF's page {number} has no size ({width:g}×{height:g} points: its MediaBox "
            "is empty); it cannot be read: scan or export it again"
        )


def text_pages(path: Path) -> tuple[dict[int, Page], int, list[int]]:
    """The pages with a text layer, the page count, and the numbers of the pages without."""
    try:
        with pdfplumber.open(path) as pdf:
            count = len(pdf.pages)
            if count > MAX_PAGES:
                raise BadDocument(f"the PDF has {count} pages, more than rekey reads ({MAX_PAGES})")
            pages, missing = {}, []
            for page in pdf.pages:
                check_size(page.page_number, float(page.width), float(page.height))
                words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
                if len(words) >= MIN_WORDS_FOR_TEXT_LAYER:
                    pages[page.page_number] = words_to_page(
                        page.page_number, float(page.width), float(page.height), words
                    )
                else:
                    missing.append(page.page_number)
    except (PdfminerException, PDFSyntaxError) as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise BadDocument("the PDF is encrypted and needs a password") from exc
        raise BadDocument(f"the PDF is damaged or truncated ({cause!s:.120})") from exc
    if count == 0:
        raise BadDocument("the PDF has no pages")
    return pages, count, missing


def acroform_values(path: Path) -> dict[str, str]:
    """Filled AcroForm fields by their full name; empty and unticked fields are left out."""
    try:
        fields = PdfReader(path).get_fields() or {}
    except PdfReadError:
        return {}
    values = {}
    for name, field in fields.items():
        value = field.get("/V")
        if value not in (None, "", "/Off"):
            values[name] = str(value).lstrip("/")
    return values


def pdf_to_layout(path: Path) -> Layout:
    """The text layer of every page that has one (pages without are left to OCR)."""
    pages, _, _ = text_pages(path)
    return Layout(pages=list(pages.values()), acroform=acroform_values(path))
