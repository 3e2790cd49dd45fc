"""A passport's MRZ read again from its band alone, at the text size Tesseract reads best,
whatever size the page draws it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors.locators import Doc
from extractors.mrz import (
    BAND_CAP_PX,
    Lines,
    aligned_read,
    checks_pass,
    doubt_of,
    read_band,
    read_lines,
)
from extractors.ocr import ocr_page
from rekey.models import Layout
from samples.corpus.fonts import MONO, font_file

LINE1 = "P<GBRCOX<MARTIN<<JAMIE" + "<" * 22
LINE2 = "5GT4F1MYG8GBR6503031F2805210<<<<<<<<<<<<<<<0"


def mrz_page(size: int) -> np.ndarray:
    """The two MRZ lines in the corpus's monospace face at ``size`` points, on a page with a
    margin of paper around them."""
    font = ImageFont.truetype(str(font_file(MONO)), size)
    width = int(font.getlength(LINE1)) + 4 * size
    page = Image.new("L", (width, 5 * size), 245)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate((LINE1, LINE2)):
        draw.text((2 * size, size + i * int(1.6 * size)), line, font=font, fill=10)
    return np.asarray(page)


@pytest.mark.parametrize("size", [36, 60, 90])
def test_band_reads_line_two_at_any_size(size: int) -> None:
    gray = mrz_page(size)
    page = ocr_page(1, gray)
    doc = Doc(layout=Layout(pages=[page]), image=lambda number: gray)
    found = read_lines(doc, None)
    assert found is not None, f"no MRZ found in the page drawn at {size} pt"
    assert found.line2 == LINE2 and checks_pass(found.line2)
    again = read_band(gray, found.words, BAND_CAP_PX[0])
    assert again is not None and aligned_read(LINE1, again)[1] == LINE2


def test_a_band_reading_the_page_contradicts_is_not_vouched_for() -> None:
    """Two slips whose weights cancel pass every check digit (``KG3JZP505`` read as
    ``KG33ZP5O5``): when the page's own line 2 passes too and differs, neither is
    trusted."""
    page = "KG3JZP5054USA6508232M3409143<<<<<<<<<<<<<<<0"
    band = "KG33ZP5O54USA6508232M3409143<<<<<<<<<<<<<<<0"
    assert checks_pass(page) and checks_pass(band)
    taken = Lines(LINE1, band, [], 1)
    assert doubt_of(taken) is None
    doubt = doubt_of(taken._replace(rival=page))
    assert doubt == f"check digits pass for two readings of line 2: {band}, {page}"
