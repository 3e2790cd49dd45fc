"""Scans of the real W-9 and CMS-1500 printed the way offices print them (scaled to fit A4
or Letter, shifted, tilted, 100-300 dpi, with or without a DPI tag) are registered to their
blank before their zones are read; a page that does not register has no confident field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extractors import register
from extractors.engine import extract_source
from extractors.ink import items_unread, unread_ink
from extractors.registry import read_document
from extractors.templates import load_templates
from rekey.settings import Settings
from samples.corpus import degrade, irs

TODAY = date(2026, 11, 2)
CAPTIONS = ("Name (as shown", "Business name", "City, state", "Address (number")


def printed_and_scanned(kind: str, seed: int, plan: degrade.PrintScan, folder: Path) -> Path:
    values, _ = irs.w9_values(seed) if kind == "w9" else irs.cms1500_values(seed, TODAY)
    flat = irs.flatten_form(irs.forms_dir() / irs.BLANKS[kind], values, folder / "flat.pdf")
    page = degrade.rasterise(flat, 300, pages=1)[0]
    scan = degrade.print_and_scan(page, 300, plan, np.random.default_rng(seed))
    target = folder / f"{kind}-{seed}.png"
    Image.fromarray(scan).save(target, **({"dpi": (plan.dpi,) * 2} if plan.tagged else {}))
    return target


def truth_of(kind: str, seed: int) -> dict[str, object]:
    return (irs.w9_values(seed) if kind == "w9" else irs.cms1500_values(seed, TODAY))[1]


@pytest.fixture(scope="module")
def templates() -> list:
    return list(load_templates(Settings().templates_dir).values())


PLANS = {
    "a4-92pc-150dpi-untagged": degrade.PrintScan("a4", 0.92, (8.0, -6.0), 1.2, 150, tagged=False),
    "letter-100pc-300dpi": degrade.PrintScan("letter", 1.0, (-10.0, 10.0), -2.0, 300),
    "a4-faint-copy-200dpi": degrade.PrintScan("a4", 0.96, (5.0, 9.0), 0.7, 200, faint=True),
}


@pytest.mark.parametrize("plan", list(PLANS), ids=list(PLANS))
def test_a_printed_and_scanned_w9_is_registered_and_read_where_its_values_are(
    plan: str, templates: list, tmp_path: Path
) -> None:
    path = printed_and_scanned("w9", 5, PLANS[plan], tmp_path)
    found = extract_source(read_document(path), templates)
    assert found.template is not None and found.template.doc_type == "w9"
    fit = found.layout.pages[0].registration
    assert fit is not None and fit.good, fit
    assert fit.inliers >= 100 and fit.residual_px is not None and fit.residual_px <= 3
    assert fit.reference == "fw9-blank.pdf page 1" and fit.seconds is not None
    truth = truth_of("w9", 5)
    for name in ("name", "business_name", "city_state_zip", "account_numbers"):
        field = found.fields[name]
        assert field.value == truth[name] or not field.confident, (name, field)
        assert not any(c.casefold() in (field.value or "").casefold() for c in CAPTIONS)
    right = sum(found.fields[n].value == truth[n] for n in ("name", "city_state_zip"))
    assert right == 2, {n: found.fields[n].value for n in ("name", "city_state_zip")}


def test_writing_in_an_optional_fields_boxes_that_no_reading_made_out_is_not_a_blank(
    templates: list, tmp_path: Path
) -> None:
    """A W-9 whose EIN boxes hold letters (the EIN is read as digits only): not found, yet
    not taken as left blank. The SSN boxes, left blank, are."""
    values, truth = irs.w9_values(7)
    assert truth["ein"] and not truth["ssn"]  # a business: the EIN is filled in
    values |= {"f1_14[0]": "XK", "f1_15[0]": "ABCDEFH"}
    flat = irs.flatten_form(irs.forms_dir() / irs.BLANKS["w9"], values, tmp_path / "flat.pdf")
    page = degrade.rasterise(flat, 300, pages=1)[0]
    plan = PLANS["letter-100pc-300dpi"]
    scan = degrade.print_and_scan(page, 300, plan, np.random.default_rng(7))
    Image.fromarray(scan).save(tmp_path / "w9.png", dpi=(300, 300))
    found = extract_source(read_document(tmp_path / "w9.png"), templates)
    assert found.template is not None and found.layout.pages[0].registration.good
    ein, ssn = found.fields["ein"], found.fields["ssn"]
    assert ein.value is None and ein.unread_ink == 1 and "was not read" in ein.how, ein
    assert ssn.value is None and ssn.unread_ink is None, ssn


def test_a_printed_and_scanned_cms1500_is_registered(templates: list, tmp_path: Path) -> None:
    path = printed_and_scanned("cms1500", 4, PLANS["a4-92pc-150dpi-untagged"], tmp_path)
    found = extract_source(read_document(path), templates)
    assert found.template is not None and found.template.doc_type == "cms1500"
    fit = found.layout.pages[0].registration
    assert fit is not None and fit.good, fit
    truth = truth_of("cms1500", 4)
    assert found.fields["patient_name"].value == truth["patient_name"]


def test_a_faint_copy_scanned_at_100_dpi_is_registered_across_the_page(
    templates: list, tmp_path: Path
) -> None:
    """A second-generation copy at 100 dpi, no tag: its grey print gives ORB few matches,
    so the fit must hold across the page, not only at the title, before zones are read."""
    plan = degrade.PrintScan("a4", 0.9, (9.0, -8.0), 1.6, 100, faint=True, tagged=False)
    path = printed_and_scanned("cms1500", 6, plan, tmp_path)
    found = extract_source(read_document(path), templates)
    fit = found.layout.pages[0].registration
    assert fit is not None and fit.good and fit.spread >= register.MIN_SPREAD, fit
    truth = truth_of("cms1500", 6)
    right = ("date_of_birth", "date_of_illness", "total_charge")
    assert sum(str(found.fields[n].value) == str(truth[n]) for n in right) >= 2, found.fields
    wrong = [f for n, f in found.fields.items() if f.confident and str(f.value) != str(truth[n])]
    assert not wrong


def test_matches_in_one_corner_of_the_page_do_not_register_it() -> None:
    """Only a form's title left on the page: features match there, and a fit to one corner
    would run off at the far side, so the page does not count as registered."""
    cms = load_templates(Settings().templates_dir)["cms1500"]
    reference = register.load_reference(cms.reference, 1)
    blank = reference.gray
    top, left = blank.shape[0] // 8, blank.shape[1] // 2
    title = np.full_like(blank, 255)
    title[:top, :left] = blank[:top, :left]
    _, fit = register.fit_page(blank, reference)
    assert fit.good and fit.spread >= register.MIN_SPREAD, fit
    _, corner = register.fit_page(title, reference)
    assert not corner.good and (corner.spread or 0) < register.MIN_SPREAD, corner


def test_the_drop_out_keeps_a_stroke_written_across_the_blanks_rule() -> None:
    """A comb's tick is whited out, but not where a typed digit's stroke runs across it: the
    stroke goes in on one side and comes out on the other."""
    blank = np.full((200, 200), 255, np.uint8)
    blank[20:180, 98:102] = 0  # a comb's tick, 4 px wide
    page = blank.copy()
    page[60:64, 80:120] = 0  # a stroke across it
    page[120:160, 60:66] = 0  # a digit's stem in the cell beside it, well apart
    out = register.drop_out(page, register.reference_of(blank))
    assert (out[60:64, 80:120] == 0).all()  # the stroke whole, across the tick
    assert (out[100:180, 95:105] == 255).all() and (out[20:56, 95:105] == 255).all()
    assert (out[120:160, 60:66] == 0).all()


def test_a_filled_list_box_no_reading_made_out_is_seen(templates: list, tmp_path: Path) -> None:
    """A list's empty boxes are the rule (diagnosis codes A to L), so they do not lower its
    confidence; but a box with writing in it that the list lacks is seen on the registered
    page, and the list is not trusted."""
    path = printed_and_scanned("cms1500", 4, PLANS["letter-100pc-300dpi"], tmp_path)
    source = read_document(path)
    found = extract_source(source, templates)
    cms = found.template
    diagnoses = found.fields["diagnoses"]
    codes = json.loads(diagnoses.value)
    assert codes == truth_of("cms1500", 4)["diagnoses"], diagnoses
    assert not items_unread(source, cms, "diagnoses", diagnoses)
    fewer = diagnoses.model_copy(update={"value": json.dumps(codes[:-1])})
    assert items_unread(source, cms, "diagnoses", fewer)
    marked = unread_ink(source, cms, {"diagnoses": fewer})["diagnoses"]
    assert marked.confidence <= 0.6 and "was not read" in marked.how


def test_a_page_that_does_not_register_has_no_confident_field(
    templates: list, tmp_path: Path
) -> None:
    """A claim form read as a W-9 (a template forced on the wrong form) cannot be brought
    onto the W-9's blank: none of its zones is trusted."""
    pdf = Path(__file__).parent.parent / "samples" / "inbox" / "claim-11.pdf"
    page = degrade.rasterise(pdf, 200, pages=1)[0]
    scan = tmp_path / "claim.png"
    Image.fromarray(page).save(scan, dpi=(200, 200))
    w9 = next(t for t in templates if t.doc_type == "w9")
    found = extract_source(read_document(scan), templates, forced=w9)
    fit = found.layout.pages[0].registration
    assert fit is not None and not fit.good
    assert not any(f.confident for f in found.fields.values())
    read = [f for f in found.fields.values() if f.value is not None]
    assert read and all("not registered to its blank" in f.how for f in read)


def test_a_template_whose_blank_is_missing_names_its_file_and_key(tmp_path: Path) -> None:
    from rekey.errors import ConfigError

    source = Path(Settings().templates_dir) / "w9.yaml"
    (tmp_path / "w9.yaml").write_text(source.read_text())
    load_templates.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"w9\.yaml: reference: the blank .*fw9-blank\.pdf"):
            load_templates(tmp_path)
    finally:
        load_templates.cache_clear()
