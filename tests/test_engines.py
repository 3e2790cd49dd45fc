"""The two OCR engines behind one interface: Tesseract run by pytesseract (a process per call,
the default) and in-process (tesserocr). Both real, on a real form and real scans."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2
import pytest

from extractors import engines, ocr, preprocess
from extractors.engine import extract_source
from extractors.registry import read_document
from extractors.templates import load_templates
from rekey.errors import ConfigError
from rekey.settings import PROJECT_ROOT, Settings

FORM = PROJECT_ROOT / "samples" / "inbox" / "claim-11.pdf"
ENGINES = ("pytesseract", "tesserocr")


def page_gray(dpi: int) -> np.ndarray:
    pdf = pypdfium2.PdfDocument(str(FORM))
    try:
        return np.asarray(pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def scanned_claim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    target = tmp_path_factory.mktemp("claim") / "claim.png"
    Image.fromarray(page_gray(300)).save(target, dpi=(300, 300))
    return target


def test_an_unknown_engine_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="unknown OCR engine 'tesseract-9'"):
        engines.engine("tesseract-9")


def test_the_setting_chooses_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REKEY_OCR_ENGINE", "tesserocr")
    ocr.settings_engine.cache_clear()
    try:
        assert ocr.configured_engine().name == "tesserocr"
        with ocr.using_engine("pytesseract") as chosen:
            assert ocr.configured_engine() is chosen
        assert ocr.configured_engine().name == "tesserocr"
    finally:
        ocr.settings_engine.cache_clear()


def test_both_engines_extract_the_same_fields_from_a_scanned_claim(scanned_claim: Path) -> None:
    templates = list(load_templates(Settings().templates_dir).values())
    found = {}
    for name in ENGINES:
        with ocr.using_engine(name):
            extraction = extract_source(read_document(scanned_claim), templates)
        assert extraction.template is not None and extraction.template.doc_type == "claim"
        found[name] = {n: f.value for n, f in extraction.fields.items()}
    assert found["tesserocr"] == found["pytesseract"]
    assert sum(v is not None for v in found["pytesseract"].values()) >= 8


def test_both_engines_read_words_with_boxes_and_a_character_list() -> None:
    gray = page_gray(300)
    for name in ENGINES:
        words = engines.engine(name).words(gray, "eng", 3, None)
        assert len(words) > 50, name
        assert all(0 <= w.confidence <= 1 and w.width > 0 and w.height > 0 for w in words)
        digits = engines.engine(name).words(gray, "eng", 3, "0123456789")
        assert digits and all(w.text.isdigit() for w in digits), name


def test_both_engines_see_a_page_turned_sideways() -> None:
    turned = preprocess.quarter_turn(page_gray(150), 90)
    for name in ENGINES:
        found = engines.engine(name).orientation(turned)
        assert found is not None, name
        assert found[0] == 270 and found[1] > 1.0, (name, found)
