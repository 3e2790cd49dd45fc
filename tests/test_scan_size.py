"""A scan is read at the size of its text, not at the size its file's DPI tag claims: the
same form saved as a PNG with no DPI tag at 100 to 300 dpi gives the fields of the tagged
original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image

from extractors import textsize
from extractors.engine import extract_source
from extractors.registry import read_document
from extractors.templates import load_templates
from rekey.settings import PROJECT_ROOT, Settings

FORM = PROJECT_ROOT / "samples" / "inbox" / "claim-11.pdf"


def page_png(dpi: int, target: Path, tagged: bool) -> Path:
    """Page 1 of the sample claim as a grayscale PNG scanned at ``dpi``."""
    pdf = pypdfium2.PdfDocument(str(FORM))
    try:
        image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    if tagged:
        image.save(target, dpi=(dpi, dpi))
    else:
        image.save(target)
    return target


def fields_of(path: Path) -> dict[str, str | None]:
    templates = load_templates(Settings().templates_dir).values()
    found = extract_source(read_document(path), templates)
    assert found.template is not None, path.name
    return {name: field.value for name, field in found.fields.items()}


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    return fields_of(page_png(300, tmp_path_factory.mktemp("tagged") / "form.png", tagged=True))


@pytest.mark.parametrize("dpi", [100, 150, 200, 300])
def test_an_untagged_png_reads_as_the_tagged_original(
    dpi: int, original: dict[str, str | None], tmp_path: Path
) -> None:
    path = page_png(dpi, tmp_path / f"form-{dpi}.png", tagged=False)
    assert "dpi" not in Image.open(path).info
    assert fields_of(path) == original
    assert sum(v is not None for v in original.values()) >= 8  # the page's fields were read


def test_text_size_is_measured_from_the_image(tmp_path: Path) -> None:
    small = np.asarray(Image.open(page_png(100, tmp_path / "small.png", tagged=False)))
    large = np.asarray(Image.open(page_png(300, tmp_path / "large.png", tagged=False)))
    cap_small, cap_large = textsize.cap_height(small), textsize.cap_height(large)
    assert cap_small is not None and cap_large is not None
    assert 2.5 < cap_large / cap_small < 3.5  # three times the dpi, three times the text
    enlarged = textsize.SMALLEST_CAP_PX / cap_small
    assert textsize.scale_for(cap_small, 300, "none") == round(enlarged, 3)  # the text decides
    assert textsize.scale_for(cap_small, 300, "tag") == round(enlarged, 3)  # a belied tag too
    assert textsize.scale_for(cap_large * 2, 600, "none") == round(30 / (cap_large * 2), 3)
    assert textsize.scale_for(cap_large, 300, "none") == 1.0  # already a size Tesseract reads
    assert textsize.scale_for(cap_large, 200, "tag") == 1.5  # a tag the text agrees with
    assert textsize.scale_for(None, 150, "none") == 2.0  # nothing to measure: the tag decides
    assert textsize.scale_for(cap_small, 300, "rendered") == 1.0  # a PDF's DPI is exact
