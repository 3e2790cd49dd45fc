"""A second engine (PP-OCR by ONNX Runtime) reads scanned pages again and judges each field:
alike is evidence, a difference is never trusted, and what only it reads fills a gap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from benchmarks.scoring import FieldScore, score_fields
from extractors.crosscheck import (
    ENGINES,
    judged_by_both,
    letters,
    lifted,
    same_place,
    table_judged,
)
from extractors.engine import extract_source
from extractors.engines import line_words
from extractors.extract import DISAGREEMENT_CONFIDENCE
from extractors.ocr import ocr_page, using_engine
from extractors.registry import read_document
from extractors.templates import FieldSpec, Template, load_templates
from rekey.models import Box, Field, Truth
from rekey.settings import PROJECT_ROOT
from samples.corpus import generate
from samples.corpus.fonts import font_file

TEMPLATES = PROJECT_ROOT / "samples" / "templates"
LINE = Box(x0=0.3, y0=0.20, x1=0.5, y1=0.22)


def read(value: str | None, box: Box = LINE, confidence: float = 0.9) -> Field:
    return Field(
        name="f", value=value, confidence=confidence, box=box, evidence="scan/typed", how="read"
    )


def spec(doc_type: str, name: str) -> FieldSpec:
    return load_templates(TEMPLATES)[doc_type].fields[name]


def test_a_line_read_character_by_character_becomes_words_as_tesseract_gives_them() -> None:
    chars = list("保单号：POL-1 ab")
    boxes = [[[i * 10, 0], [i * 10 + 9, 0], [i * 10 + 9, 20], [i * 10, 20]] for i in range(14)]
    scores = [0.9] * 14
    scores[6] = 0.4
    words = line_words(chars, boxes, scores)
    assert [w.text for w in words] == ["保", "单", "号", "：", "POL-1", "ab"]
    assert words[4].confidence == 0.4 and words[4].left == 40 and words[4].width == 49


def test_two_engines_alike_is_evidence_of_its_own_unless_check_digits_vouch_already() -> None:
    date = spec("claim", "date_of_loss")
    alike = judged_by_both(date, read("2026-03-04"), read("04/03/2026"))
    assert alike.evidence == f"scan/{ENGINES}" and "alike" in alike.how
    checked = read("2026-03-04").model_copy(update={"evidence": "scan/checked"})
    assert judged_by_both(date, checked, read("2026-03-04")) == checked


def test_a_difference_is_never_trusted_and_names_the_other_reading() -> None:
    amount = spec("claim", "amount_claimed")
    differs = judged_by_both(amount, read("4975.72"), read("40975.72"))
    assert differs.value == "4975.72" and differs.confidence <= DISAGREEMENT_CONFIDENCE
    assert "'40975.72'" in differs.how
    leads = judged_by_both(amount, read("4975.72"), read("40975.72"), leads=True)
    assert leads.value == "40975.72" and leads.confidence == DISAGREEMENT_CONFIDENCE
    assert "first read '4975.72'" in leads.how


def test_spaces_and_stops_the_other_engine_drops_are_alike_diacritics_and_order_no_opinion() -> (
    None
):
    place = spec("w9", "city_state_zip")
    spaced = judged_by_both(place, read("Tamarafurt, GU 78487"), read("Tamarafurt GU78487"))
    assert spaced.evidence == f"scan/{ENGINES}" and spaced.value == "Tamarafurt, GU 78487"
    email = spec("claim", "email")
    stop = judged_by_both(email, read("j.jones@example.net"), read("jjones@example.net"))
    assert stop.confidence <= DISAGREEMENT_CONFIDENCE
    name = spec("claim", "claimant_name")
    first = read("Jürgen Müller-Lüdenscheid")
    assert judged_by_both(name, first, read("Jurgen Muller-Ludenscheid")) == first
    assert judged_by_both(name, first, read("Muller-Ludenscheid Jurgen")) == first
    assert judged_by_both(name, first, read("Jurgen Muller-Ludensched")).confidence <= 0.5
    assert letters("+44 114 496") == letters("+44114496")


def test_alike_lifts_an_unsure_reading_towards_the_other_engines_unless_a_doubt_is_named() -> None:
    place = spec("claim_cn", "place_of_loss")
    unsure = judged_by_both(place, read("上海市浦东新区", confidence=0.49), read("上海市浦东新区"))
    assert unsure.confidence == pytest.approx(lifted(0.49, 0.9)) and unsure.confidence > 0.6
    assert "(90%)" in unsure.how
    assert lifted(0.01, 0.99) < 0.1  # nearly sure it was wrong: agreeing does not settle it
    assert lifted(0.95, 0.5) == 0.95  # never lowered
    doubted = read("Laptop stolen", confidence=0.5).model_copy(update={"doubt": "differs"})
    kept = judged_by_both(spec("claim", "loss_description"), doubted, read("Laptop stolen."))
    assert kept.confidence == 0.5 and kept.evidence == f"scan/{ENGINES}"


def test_diacritics_a_second_model_added_keep_their_evidence_when_the_letters_are_seconded() -> (
    None
):
    name = spec("claim", "claimant_name")
    lettered = read("Jürgen Müller", confidence=0.55).model_copy(
        update={"evidence": "scan/letters"}
    )
    seconded = judged_by_both(name, lettered, read("Jurgen Muller", confidence=0.96))
    assert seconded.evidence == "scan/letters" and seconded.confidence > 0.7
    assert "letters alike" in seconded.how
    assert judged_by_both(name, lettered, read("Muller Jurgen")) == lettered  # order: none


def test_a_table_is_alike_cell_by_cell_and_a_difference_gives_no_opinion() -> None:
    rows = '[{"date": "2026-10-05", "cpt": "99203", "charge": "487.07"}]'
    table = read(rows, confidence=0.7).model_copy(update={"evidence": "scan/table"})
    same = table_judged(table, read(rows.replace("487.07", "487,07"), confidence=0.98))
    assert same.evidence == f"scan/{ENGINES}" and same.confidence > 0.7
    assert table_judged(table, read(rows.replace("99203", "99208"))) == table
    assert table_judged(table, read("[]")) == table and table_judged(table, read(None)) == table


def test_a_signature_found_by_the_same_caption_in_the_same_place_is_seconded() -> None:
    signature = spec("claim_cn", "signature")
    found = read("true", confidence=0.62).model_copy(update={"evidence": "scan/free"})
    seconded = judged_by_both(signature, found, read("true", confidence=0.97))
    assert seconded.evidence == f"scan/{ENGINES}" and seconded.confidence > 0.62
    below = Box(x0=0.3, y0=0.5, x1=0.5, y1=0.55)
    assert judged_by_both(signature, found, read("true", below)) == found


def test_a_reading_elsewhere_on_the_page_or_not_found_gives_no_opinion() -> None:
    name = spec("passport", "given_names")
    first = read("Ping")
    below = Box(x0=0.3, y0=0.23, x1=0.5, y1=0.25)  # the caption on the next line
    assert judged_by_both(name, first, read("Nationality", below)) == first
    assert judged_by_both(name, first, read(None)) == first
    assert same_place(LINE, Box(x0=0.45, y0=0.205, x1=0.6, y1=0.225))
    assert not same_place(LINE, below) and not same_place(LINE, None)


def test_a_first_reading_that_makes_no_sense_gives_way_to_one_that_does() -> None:
    date = spec("claim_cn", "date_of_loss")
    filled = judged_by_both(date, read("2026777 H 30H"), read("2026-07-30"))
    assert filled.value == "2026-07-30" and filled.confidence == DISAGREEMENT_CONFIDENCE
    assert "other engine only" in filled.how
    assert judged_by_both(date, read(None), read("2026-07-30")).value == "2026-07-30"


def test_the_other_engine_reads_chinese_and_latin_on_a_rendered_form() -> None:
    gray = np.full((160, 900), 255, np.uint8)
    font = ImageFont.truetype(str(font_file("Noto Sans CJK SC")), 44)
    image = Image.fromarray(gray)
    ImageDraw.Draw(image).text((20, 50), "保单号：POL-925358", fill=0, font=font)
    with using_engine("rapidocr"):
        page = ocr_page(1, np.asarray(image))
    texts = [w.text for w in page.words]
    assert texts[:3] == ["保", "单", "号"] and "POL-925358" in texts
    assert all(0 < w.confidence <= 1 for w in page.words)


@pytest.fixture(scope="module")
def faint_chinese_claims(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Truth]]:
    """Chinese claim forms printed and scanned at 100 dpi: Han characters about 11 pixels
    tall, where Tesseract's Chinese model reads few fields right."""
    folder = tmp_path_factory.mktemp("claims_cn")
    docs = []
    for index, seed in enumerate((500_104, 500_112)):
        doc = generate.DocSpec(index, "claim_cn", "print_scan", "png", seed, None)
        generate.build(doc, folder)
        truth = Truth.model_validate_json((folder / f"{doc.name}.truth.json").read_text())
        docs.append((folder / f"{doc.name}.png", truth))
    return docs


def scores_of(template: Template, docs: list[tuple[Path, Truth]]) -> list[FieldScore]:
    types = {n: s.type for n, s in template.fields.items()}
    scores = []
    for path, truth in docs:
        fields = extract_source(read_document(path), [template]).fields
        read = {n: {"value": f.value, "confidence": f.confidence, "confident": f.confident}
                for n, f in fields.items()}  # fmt: skip
        scores += score_fields(truth.fields, read, types)
    return scores


def test_small_chinese_print_is_read_better_with_the_other_engine_and_never_trusted_wrong(
    faint_chinese_claims: list[tuple[Path, Truth]],
) -> None:
    template = load_templates(TEMPLATES)["claim_cn"]
    assert template.other_engine == "leads"
    both = scores_of(template, faint_chinese_claims)
    alone = scores_of(template.model_copy(update={"other_engine": "off"}), faint_chinese_claims)
    assert not [(s.name, s.extracted, s.truth) for s in both if s.confident and not s.correct]
    # Tesseract alone reads about half of these fields right; with PP-OCR, most
    assert sum(s.correct for s in both) >= sum(s.correct for s in alone) + 6
    assert sum(s.correct for s in both) >= 0.75 * len(both)
