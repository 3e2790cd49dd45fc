from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from extractors.classify import matches
from extractors.engine import classify_source, extract_source, header_page
from extractors.normalise import NormaliseError, date_iso, money
from extractors.preprocess import print_top
from extractors.registry import read_document
from extractors.sniff import media_type
from extractors.templates import load_templates
from rekey.errors import BadDocument, ConfigError
from rekey.settings import PROJECT_ROOT

SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"

TEMPLATES = PROJECT_ROOT / "samples" / "templates"


def as_value(truth: object) -> str:
    """A truth value as rekey writes field values: ticks as true/false, tables as JSON."""
    if isinstance(truth, bool):
        return "true" if truth else "false"
    if isinstance(truth, list):
        return json.dumps(truth, ensure_ascii=False)
    return str(truth)


def truth_of(pdf: Path) -> dict:
    return json.loads(pdf.with_suffix(".truth.json").read_text())


def test_digital_claims_read_exactly_as_printed(sample_pdfs: list[Path]) -> None:
    assert len(sample_pdfs) >= 3
    templates = load_templates(TEMPLATES)
    for pdf in sample_pdfs:
        result = extract_source(read_document(pdf), templates.values())
        assert result.template is not None and result.template.doc_type == "claim"
        fields = result.fields
        truth = truth_of(pdf)["fields"]
        for name, field in fields.items():
            assert field.value == as_value(truth[name]), (pdf.name, name)
            assert field.confident, (pdf.name, name)
            assert field.page in (1, 2) and field.box is not None
            assert 0 <= field.box.x0 < field.box.x1 <= 1


def test_words_carry_page_relative_boxes_and_source(sample_pdfs: list[Path]) -> None:
    layout = extract_source(read_document(sample_pdfs[0]), []).layout
    assert [p.number for p in layout.pages] == [1, 2]
    word = next(w for w in layout.pages[0].words if w.text == "Policy")
    assert word.source == "text"
    assert 0 < word.box.x0 < 0.2 and 0 < word.box.y0 < 0.3


def test_unknown_layout_is_not_classified(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    pdf = tmp_path / "letter.pdf"
    canvas = Canvas(str(pdf))
    canvas.drawString(72, 720, "Dear customer, thank you for your letter of complaint.")
    canvas.save()
    result = extract_source(read_document(pdf), load_templates(TEMPLATES).values())
    assert result.template is None and result.fields == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"Dear Sir or Madam,\nplease find my claim attached.\n", "plain text"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "executable"),
    ],
)
def test_files_that_are_not_documents_say_what_they_are(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "claim.pdf"
    path.write_bytes(content)
    with pytest.raises(BadDocument, match=message):
        media_type(path)


def test_truncated_pdf_is_a_bad_document(tmp_path: Path, sample_pdfs: list[Path]) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(sample_pdfs[0].read_bytes()[:700])
    with pytest.raises(BadDocument):
        read_document(path)


def test_template_with_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "doc_type: claim\nkeywords: [x]\nfields:\n"
        "  policy_number:\n    locators: [{kind: label, text: 'Policy', colour: red}]\n"
    )
    with pytest.raises(ConfigError) as err:
        load_templates(tmp_path)
    assert "broken.yaml" in str(err.value)
    assert "fields.policy_number.locators.0.label.colour" in str(err.value)


@pytest.mark.parametrize(
    ("name", "text", "names"),
    [
        (  # a regex that does not compile
            "regex.yaml",
            "doc_type: claim\nkeywords: [x]\nfields:\n"
            "  policy_number:\n    locators: [{kind: regex, pattern: 'POL-(\\d+'}]\n",
            r"regex\.yaml: fields\.policy_number\.locators\.0",
        ),
        (  # a zone layout Tesseract is not given
            "zones.yaml",
            "doc_type: w9\nkeywords: [x]\nzone_psm: 7\nfields:\n"
            "  name:\n    locators: [{kind: region, boxes: [[0.1, 0.1, 0.9, 0.2]]}]\n",
            r"zones\.yaml: zone_psm",
        ),
        (  # a box whose corners are the wrong way round
            "box.yaml",
            "doc_type: w9\nkeywords: [x]\nfields:\n"
            "  name:\n    locators: [{kind: region, boxes: [[0.9, 0.1, 0.1, 0.2]]}]\n",
            r"box\.yaml: fields\.name\.locators\.0\.region\.boxes",
        ),
        (  # a closed list rekey does not keep
            "list.yaml",
            "doc_type: claim\nkeywords: [x]\nfields:\n"
            "  nationality:\n    values_from: planets\n"
            "    locators: [{kind: label, text: 'Nationality:'}]\n",
            r"list\.yaml: fields\.nationality\.values_from",
        ),
    ],
)
def test_template_with_a_bad_value_fails_at_load_naming_file_and_key(
    tmp_path: Path, name: str, text: str, names: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=names):
        load_templates(tmp_path)


@pytest.mark.parametrize(
    ("printed", "value"),
    [("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("€ 99.00", "99.00"), ("12,5", "12.50")],
)
def test_money_reads_either_thousands_convention(printed: str, value: str) -> None:
    assert money(printed) == value


def test_dates_become_iso_or_refuse() -> None:
    assert date_iso("21/10/2026") == "2026-10-21"
    assert date_iso("12 March 2025") == "2025-03-12"
    with pytest.raises(NormaliseError):
        date_iso("soon")


def test_explain_prints_fields_and_draws_boxes(tmp_path: Path, sample_pdfs: list[Path]) -> None:
    from PIL import Image
    from typer.testing import CliRunner

    from rekey.cli import app

    result = CliRunner().invoke(
        app, ["explain", str(sample_pdfs[0]), "--out", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    truth = truth_of(sample_pdfs[0])["fields"]
    assert truth["policy_number"] in result.output and "label 'Policy number:'" in result.output
    pictures = sorted(tmp_path.glob("page-*.png"))
    assert [p.name for p in pictures] == ["page-1.png", "page-2.png"]
    page = Image.open(pictures[0]).convert("RGB")
    green = sum(1 for r, g, b in page.getdata() if g > 120 and r < 80 and b < 80)
    assert green > 1000  # the confident fields' boxes are drawn


def test_explain_with_forced_template_and_unknown_template(
    tmp_path: Path, sample_pdfs: list[Path]
) -> None:
    from typer.testing import CliRunner

    from rekey.cli import app

    runner = CliRunner()
    forced = runner.invoke(
        app, ["explain", str(sample_pdfs[0]), "--template", "claim", "--out", str(tmp_path)]
    )
    assert forced.exit_code == 0, forced.output
    unknown = runner.invoke(app, ["explain", str(sample_pdfs[0]), "--template", "nope"])
    assert unknown.exit_code != 0 and "no template 'nope'" in unknown.output


def test_keywords_are_found_through_ocr_slips() -> None:
    templates = load_templates(PROJECT_ROOT / "samples" / "templates")
    chinese = templates["claim_cn"]
    assert matches("表 FRK-CLM-CN-T 第 1 页", chinese)  # a "1" read as "T"
    assert not matches("Insurance Claim Form RK-CLM-1", chinese)
    exact = chinese.model_copy(update={"keyword_match": 100.0})
    assert not matches("表 FRK-CLM-CN-T 第 1 页", exact)
    passport = templates["passport"]
    assert not matches("PASSPORT attached to the Insurance Claim Form", passport)  # excluded


def test_an_alternative_set_of_keywords_is_enough_and_chinese_is_read_without_gaps() -> None:
    chinese = load_templates(PROJECT_ROOT / "samples" / "templates")["claim_cn"]
    assert matches("保险 理赔 申请 表 一 、 保 单 及 申请 人 信息", chinese)  # the title alone
    assert not matches("保险 理赔 表 一 、 保 单", chinese)


def test_a_chinese_form_whose_number_cannot_be_read_is_known_by_its_title() -> None:
    path = SMALL / "0006-claim_cn-clean_scan.tiff"
    templates = list(load_templates(PROJECT_ROOT / "samples" / "templates").values())
    source = read_document(path, media_type(path))
    page = source.scanned[1]
    gray = page.gray.copy()
    height, width = gray.shape
    gray[: print_top(gray) + int(height * 0.05), width // 2 :] = 255  # the number, top right
    source.scanned[1] = replace(page, gray=gray)
    chinese = next(t for t in templates if t.doc_type == "claim_cn")
    assert not matches(header_page(source, 1).text, chinese)  # read as Latin: no keyword
    template, _ = classify_source(source, templates)
    assert template is not None and template.doc_type == "claim_cn"


def test_a_sideways_scan_the_orientation_check_missed_is_still_classified() -> None:
    path = SMALL / "0006-claim_cn-clean_scan.tiff"
    templates = load_templates(PROJECT_ROOT / "samples" / "templates").values()
    source = read_document(path, media_type(path))
    upright = source.scanned[1].rotation
    source.turn(1, 90)  # as if the page had been left a quarter turn off
    template, _ = classify_source(source, templates)
    assert template is not None and template.doc_type == "claim_cn"
    assert source.scanned[1].rotation % 180 == upright % 180  # read the right way up


def test_pages_render_the_same_from_several_threads_at_once() -> None:
    """PDFium is not thread-safe; a folder's documents are read on several threads."""
    from concurrent.futures import ThreadPoolExecutor

    from extractors.raster import render_page

    pdfs = sorted(SMALL.glob("*.pdf"))
    alone = {pdf: render_page(pdf, 1, dpi=60).gray for pdf in pdfs}
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda pdf: (pdf, render_page(pdf, 1, dpi=60).gray), pdfs * 6))
    assert len(together) == len(pdfs) * 6
    assert all((gray == alone[pdf]).all() for pdf, gray in together)
