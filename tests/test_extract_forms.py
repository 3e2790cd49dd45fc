"""The pieces that read fixed-layout forms and scans: MRZ repair, regions that keep only a
value's characters, line items, closed lists, tick boxes found by their outline, and the
form's printed rules whited out before zonal OCR."""

from __future__ import annotations

import json
from datetime import date

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from extractors.calibration import calibrated
from extractors.checks import iban_by_class, one_slip, passes
from extractors.engine import Extraction, extract_source
from extractors.extract import (
    STRONG_CHECK_CONFIDENCE,
    by_check_digits,
    captions_in,
    checked_evidence,
    extract_fields,
    hit_confidence,
    looked_at_again,
    makes_sense,
    one_of,
    plausible_year,
    read_field,
    reconciled,
    with_fallbacks,
)
from extractors.locators import Doc, caption_words, captions_of, locate_label, locate_region, union
from extractors.marks import UNSEEN_OPTION, captions_apart, fill_ratio, locate_choice, snap_box
from extractors.mrz import (
    Lines,
    aligned,
    checks_pass,
    doubt_of,
    find_lines,
    locate_mrz,
    number_readings,
)
from extractors.mrzprint import checks_failed, composed, line1_agreed, lines_doubted
from extractors.normalise import NormaliseError, date_iso, normalise, strip_noise, whitespace
from extractors.plausible import put_right, why_not
from extractors.preprocess import ink_split, whiten_paper
from extractors.registry import read_document
from extractors.reread import agreed, reread_unsettled
from extractors.source import Source, open_source
from extractors.tables import lines_of, locate_region_rows, locate_table
from extractors.templates import (
    ChoiceLocator,
    FieldSpec,
    LabelLocator,
    MrzLocator,
    RegionColumn,
    RegionLocator,
    RegionRowsLocator,
    TableLocator,
    Template,
    load_templates,
)
from extractors.verify import fitted_second, judged, replaces
from extractors.zonal import without_cut_text, without_dotted_rules, without_rules
from rekey.models import Box, Field, Layout, Page, PrintedAgain, Word
from rekey.settings import PROJECT_ROOT
from samples.corpus.passport import td3_mrz

SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"
TEMPLATES = PROJECT_ROOT / "samples" / "templates"


def word(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.95) -> Word:
    return Word(text=text, box=Box(x0=x0, y0=y0, x1=x1, y1=y1), confidence=conf, source="ocr")


def page(*words: Word) -> Layout:
    return Layout(pages=[Page(number=1, width=1000, height=1000, words=list(words))])


def passport_mrz() -> tuple[str, str]:
    truth = json.loads((SMALL / "0007-passport-digital.truth.json").read_text())["fields"]
    return truth["mrz_line1"], truth["mrz_line2"]


def test_mrz_digits_and_letters_are_put_back_where_icao_fixes_them() -> None:
    line1, line2 = passport_mrz()
    assert checks_pass(line2)
    dates = [i for i in range(13, 19) if line2[i] in "0125"]
    assert dates, line2
    slipped = list(line2)
    for i in dates:  # 0 read as O, 1 as I, 2 as Z, 5 as S in the birth date
        slipped[i] = {"0": "O", "1": "I", "2": "Z", "5": "S"}[slipped[i]]
    slipped = "".join(slipped)
    assert not checks_pass(slipped)
    assert aligned(line1, slipped) == (line1, line2)


def test_mrz_names_are_letters_and_a_lost_composite_leaves_the_number_to_its_own_digit() -> None:
    line1, line2 = passport_mrz()
    assert line1.startswith("P<USAONEILL<FITZGERALD")
    slipped1 = line1.replace("ONEILL<FITZ", "0NEILL<F1TZ")  # digits where only letters stand
    number = line2[:9]
    assert "0" in number
    slipped2 = number.replace("0", "O") + line2[9:43] + "<"  # and the last digit lost
    assert aligned(slipped1, slipped2) == (line1, line2)


def test_mrz_read_with_a_stray_mark_before_it_is_realigned() -> None:
    line1, line2 = passport_mrz()
    assert aligned(line1, "Q" + line2) == (line1, line2)


def test_mrz_with_a_wrong_check_digit_is_left_as_read_and_fails() -> None:
    line1, line2 = passport_mrz()
    wrong = str((int(line2[9]) + 1) % 10)
    planted = line2[:9] + wrong + line2[10:]
    _, read = aligned(line1, planted)
    assert read == planted and not checks_pass(read)


def test_region_keeps_the_value_and_drops_printed_captions_and_rules() -> None:
    layout = page(
        word("MM", 0.10, 0.100, 0.12, 0.104),  # printed caption at the top of the box
        word("(830", 0.10, 0.106, 0.14, 0.112),
        word("|", 0.145, 0.104, 0.146, 0.114),  # a box rule
        word("YY", 0.30, 0.100, 0.32, 0.104),
        word("1983", 0.30, 0.106, 0.34, 0.112),
    )
    doc = Doc(layout)
    digits = RegionLocator(boxes=[[0.09, 0.099, 0.15, 0.115]], chars="0123456789")
    assert locate_region(doc, digits).text == "830"
    two = RegionLocator(
        boxes=[[0.29, 0.099, 0.35, 0.115], [0.09, 0.099, 0.15, 0.115]],
        format="{0}-{1}",
        chars="0123456789",
        pattern="[0-9]{4}",
    )
    hit = locate_region(doc, two)
    assert hit.text == "1983-" and hit.match < 1  # the second box holds no 4 digits


def test_region_as_list_keeps_only_the_boxes_whose_text_fits() -> None:
    layout = page(
        word("R51", 0.05, 0.60, 0.08, 0.605),
        word("L", 0.20, 0.60, 0.21, 0.605),  # an empty box's corner, read as a letter
        word("E11.9", 0.36, 0.60, 0.40, 0.605),
    )
    boxes = [[0.04, 0.59, 0.14, 0.61], [0.19, 0.59, 0.29, 0.61], [0.35, 0.59, 0.45, 0.61]]
    codes = RegionLocator(boxes=boxes, as_list=True, pattern=r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]+)?")
    assert json.loads(locate_region(Doc(layout), codes).text) == ["R51", "E11.9"]


def test_a_box_reading_is_fitted_to_its_pattern_through_rules_and_look_alikes() -> None:
    layout = page(
        word("l10", 0.032, 0.682, 0.051, 0.69),  # the box's left rule read as an l
        word("Ol", 0.07, 0.682, 0.083, 0.69),  # 01 read in letters alone
        word(",110", 0.20, 0.60, 0.23, 0.605),  # I10 with the box corner before it
        word("($93.401A", 0.36, 0.60, 0.42, 0.605),  # S93.401A
    )
    doc = Doc(layout)
    date = RegionLocator(
        boxes=[[0.03, 0.68, 0.062, 0.695], [0.065, 0.68, 0.096, 0.695]],
        format="{0}-{1}",
        chars="0123456789",
        pattern="[0-9]{2}",
    )
    assert locate_region(doc, date).text == "10-01"
    codes = RegionLocator(
        boxes=[[0.19, 0.59, 0.29, 0.61], [0.35, 0.59, 0.45, 0.61]],
        as_list=True,
        chars="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.",
        pattern=r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?",
    )
    assert json.loads(locate_region(doc, codes).text) == ["I10", "S93.401A"]


def test_a_speck_read_as_a_short_word_beside_a_sure_value_is_dropped() -> None:
    layout = page(
        word("GOMEZ,", 0.037, 0.165, 0.10, 0.175, conf=0.6),
        word("Oo", 0.20, 0.165, 0.21, 0.175, conf=0.0),  # a speck on the scan
        word("TREVOR", 0.113, 0.165, 0.18, 0.175, conf=0.91),
    )
    name = RegionLocator(boxes=[[0.041, 0.163, 0.365, 0.178]])
    assert locate_region(Doc(layout), name).text == "GOMEZ, TREVOR"
    unsure = page(word("Oo", 0.20, 0.165, 0.21, 0.175, conf=0.0))
    assert locate_region(Doc(unsure), name).text == "Oo"  # nothing sure beside it: kept


def test_a_grid_row_with_only_a_speck_read_in_it_ends_the_line_items() -> None:
    layout = page(
        word("81002", 0.32, 0.686, 0.36, 0.694),
        word("395", 0.614, 0.686, 0.636, 0.694),
        word("94", 0.647, 0.686, 0.66, 0.694),
        word("1", 0.62, 0.717, 0.625, 0.724),  # a speck in the next line's charge box
        word("00", 0.65, 0.717, 0.66, 0.724),
    )
    grid = RegionRowsLocator(
        rows=6,
        pitch=0.0304,
        columns={
            "cpt": RegionColumn(boxes=[[0.318, 0.683, 0.394, 0.698]], chars="0123456789"),
            "charge": RegionColumn(
                boxes=[[0.61, 0.683, 0.706, 0.698]],
                chars="0123456789 ",
                type="money",
                decimal=" ",
            ),
            "date": RegionColumn(boxes=[[0.03, 0.683, 0.062, 0.698]], chars="0123456789"),
        },
    )
    rows = json.loads(locate_region_rows(Doc(layout), grid).text)
    assert rows == [{"cpt": "81002", "charge": "395.94", "date": ""}]


def test_a_caption_standing_where_its_value_should_is_not_the_value() -> None:
    layout = page(
        word("Description:", 0.10, 0.40, 0.20, 0.41),
        word("Amount", 0.10, 0.42, 0.16, 0.43),  # the next caption: the value faded out
        word("claimed:", 0.17, 0.42, 0.23, 0.43),
        word("326.71", 0.40, 0.42, 0.46, 0.43),
    )
    below = LabelLocator(text="Description:", direction="below")
    blind = Doc(layout)
    assert locate_label(blind, below).text.startswith("Amount")  # not knowing the captions
    knowing = Doc(layout, captions=captions_of(["Description:", "Amount claimed:"]))
    assert locate_label(knowing, below) is None


def test_a_caption_read_without_its_stroke_below_a_heading_is_not_a_printed_again_value() -> None:
    layout = page(
        word("PASSPORT", 0.34, 0.12, 0.45, 0.14),  # the heading: nearest to "Passport No."
        word("Type", 0.34, 0.153, 0.37, 0.17),  # "Type / Code" with its stroke unread
        word("Code", 0.39, 0.153, 0.42, 0.17),
        word("Pasepert", 0.34, 0.21, 0.40, 0.23),  # "Passport No.", misread
        word("No", 0.406, 0.215, 0.423, 0.23),
        word("626RTJJ74", 0.34, 0.24, 0.45, 0.26),
    )
    template = load_templates(TEMPLATES)["passport"]
    assert "type/code" in captions_in(template)  # a printed-again label is a caption too
    number = template.fields["document_number"].printed_again[0]
    assert locate_label(Doc(layout), number).text == "Type Code"  # not knowing the captions
    assert locate_label(Doc(layout, captions=captions_in(template)), number) is None


def test_a_colon_read_apart_from_its_chinese_caption_is_not_part_of_the_value() -> None:
    layout = page(
        word("申请", 0.10, 0.16, 0.15, 0.17),
        word("人", 0.15, 0.16, 0.16, 0.17),
        word("姓名", 0.16, 0.16, 0.19, 0.17),
        word(":", 0.20, 0.16, 0.205, 0.17),
        word("艾", 0.32, 0.16, 0.33, 0.17),
        word("建军", 0.34, 0.16, 0.37, 0.17),
    )
    hit = locate_label(Doc(layout), LabelLocator(text="申请人姓名："))
    assert hit.text == "艾建军" and hit.match == 1.0


def test_a_heading_sharing_a_captions_first_words_gives_way_to_the_caption() -> None:
    layout = page(
        word("保", 0.13, 0.107, 0.14, 0.12),  # 一、保单及申请人信息: a heading
        word("单", 0.15, 0.107, 0.16, 0.12),
        word("及", 0.17, 0.107, 0.18, 0.12),
        word("申请人信息", 0.19, 0.107, 0.28, 0.12),
        word("保单", 0.10, 0.134, 0.14, 0.146),  # 保单号： with 号 read as 另
        word("另", 0.147, 0.133, 0.158, 0.152),
        word(":", 0.164, 0.136, 0.167, 0.144),
        word("POL-421308", 0.32, 0.135, 0.41, 0.145),
    )
    spec = FieldSpec(
        type="identifier",
        pattern="([A-Z]{3}-?[0-9]{6})",
        locators=[LabelLocator(text="保单号：", match=70)],
    )
    template = Template(name="t", doc_type="t", keywords=["x"], fields={"policy": spec})
    assert extract_fields(layout, template)["policy"].value == "POL-421308"


def test_a_scanned_letter_against_a_digit_is_never_trusted_on_its_own() -> None:
    spec = FieldSpec(locators=[LabelLocator(text="Email:")])
    fields = {"email": spec}  # raw confidences (before calibration) against 0.9
    template = Template(name="t", doc_type="t", keywords=["x"], threshold=0.9, fields=fields)
    caption = word("Email:", 0.10, 0.30, 0.16, 0.31)
    read = word("sylvial6@example.org", 0.30, 0.30, 0.50, 0.31)  # sylvia16, and sure of it
    email = extract_fields(page(caption, read), template)["email"]
    assert email.value == "sylvial6@example.org" and not email.confident
    typed = read.model_copy(update={"source": "text"})  # a text layer has no look-alikes
    assert extract_fields(page(caption, typed), template)["email"].confident
    plain = word("bdai@example.org", 0.30, 0.30, 0.50, 0.31)
    assert extract_fields(page(caption, plain), template)["email"].confident
    slipped = word("Dubois-tukasiewicz", 0.30, 0.30, 0.50, 0.31)  # Łukasiewicz
    assert not extract_fields(page(caption, slipped), template)["email"].confident
    for doubted in ("Inaser@example.net", "43 Field, NO 3AS Dennisstad"):  # lnaser, N0 3AS
        misread = word(doubted, 0.30, 0.30, 0.50, 0.31)
        assert not extract_fields(page(caption, misread), template)["email"].confident


def test_a_name_or_place_word_starting_with_a_small_l_is_never_trusted_on_its_own() -> None:
    spec = FieldSpec(locators=[LabelLocator(text="Place:")], looks_like="place")
    template = Template(name="t", doc_type="t", keywords=["x"], threshold=0.9, fields={"p": spec})
    caption = word("Place:", 0.10, 0.30, 0.16, 0.31)
    for text, trusted in (("West lain", False), ("West Iain", True), ("Iserlohn", True)):
        read = extract_fields(page(caption, word(text, 0.3, 0.3, 0.5, 0.31)), template)["p"]
        assert read.value == text and read.confident is trusted, text
    free = Template(
        name="t",
        doc_type="t",
        keywords=["x"],
        threshold=0.9,
        fields={"p": FieldSpec(locators=[LabelLocator(text="Place:")])},
    )
    lights = word("Car hit at the lights", 0.3, 0.3, 0.5, 0.31)  # free text: words start so
    assert extract_fields(page(caption, lights), free)["p"].confident


def test_a_postcode_read_with_letters_for_its_digits_is_put_right_and_never_trusted() -> None:
    spec = FieldSpec(locators=[LabelLocator(text="Address:")], looks_like="place")
    template = Template(name="t", doc_type="t", keywords=["x"], threshold=0.9, fields={"a": spec})
    caption = word("Address:", 0.10, 0.30, 0.16, 0.31)
    for text, meant in (
        ("BO OBT Andrewsstad", "B0 0BT Andrewsstad"),  # both codes' digits read as O
        ("G5 ORR Glasgow", "G5 0RR Glasgow"),
        ("NO 3AS Dennisstad", "N0 3AS Dennisstad"),
    ):
        read = extract_fields(page(caption, word(text, 0.3, 0.3, 0.5, 0.31)), template)["a"]
        assert read.value == meant and not read.confident, text
    stray = word("72199 Griesbach Rotta!", 0.3, 0.3, 0.5, 0.31)  # Rottal, and sure of it
    assert not extract_fields(page(caption, stray), template)["a"].confident
    right = word("B0 0BT Andrewsstad", 0.3, 0.3, 0.5, 0.31)
    assert extract_fields(page(caption, right), template)["a"].confident


def test_a_date_in_a_year_no_form_names_is_never_trusted_and_read_again() -> None:
    spec = FieldSpec(type="date", locators=[LabelLocator(text="Date of loss:")])
    template = Template(name="t", doc_type="t", keywords=["x"], threshold=0.9, fields={"d": spec})
    caption = word("Date of loss:", 0.10, 0.30, 0.16, 0.31)
    for text, trusted in (("2926-07-25", False), ("2026-07-25", True), ("1791-01-02", False)):
        read = extract_fields(page(caption, word(text, 0.3, 0.3, 0.5, 0.31)), template)["d"]
        assert read.value == text and read.confident is trusted, text
        assert makes_sense(spec, text) is trusted  # what makes no sense is read again
    assert plausible_year(2076, date(2026, 11, 1)) and not plausible_year(2077, date(2026, 11, 1))


def test_a_captions_tail_taken_in_before_a_value_is_left_out() -> None:
    captions = captions_of(["Surname", "Given names", "Place of birth"])
    assert caption_words(captions, ["urname", "Wilson"]) == 1  # its S cut off
    assert caption_words(captions, ["iven", "names", "Miss", "Deborah"]) == 2
    assert caption_words(captions, ["Wilson"]) == 0
    assert caption_words(captions, ["Surname"]) == 0  # never all of it: a value may be so
    assert caption_words(captions, ["rth", "Leeds"]) == 0  # too short to tell
    assert caption_words(captions, ["Namely", "Wilson"]) == 0


def test_a_slip_the_values_grammar_fixes_is_put_right_and_still_checked() -> None:
    fields = {
        "email": FieldSpec(locators=[LabelLocator(text="Email:")], looks_like="email"),
        "address": FieldSpec(locators=[LabelLocator(text="Address:")], looks_like="address"),
    }
    template = Template(name="t", doc_type="t", keywords=["x"], threshold=0.9, fields=fields)
    words = [
        word("Email:", 0.10, 0.30, 0.16, 0.31),
        word("Inaser@example.net", 0.30, 0.30, 0.50, 0.31),
        word("Address:", 0.10, 0.40, 0.16, 0.41),
        word("Flat 48, SE08 OHB North Ronaldmouth", 0.30, 0.40, 0.70, 0.41),
    ]
    read = extract_fields(page(*words), template)
    assert read["email"].value == "lnaser@example.net" and not read["email"].confident
    assert read["address"].value == "Flat 48, SE08 0HB North Ronaldmouth"
    assert "put right" in read["address"].how and not read["address"].confident
    # a Canadian postal code, or a letter the UK never ends an inward code with: as read
    for kept in ("Montreal QC H2X 1Y6", "Unit B2 OAK Street"):
        assert put_right("address", kept) == (kept, None)


def test_a_closed_list_takes_the_listed_value_a_reading_spells() -> None:
    spec = FieldSpec(
        locators=[LabelLocator(text="ID type:")], values=["Passport", "Personalausweis"]
    )
    value, confidence, how = one_of(spec, "Personalauswels", 0.9, "label")
    assert value == "Personalausweis" and 0.8 < confidence < 0.9 and "taken as" in how
    assert one_of(spec, "Passport", 0.9, "label") == ("Passport", 0.9, "label")
    value, confidence, _ = one_of(spec, "Library card", 0.9, "label")
    assert value == "Library card" and confidence < 0.3
    assert one_of(spec, "PASSPORT", 0.9, "label") == ("Passport", 0.9, "label")
    # printed text has no OCR slips: a value not on the list stays as printed, untrusted
    value, confidence, _ = one_of(spec, "Personalauswels", 0.9, "label", scanned=False)
    assert value == "Personalauswels" and confidence < 0.3


def test_tick_box_is_found_by_its_outline_when_the_caption_starts_late() -> None:
    gray = np.full((1000, 1000), 255, np.uint8)
    cv2.rectangle(gray, (200, 200), (240, 240), 0, 3)  # an empty box
    cv2.putText(gray, "I", (252, 238), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 4)  # lost to OCR
    # placed from a caption whose "I" was not read: the guess covers the letter
    guess = Box(x0=0.245, y0=0.196, x1=0.285, y1=0.244)
    assert fill_ratio(gray[196:244, 245:285]) > 0.1  # read there, the letter ticks the box
    found = snap_box(gray, guess)
    assert 195 <= found.x0 * 1000 <= 202 and 238 <= found.x1 * 1000 <= 245
    x0, y0, x1, y1 = (round(v * 1000) for v in (found.x0, found.y0, found.x1, found.y1))
    assert fill_ratio(gray[y0:y1, x0:x1]) == 0.0
    nothing = np.full((1000, 1000), 255, np.uint8)
    assert snap_box(nothing, guess) == guess  # no outline: the guess stands


def test_zonal_crops_lose_the_forms_rules_but_not_the_letters() -> None:
    crop = np.full((120, 300), 255, np.uint8)
    for x in (50, 150, 250):
        cv2.line(crop, (x, 0), (x, 119), 0, 2)  # a comb of digit boxes
    cv2.line(crop, (0, 118), (299, 118), 0, 2)  # its bottom rule
    cv2.putText(crop, "1", (90, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)  # a 1's stroke
    cleaned = without_rules(crop)
    assert (cleaned[:, 50] == 255).all() and (cleaned[118, 10:290] == 255).all()
    assert (cleaned[50:80, 85:115] < 128).any()  # the digit is still there


def test_zonal_crops_lose_caption_slivers_cut_by_their_edges_but_not_the_value() -> None:
    crop = np.full((80, 400), 255, np.uint8)
    cv2.putText(crop, "PATIENT NAME", (10, 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1)  # cut
    cv2.putText(crop, "LEWIS", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    cv2.line(crop, (300, 0), (300, 79), 0, 2)  # ink from edge to edge is not a sliver
    cleaned = without_cut_text(crop)
    assert (cleaned[:8] == 255).all() or (cleaned[:8, :290] == 255).all()
    assert (cleaned[30:62, 20:140] < 128).any() and (cleaned[:, 300] < 128).all()


def test_zonal_crops_read_again_lose_a_dotted_rule_but_not_the_letters_on_it() -> None:
    crop = np.full((60, 1200), 255, np.uint8)
    cv2.putText(crop, "Curtis Young", (10, 38), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    for x in range(0, 1200, 9):  # the entry line under it: dots 4 px long
        cv2.line(crop, (x, 47), (x + 3, 47), 0, 2)
    cv2.line(crop, (300, 20), (300, 48), 0, 2)  # a stroke that runs down onto the dots
    cleaned = without_dotted_rules(crop)
    assert (cleaned[45:50, 320:] == 255).all()  # the dots are gone
    assert (cleaned[15:40, 10:220] < 128).sum() == (crop[15:40, 10:220] < 128).sum()
    assert (cleaned[20:48, 300] < 128).all()  # a mark reaching above the rule stays
    text_only = np.full((60, 1200), 255, np.uint8)
    cv2.putText(text_only, "Curtis Young", (10, 38), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    assert (without_dotted_rules(text_only) == text_only).all()


def test_whitening_the_paper_keeps_pale_thin_strokes() -> None:
    rng = np.random.default_rng(5)
    gray = rng.integers(232, 256, (200, 200)).astype(np.uint8)  # paper with its grain
    gray[40:60, 20:180] = np.linspace(10, 120, 20, dtype=np.uint8)[:, None]  # ink, soft edge
    gray[120, 20:180] = 170  # a hairline, paler than the ink/paper split
    assert ink_split(gray) < 170
    cleaned = whiten_paper(gray)
    assert (cleaned[120, 20:180] == 170).all() and (
        cleaned[40:60, 20:180] == gray[40:60, 20:180]
    ).all()
    assert (cleaned[150:200] == 255).all()


def test_noise_goes_but_an_ampersand_stays() -> None:
    assert strip_noise("Gute Hartung GmbH & Co. KG |") == "Gute Hartung GmbH & Co. KG"
    assert strip_noise("— Smith —") == "Smith"
    assert strip_noise("+49(0) 616672990") == "+49(0) 616672990"
    assert strip_noise("‘Curtis Young") == "Curtis Young"  # a speck read as a quote
    assert strip_noise("D'Arcy O’Neill") == "D'Arcy O’Neill"


def test_a_sign_read_for_a_letter_of_a_scanned_identifier_is_that_letter() -> None:
    assert normalise("identifier", "¥31207950", scanned=True) == "Y31207950"
    assert normalise("identifier", "$12345", scanned=True) == "S12345"
    assert normalise("identifier", "¥31207950") == "¥31207950"  # a text layer is as printed


def test_a_line_break_drawn_as_a_control_character_is_a_space() -> None:
    assert whitespace("Flat 93P\x00Gray Heights") == "Flat 93P Gray Heights"


def test_passport_dates_read_through_a_speck_and_a_missing_comma() -> None:
    assert date_iso("12 ‘OCTOBER 2020") == "2020-10-12"
    assert date_iso("APRIL 10 2025") == "2025-04-10"


def test_a_month_name_with_a_letter_or_two_slipped_is_read_as_that_month() -> None:
    assert date_iso("8 OVEMBER 2017", ["%d %B %Y"]) == "2017-11-08"
    assert date_iso("5 Fearuary 2018", ["%d %B %Y"]) == "2018-02-05"
    with pytest.raises(NormaliseError):
        date_iso("5 Friday 2018", ["%d %B %Y"])


def test_an_mrz_check_digit_read_as_filler_is_implied_and_a_long_line_1_is_cut() -> None:
    line1, line2 = passport_mrz()
    lost = line2[:27] + line2[28:43] + "<" + line2[43]  # expiry check digit lost, filler
    assert aligned(line1 + "<<<", lost) == (line1, line2)


def test_chinese_dates_read_through_a_stray_mark() -> None:
    assert date_iso("1955 年 5 月 31] 日") == "1955-05-31"
    assert date_iso("2026年7月7日") == "2026-07-07"
    assert date_iso("1992 年 12 月 31 晶") == "1992-12-31"  # 日 read as another character
    with pytest.raises(NormaliseError):
        date_iso("2026 年 ?月 14 日")  # the month lost: no guess


def test_a_day_read_as_letters_before_a_month_name_is_that_day() -> None:
    assert date_iso("B AUGUST 2025") == "2025-08-08"
    assert date_iso("IS March 2020") == "2020-03-15"
    assert date_iso("13 NOVEMBER 1945") == "1945-11-13"
    with pytest.raises(NormaliseError):
        date_iso("Bx AUGUST 2025")  # not a look-alike of a digit


def test_fixed_layout_templates_name_their_zones_and_skip_empty_pages() -> None:
    templates = load_templates(TEMPLATES)
    w9, cms, claim = templates["w9"], templates["cms1500"], templates["claim"]
    assert w9.zones(1) and w9.zones(2) == []  # W-9 fields are all on page 1
    assert len(cms.zones(1)) > 30  # item 24's grid of service lines included
    assert claim.zones(1) is None  # captions: the page is read whole


def test_cms1500_line_items_come_from_the_form_fields() -> None:
    path = SMALL / "0011-cms1500-digital.pdf"
    truth = json.loads(path.with_suffix(".truth.json").read_text())["fields"]
    result = extract_source(read_document(path), load_templates(TEMPLATES).values())
    services = result.fields["services"]
    assert json.loads(services.value) == truth["services"] and services.confident
    assert json.loads(result.fields["diagnoses"].value) == truth["diagnoses"]


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("0008-passport-office_scan.pdf", ["document_number", "date_of_birth", "date_of_issue"]),
        ("0012-cms1500-bad_fax.pdf", ["date_of_birth", "date_of_illness", "total_charge"]),
    ],
)
def test_scanned_forms_read_their_fixed_places(name: str, fields: list[str]) -> None:
    path = SMALL / name
    truth = json.loads(path.with_suffix(".truth.json").read_text())["fields"]
    result = extract_source(read_document(path), load_templates(TEMPLATES).values())
    for field in fields:
        assert result.fields[field].value == truth[field], (name, field)


def test_every_template_field_is_extracted_from_an_empty_layout_without_error() -> None:
    for template in load_templates(TEMPLATES).values():
        fields = extract_fields(Layout(pages=[Page(number=1, width=1, height=1)]), template)
        assert set(fields) == set(template.fields)
        assert all(f.value is None or f.how for f in fields.values())


def test_a_chinese_name_the_mixed_model_read_as_latin_is_read_again_in_chinese() -> None:
    path = SMALL / "0006-claim_cn-clean_scan.tiff"
    truth = json.loads(path.with_suffix(".truth.json").read_text())["fields"]
    template = load_templates(TEMPLATES)["claim_cn"]
    assert template.fields["claimant_name"].verify == "chi_sim"
    result = extract_source(read_document(path), [template])
    name = result.fields["claimant_name"]
    assert name.value == truth["claimant_name"] or not name.confident


def test_a_reading_that_misses_the_pattern_takes_the_second_models_when_that_fits() -> None:
    spec = load_templates(TEMPLATES)["claim_cn"].fields["claimant_name"]
    missed = Field(
        name="claimant_name",
        how="label; no match",
        box=Box(x0=0.3, y0=0.16, x1=0.36, y1=0.17),
        threshold=spec.threshold,
    )
    taken = fitted_second(missed, spec, "史玲")
    assert taken.value == "史玲" and not taken.confident and "second reading" in taken.how
    assert fitted_second(missed, spec, "RE") == missed


def test_diacritics_only_the_second_model_sees_are_evidence_of_their_own() -> None:
    """The Latin model adds marks to the letters the first read (``Zoé Bronte`` →
    ``Zoë Brontë``): its reading, as ``letters`` evidence. Other letters, or fewer marks,
    leave the field untrusted as before."""
    claimant = load_templates(TEMPLATES)["claim"].fields["claimant_name"]
    read = Field(name="claimant_name", value="Zoé Bronte-Angstrom", confidence=0.9)
    read = read.model_copy(update={"evidence": "scan/free", "box": Box(x0=0, y0=0, x1=1, y1=1)})
    lettered = judged(read, claimant, "Zoë Brontë-Ångström")
    assert (lettered.value, lettered.evidence) == ("Zoë Brontë-Ångström", "scan/letters")
    assert lettered.confidence == 0.9  # raw: calibration on its own curve decides
    other = judged(read, claimant, "Zoë Brontë-Ångstrém")  # a letter differs (o/e)
    assert other.evidence == "scan/free" and other.confidence <= 0.5
    fewer = judged(read.model_copy(update={"value": "Zoë Brontë"}), claimant, "Zoe Bronte")
    assert fewer.evidence == "scan/free" and fewer.confidence <= 0.5


def test_a_field_read_otherwise_in_its_box_alone_is_kept_but_not_trusted() -> None:
    claim = load_templates(TEMPLATES)["claim"]
    email = claim.fields["email"]
    read = Field(
        name="email",
        value="noraetzier@example.com",  # "l" read as "i" on a fax, and sure of it
        confidence=0.995,
        how="label 'Email:' right",
        box=Box(x0=0.32, y0=0.29, x1=0.56, y1=0.3),
        threshold=email.threshold,
        evidence="scan/free",
    )
    assert read.confident
    both = judged(read, email, "noraetzier@example.com", "noraetzier@example.com")
    assert both == read.model_copy(update={"evidence": "scan/agreed"})  # two readings agree
    alone = judged(read, email, "noraetzier@example.com", "noraetzler@example.com")
    assert alone.value == read.value and not alone.confident and "box alone" in alone.how
    second = judged(read, email, "noraetzler@example.com", None)
    assert second.value == "noraetzler@example.com" and not second.confident
    surname = load_templates(TEMPLATES)["passport"].fields["surname"]
    zou = read.model_copy(update={"name": "surname", "value": "Zou"})
    caption = judged(zou, surname, "Brna Zou", None)  # another reading, a caption taken in
    assert caption.value == "Zou" and not caption.confident and "second reading" in caption.how
    place = load_templates(TEMPLATES)["claim_cn"].fields["place_of_loss"]
    han = judged(read.model_copy(update={"value": "FR"}), place, "秀英市", None)
    assert han.value == "秀英市"  # another script: the first model could not read it
    slip = judged(read.model_copy(update={"value": "湿滑地面"}), place, "湿消地面", None)
    assert slip.value == "湿滑地面" and not slip.confident  # Chinese either way: kept, doubted
    when = claim.fields["date_of_loss"]
    dated = read.model_copy(update={"name": "date_of_loss", "value": "2026-09-27"})
    same = judged(dated, when, "2026-09-27", "27/09/2026")  # the same date
    assert same.value == dated.value and same.evidence == "scan/agreed"
    assert judged(dated, when, "2026-09-27", "@#!").value == dated.value  # unreadable
    assert judged(dated, when, "@#!", None) == dated  # a second model that cannot read it
    patient = load_templates(TEMPLATES)["cms1500"].fields["patient_name"]  # surname first
    named = read.model_copy(update={"name": "patient_name", "value": "Leslie Adams"})
    assert judged(named, patient, "ADAMS, LESLIE", None).evidence == "scan/agreed"
    assert not judged(named, patient, "ADAMS, LESUE", None).confident


def test_a_region_anchored_to_a_caption_follows_it_down_the_page() -> None:
    loc = RegionLocator(anchor={"text": "Currency:"}, boxes=[(0.2, -0.031, 0.66, -0.01)], trust=0.8)
    for shift in (0.0, 0.05):  # the same form, printed lower down
        layout = page(
            word("1,234.50", 0.32, 0.432 + shift, 0.4, 0.445 + shift),
            word("Currency:", 0.1, 0.459 + shift, 0.19, 0.471 + shift),
            word("EUR", 0.32, 0.458 + shift, 0.36, 0.471 + shift),
        )
        hit = locate_region(Doc(layout), loc)
        assert hit is not None and hit.text == "1,234.50"
        assert hit.how == "region by 'Currency:' on page 1" and hit.match == 0.8
    lost = page(word("1,234.50", 0.32, 0.432, 0.4, 0.445))  # the caption is under a stamp
    assert locate_region(Doc(lost), loc) is None


def test_a_reading_that_is_no_amount_gives_way_to_the_next_locator() -> None:
    spec = FieldSpec(
        type="money",
        locators=[
            RegionLocator(boxes=[(0.3, 0.40, 0.7, 0.42)]),  # under a stamp: its letters
            RegionLocator(anchor={"text": "Currency:"}, boxes=[(0.2, -0.031, 0.66, -0.01)]),
        ],
    )
    layout = page(
        word("RE", 0.32, 0.405, 0.36, 0.418, conf=0.3),
        word("Ty", 0.4, 0.405, 0.43, 0.418, conf=0.2),
        word("1,234.50", 0.32, 0.432, 0.4, 0.445),
        word("Currency:", 0.101, 0.459, 0.193, 0.471),
    )
    form = Template(name="t", doc_type="t", keywords=["t"], fields={"amount": spec})
    amount = extract_fields(layout, form)
    assert amount["amount"].value == "1234.50"
    assert "region by 'Currency:'" in amount["amount"].how


def test_a_pattern_keeps_the_group_that_took_part_in_the_match() -> None:
    currency = load_templates(TEMPLATES)["claim_cn"].fields["currency"]
    assert currency.fitted("人民币 (CNY)") == "CNY"
    assert currency.fitted("2 ABR CNY)") == "CNY"  # the code in brackets, not the first read
    assert currency.fitted("EUR") == "EUR"


def test_an_iban_one_ocr_slip_away_is_read_by_its_check_digits() -> None:
    assert passes("GB68OTMR34259806968116", ["iban"])
    # a 6 read as 0 where any digit may stand: a slip, or the form's own mistake
    assert one_slip("GB68OTMR34259800968116", ["iban"]) == "GB68OTMR34259806968116"
    assert one_slip("GB68OTMR34259806968116", ["iban"]) is None  # valid: nothing to swap
    spec = FieldSpec(locators=[LabelLocator(text="Bank account:")], check_digits=["iban", "luhn"])
    value, confidence, how = by_check_digits(spec, "GB68OTMR34259800968116", 0.83, "label")
    assert value == "GB68OTMR34259806968116" and confidence == 0.6 and "check digits" in how
    value, confidence, _ = by_check_digits(spec, "0299115002933148059", 0.8, "label")
    assert value == "0299115002933148059" and confidence < 0.3  # two slips: not guessed


def test_an_iban_takes_the_classes_its_country_fixes_before_any_guess() -> None:
    # a UK bank code is four letters and the account fourteen digits: two slips, one answer
    assert iban_by_class("GB53X0V093566390536588") == "GB53XOVO93566390536588"
    assert iban_by_class("GB53XOVO9356639O536588") == "GB53XOVO93566390536588"
    # no form can print a 0 in a UK bank code, nor an O in its check digits: with every
    # character in its class the check digits pass, so nothing was guessed and it is trusted
    spec = FieldSpec(locators=[LabelLocator(text="Bank account:")], check_digits=["iban"])
    value, confidence, how = by_check_digits(spec, "GBO7LXJC26045215221377", 0.91, "label")
    assert (value, confidence) == ("GB07LXJC26045215221377", 0.91) and "in its class" in how
    value, confidence, _ = by_check_digits(spec, "GB53X0V093566390536589", 0.91, "label")
    assert confidence < 0.6  # in its class it still fails: a slip elsewhere, not trusted
    # the check digits settle what OCR doubted of a faint print; a guess stays a guess
    value, confidence, _ = by_check_digits(spec, "GB07LXJC26045215221377", 0.2, "label")
    assert (value, confidence) == ("GB07LXJC26045215221377", STRONG_CHECK_CONFIDENCE)
    _, confidence, _ = by_check_digits(spec, "GB68OTMR34259800968116", 0.2, "label")
    assert confidence == 0.2  # one slip away, put right: not trusted
    luhn = FieldSpec(locators=[LabelLocator(text="Card:")], check_digits=["luhn"])
    assert by_check_digits(luhn, "6217673162480896057", 0.2, "label")[1] == 0.2  # one digit
    assert iban_by_class("QQ53X0V0") == "QQ53X0V0"  # no such country: left as read
    assert iban_by_class("GB53X0V0") == "GB53X0V0"  # not a UK length: left as read


def test_a_resident_id_is_checked_by_its_check_digit_alone() -> None:
    assert passes("11010519491231002X", ["cn_ric"]) and passes("11010519491231002x", ["cn_ric"])
    assert not passes("11020519491231002X", ["cn_ric"])  # one digit changed
    # check digit right, region code python-stdnum cannot place in the birth year: readable
    # (the rules warn about it), and never a crash in the middle of reading a form
    assert passes("440524188001010014", ["cn_ric"])
    assert one_slip("1101051949123I002X", ["cn_ric"]) == "11010519491231002X"


def test_a_total_printed_again_settles_an_amount_a_stamp_garbled() -> None:
    spec = FieldSpec(
        type="money",
        locators=[LabelLocator(text="Amount claimed:")],
        printed_again=[LabelLocator(text="Total expenses:")],
    )
    form = Template(name="t", doc_type="t", keywords=["t"], fields={"amount": spec})

    def read(amount: str, conf: float, total: str | None, source: str = "ocr") -> Field:
        words = [
            word("Amount", 0.1, 0.40, 0.18, 0.42),
            word("claimed:", 0.19, 0.40, 0.27, 0.42),
            word(amount, 0.32, 0.40, 0.4, 0.42, conf=conf),
        ]
        if total is not None:
            words += [
                word("Total", 0.1, 0.80, 0.15, 0.82),
                word("expenses:", 0.16, 0.80, 0.25, 0.82),
                word(total, 0.32, 0.80, 0.4, 0.82, conf=0.9),
            ]
        words = [w.model_copy(update={"source": source}) for w in words]
        return extract_fields(page(*words), form)["amount"]

    garbled = read("4870.98", 0.52, "4870.08")  # the surer reading wins, for review
    assert garbled.value == "4870.08" and garbled.confidence == 0.5
    assert "read '4870.98' where printed again" in garbled.how
    stamped = read("4870.98", 0.95, "4870.08")  # the first reading is the surer one
    assert stamped.value == "4870.98" and stamped.confidence == 0.5
    alike = read("4870.08", 0.52, "4870.08")  # two readings agree: as sure as the surer
    assert alike.value == "4870.08" and alike.confidence == 0.9
    assert "printed again alike" in alike.how and alike.evidence == "scan/agreed"
    assert garbled.evidence == "scan/typed"  # readings that differ vouch for nothing
    alone = read("4870.98", 0.52, None)  # not printed again: nothing changes
    assert alone.value == "4870.98" and alone.confidence == 0.52
    lost = read("R@#", 0.4, "4870.08")  # the first reading is no amount at all
    assert lost.value == "4870.08" and "printed again" in lost.how
    printed = read("99.00", 1.0, "4870.08", source="text")  # the document's own difference
    assert printed.value == "99.00" and printed.confidence == 1.0
    assert "printed again as '4870.08'" in printed.how


def test_an_mrz_whose_check_digits_fail_in_the_page_is_read_again_from_its_band() -> None:
    source = open_source(SMALL / "0007-passport-digital.png")
    read = extract_source(source, load_templates(TEMPLATES).values()).layout.pages[0]
    found = find_lines(Doc(Layout(pages=[read])), None)
    assert found is not None
    _, line2 = passport_mrz()
    line2_words = lines_of(found[2])[-1]
    garbled = line2[:16] + line2[15:]  # a digit of the date of birth read twice
    words = [w for w in read.words if w not in line2_words]
    words.append(line2_words[0].model_copy(update={"text": garbled, "box": union(line2_words)}))
    page_read = Layout(pages=[read.model_copy(update={"words": words})])
    without_image = locate_mrz(Doc(page_read), MrzLocator(part="line2"))
    assert without_image is not None and "FAIL" in without_image.how
    again = locate_mrz(Doc(page_read, source.image), MrzLocator(part="line2"))
    assert again is not None and again.text == line2 and "check digits pass" in again.how


def test_a_table_drops_a_line_of_specks_and_the_noise_at_a_cells_ends() -> None:
    loc = TableLocator(
        header=["Date", "Description", "Amount"],
        columns=["date", "description", "amount"],
        types=["date", "text", "money"],
        end="Total expenses:",
    )

    def line(y: float, *cells: tuple[str, float, float]) -> list[Word]:
        return [word(text, x0, y, x1, y + 0.02) for text, x0, x1 in cells]

    layout = page(
        *line(0.20, ("Date", 0.1, 0.15), ("Description", 0.3, 0.42), ("Amount", 0.7, 0.78)),
        word(".", 0.12, 0.235, 0.125, 0.24, conf=0.1),  # specks under the header
        *line(0.25, ("29.07.2026", 0.1, 0.2), ("_", 0.29, 0.295), ("Hotel", 0.3, 0.35)),
        *line(0.25, ("stay", 0.36, 0.4), ("178.85", 0.7, 0.77)),
        *line(0.29, ("01.09.2026", 0.1, 0.2), ("Towing", 0.3, 0.37), ("service:", 0.38, 0.46)),
        *line(0.29, ("2,148.08", 0.7, 0.78)),
        *line(0.35, ("Total", 0.1, 0.15), ("expenses:", 0.16, 0.25)),
    )
    hit = locate_table(Doc(layout), loc)
    assert hit is not None and hit.match == 1.0
    assert json.loads(hit.text) == [
        {"date": "2026-07-29", "description": "Hotel stay", "amount": "178.85"},
        {"date": "2026-09-01", "description": "Towing service", "amount": "2148.08"},
    ]


def test_a_value_makes_sense_when_it_reads_as_its_field() -> None:
    claim = load_templates(TEMPLATES)["claim"].fields
    assert makes_sense(claim["currency"], "GBP")
    assert not makes_sense(claim["currency"], "oo ms Gar")  # none of the listed values
    assert makes_sense(claim["date_of_loss"], "2026-08-21")
    assert not makes_sense(claim["date_of_loss"], "Ot Aupast 2996")  # no date
    assert makes_sense(claim["amount_claimed"], "1461.58")
    assert not makes_sense(claim["amount_claimed"], "ede")
    assert not makes_sense(claim["policy_number"], None)
    assert makes_sense(claim["loss_description"], "Water from a busst pipe")  # text: any
    bank = load_templates(TEMPLATES)["claim_cn"].fields["bank_account"]
    assert makes_sense(bank, "6259660023689350071")
    assert not makes_sense(bank, "6259060023689350071")  # its check digit fails


def test_looks_agree_on_the_value_most_of_them_read() -> None:
    def read(value: str | None, confidence: float = 0.8) -> Field:
        return Field(name="currency", value=value, confidence=confidence)

    assert agreed([read("GBP", 0.6), read("gbp", 0.9), read("GEP")]) == read("gbp", 0.9)
    assert agreed([read("GBP"), read("GEP"), read(None)]) is None  # no two alike
    assert agreed([read("GBP"), read("GEP"), read("GEP"), read("GBP")]) is None  # a tie
    assert agreed([]) is None


def read_with_slips(
    name: str, misreads: dict[str, str]
) -> tuple[Source, Template, Extraction, dict[str, Field], dict[str, object]]:
    """A small-corpus claim read, its fields ``misreads`` names given those readings at
    confidence 0.3: source, template, first extraction, slipped fields, truth."""
    path = SMALL / name
    truth = json.loads(path.with_suffix(".truth.json").read_text())["fields"]
    template = load_templates(TEMPLATES)["claim"]
    source = read_document(path)
    first = extract_source(source, [template])
    slipped = dict(first.fields)
    for field, misread in misreads.items():
        slipped[field] = first.fields[field].model_copy(
            update={"value": misread, "confidence": 0.3}
        )
    return source, template, first, slipped, truth


def test_a_field_whose_reading_makes_no_sense_is_read_again_in_other_looks() -> None:
    misreads = {"currency": "oo ms Gar", "date_of_loss": "Ot Aupast 2996"}
    source, template, first, slipped, truth = read_with_slips("0002-claim-bad_fax.tiff", misreads)
    again = reread_unsettled(source, template, first.layout, slipped)
    for name in ("currency", "date_of_loss"):
        assert again[name].value == truth[name], name
        assert not again[name].confident and "looks" in again[name].how
    assert {n: f for n, f in again.items() if n not in ("currency", "date_of_loss")} == {
        n: f for n, f in slipped.items() if n not in ("currency", "date_of_loss")
    }
    # a blank the form allows is no reason to read the page again
    blank = dict(first.fields) | {"place_of_loss": Field(name="place_of_loss", how="not found")}
    assert reread_unsettled(source, template, first.layout, blank) is blank


def test_an_iban_every_look_reads_alike_is_trusted_as_they_read_it() -> None:
    path = SMALL / "0001-claim-office_scan.pdf"
    iban = json.loads(path.with_suffix(".truth.json").read_text())["fields"]["bank_account"]
    misreads = {
        "bank_account": iban[:9] + iban[8:],
        "currency": "oo ms Gar",
    }  # a character read twice: no IBAN
    source, template, first, slipped, truth = read_with_slips(path.name, misreads)
    again = reread_unsettled(source, template, first.layout, slipped)
    assert again["bank_account"].value == iban
    assert "4 of 4 looks" in again["bank_account"].how
    assert calibrated(again)["bank_account"].confident
    assert again["currency"].value == truth["currency"]
    assert not calibrated(again)["currency"].confident  # no check digits: a person checks it


def test_a_nationality_is_one_of_the_countries_and_a_second_reading_spells_one_or_none() -> None:
    nationality = load_templates(TEMPLATES)["account_opening"].fields["nationality"]
    assert {"Germany", "United Kingdom", "United States", "China"} <= set(nationality.values)
    assert one_of(nationality, "Germany", 0.9, "label")[:2] == ("Germany", 0.9)
    taken, confidence, how = one_of(nationality, "United Kingdom o", 0.9, "label")
    assert taken == "United Kingdom" and confidence < 0.9 and "taken as" in how
    assert not makes_sense(nationality, "Geimrany")
    read = Field(
        name="nationality", value="Germany", confidence=0.46, threshold=nationality.threshold
    )
    assert judged(read, nationality, "Lb Gemrany") == read  # spells no country: no opinion
    assert judged(read, nationality, "Germany") == read
    assert judged(read, nationality, "Gemany").value == "Germany"  # spells the same country


def test_a_choice_finds_each_captions_own_place_and_distrusts_a_tick_among_unseen_captions() -> (
    None
):
    # a 1000 x 1000 page: five options in two rows, each box 20 px left of its caption
    gray = np.full((1000, 1000), 255, np.uint8)
    options = ["< 25,000", "25,000 - 50,000", "50,000 - 100,000", "100,000 - 250,000"]
    options.append("> 250,000")
    places = [(340, 500), (540, 500), (740, 500), (340, 540), (540, 540)]
    for x, y in places:
        cv2.rectangle(gray, (x - 28, y - 8), (x - 12, y + 8), 0, 2)
    cv2.line(gray, (312, 540), (328, 532), 0, 3)  # "100,000 - 250,000" is ticked
    cv2.line(gray, (312, 532), (328, 540), 0, 3)
    texts = [["<", "25.000"], ["25,000", "-", "50,000"], ["50,000", "-", "100,000"]]
    texts += [["100,000", "-", "250,000"], ["[(]>", "250,000"]]
    words = []
    for (x, y), run in zip(places, texts, strict=True):
        for i, text in enumerate(run):
            words.append(
                word(
                    text,
                    (x + 60 * i) / 1000,
                    (y - 8) / 1000,
                    (x + 60 * i + 50) / 1000,
                    (y + 8) / 1000,
                )
            )
    layout = Layout(pages=[Page(number=1, width=1000, height=1000, words=words)])
    locator = ChoiceLocator(options=options)
    # "250,000" of the fourth caption spells the fifth as well as its own does
    captions = captions_apart(layout.pages[0], options, locator.match)
    assert union(captions["> 250,000"][0]).x0 == 0.6
    hit = locate_choice(Doc(layout, lambda _: gray), locator)
    assert hit is not None and hit.text == "100,000 - 250,000" and hit.match > 0.8
    garbled = [w for w in words if w.text != "50,000" or w.box.x0 != 0.74]
    garbled.append(word("50.006", 0.74, 0.492, 0.79, 0.508))
    unseen = Layout(pages=[Page(number=1, width=1000, height=1000, words=garbled)])
    hit = locate_choice(Doc(unseen, lambda _: gray), locator)
    assert hit is not None and hit.text == "100,000 - 250,000"
    assert hit.match <= UNSEEN_OPTION and "1 of the captions not found" in hit.how, hit.how


def test_a_passport_name_not_read_where_printed_falls_back_to_the_mrz_for_review() -> None:
    path = SMALL / "0007-passport-digital.png"
    template = load_templates(TEMPLATES)["passport"]
    first = extract_source(read_document(path), [template])
    assert first.fields["surname"].value == "O'Neill-Fitzgerald"
    lost = Field(name="surname", required=True, how="not found")
    missing = first.fields | {"surname": lost}
    fallen = with_fallbacks(first.layout, template, missing)
    surname = fallen["surname"]
    assert surname.value == "ONEILL FITZGERALD"  # the MRZ's capitals: no apostrophe, no hyphen
    assert not surname.confident and "fallback" in surname.how
    assert {n: f for n, f in fallen.items() if n != "surname"} == {
        n: f for n, f in missing.items() if n != "surname"
    }
    assert with_fallbacks(first.layout, template, first.fields) is first.fields  # all read
    spec = template.fields["surname"].model_copy(update={"required": False})
    optional = template.model_copy(update={"fields": template.fields | {"surname": spec}})
    assert with_fallbacks(first.layout, optional, missing) is missing  # only a required field


def test_a_second_reading_is_taken_for_its_letters_not_for_more_punctuation() -> None:
    assert replaces("Muller", "Müller")  # the Latin model knows the diacritics
    assert replaces("FR", "秀英市")  # another script the first model could not read
    assert not replaces("Biomedical engineer", "Biomedica! engineer")  # l read as !
    assert replaces("OBrien", "O'Brien")  # an apostrophe the first model missed
    assert replaces("xiujanweiBexamplie .net", "xiulanwei@example.net")  # and an @
    assert not replaces("Zou", "Brna Zou")  # another reading altogether


def test_mrz_check_digits_vouch_only_for_one_reading_with_its_composite_read() -> None:
    line1 = "P<D<<ONEILL<FITZGERALD<<DARCY<<<<<<<<<<<<<<<"
    line2 = "8ZYR5CCVF3D<<8207159M3010208<<<<<<<<<<<<<<<2"
    assert checks_pass(line2)
    # 8/B and 5/S slips cancel out: both readings of the number pass every check digit
    assert set(number_readings(line2)) == {"8ZYR5CCVF", "BZYRSCCVF"}
    assert "2 readings of the number" in doubt_of(Lines(line1, line2, [], 1))
    specimen = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"  # ICAO 9303's own
    assert set(number_readings(specimen)) == {"L898902C3", "LB9B902C3"}  # 8/B twice cancels
    _, plain = td3_mrz(
        state="D", surname="Weber", given_names="Anna", number="X4RT7PFW4", nationality="D",
        birth=date(1980, 1, 2), sex="F", expiry=date(2030, 1, 2),
    )  # fmt: skip
    assert checks_pass(plain) and number_readings(plain) == ["X4RT7PFW4"]
    assert doubt_of(Lines(line1, plain, [], 1)) is None
    assert "composite check digit not read" in doubt_of(Lines(line1, plain, [], 1, False))


def test_an_email_or_identifier_unlike_its_kind_and_a_repaired_number_are_never_trusted() -> None:
    assert why_not("email", "ytang@example.net") is None
    assert why_not("email", "ytang@example net") == "not an e-mail address"
    assert why_not("identifier", "POL-220940") is None
    assert why_not("identifier", "£450183569") == "'£' in it, for an identifier"
    label = LabelLocator(text="ID")
    spec = FieldSpec(type="identifier", check_digits=["cn_ric"], locators=[label])
    # a check digit read as its look-alike, or printed wrong: repaired, for a person to confirm
    value, confidence, how = by_check_digits(spec, "1101051949123I002X", 0.95, "label")
    assert value == "11010519491231002X" and confidence <= 0.6 and "check digits make it" in how
    assert by_check_digits(spec, "11010519491231002X", 0.95, "label")[1] == 0.95


def test_a_second_address_line_set_wide_below_the_first_is_read() -> None:
    spec = FieldSpec(locators=[LabelLocator(text="Address:", skip=1)])
    form = Template(name="t", doc_type="t", keywords=["t"], fields={"line2": spec})
    layout = page(
        word("Address:", 0.101, 0.264, 0.182, 0.28),
        word("2686 Aaron Views", 0.32, 0.266, 0.485, 0.276),
        word("87119 West Maryport", 0.32, 0.292, 0.519, 0.302),  # 2.4 line heights down
        word("Phone:", 0.102, 0.317, 0.165, 0.332),
        word("256.996.0966", 0.32, 0.318, 0.517, 0.328),
    )
    assert extract_fields(layout, form)["line2"].value == "87119 West Maryport"
    alone = page(*[w for w in layout.pages[0].words if "Maryport" not in w.text])
    assert extract_fields(alone, form)["line2"].value is None  # Phone's line is not line 2


def test_a_passport_number_counts_as_printed_again_alike_when_only_look_alikes_differ() -> None:
    """The MRZ's number, vouched for by its check digits, and the page's print of it read
    with an O for its 0: they agree, the MRZ's value kept. A number nothing vouches for
    does not agree with a reading that differs, nor does a different digit."""
    mrz = Field(name="n", value="WL4RHN4W0", confidence=1.0, evidence="scan/mrz", page=1)
    page_print = Field(name="n", value="WL4RHN4WO", confidence=0.9, evidence="scan/typed", page=1)
    alike = reconciled(mrz, page_print, scanned=True, folded=True)
    assert (alike.value, alike.evidence, alike.printed_again) == ("WL4RHN4W0", "scan/agreed", None)
    plain = mrz.model_copy(update={"evidence": "scan/typed"})
    assert reconciled(plain, page_print, scanned=True, folded=True).printed_again is not None
    misread = page_print.model_copy(update={"value": "WL4RHN4W9"})
    differs = reconciled(mrz, misread, scanned=True, folded=True)
    assert differs.confidence <= 0.5 and differs.printed_again is not None
    # L (21) and 1, G (16) and 6 weigh alike modulo 10: the check digits decided nothing
    for zone, printed in (("5GT4FLMYG", "5GT4F1MYG"), ("X4RT7PFWG", "X4RT7PFW6")):
        assert checks_pass(td3_line2(zone)) and checks_pass(
            td3_line2(printed)[:9] + td3_line2(zone)[9:]
        )
        blind = reconciled(
            mrz.model_copy(update={"value": zone}),
            page_print.model_copy(update={"value": printed}),
            scanned=True,
            folded=True,
        )
        assert blind.printed_again is not None and blind.confidence <= 0.5, zone


def td3_line2(number: str) -> str:
    return td3_mrz(
        state="D", surname="Weber", given_names="Anna", number=number, nationality="D",
        birth=date(1980, 1, 2), sex="F", expiry=date(2030, 1, 2),
    )[1]  # fmt: skip


def test_an_mrz_is_held_to_the_print_its_lines_doubted_and_line_1_agreed() -> None:
    """A digital passport: line 1 is the line its printed state and names make; a line
    whose number disagrees with the print is not trusted, whatever its check digits say."""
    template = load_templates(TEMPLATES)["passport"]
    read = extract_source(read_document(SMALL / "0007-passport-digital.png"), [template])
    line1 = read.fields["mrz_line1"]
    assert line1.value == passport_mrz()[0] and line1.evidence == "scan/agreed", line1.how
    assert "printed state and names make it" in line1.how
    fields = {
        n: f.model_copy(update={"how": "read", "printed_again": None, "evidence": "scan/agreed"})
        for n, f in read.fields.items()
    }
    fields["mrz_line2"] = fields["mrz_line2"].model_copy(update={"confidence": 1.0})
    off = fields["document_number"].model_copy(
        update={"printed_again": PrintedAgain(value="X", page=1)}
    )
    doubted = lines_doubted(template, fields | {"document_number": off})
    assert (
        doubted["mrz_line2"].confidence <= 0.5
        and "document_number disagrees" in doubted["mrz_line2"].how
    )
    assert doubted["mrz_line1"] == fields["mrz_line1"]
    number = fields["mrz_line2"].value
    slipped = fields["mrz_line2"].model_copy(update={"value": number[:5] + "O" + number[6:]})
    assert number[5] != "O" and checks_pass(number)
    failed = checks_failed(template, fields | {"mrz_line2": slipped})
    assert failed["document_number"].confidence <= 0.5, "its own check digit fails"
    assert "check digit in the MRZ fails" in failed["document_number"].how
    assert failed["date_of_birth"] == fields["date_of_birth"]  # its own check digit passes
    renamed = fields["surname"].model_copy(update={"value": "Fitzgerald"})
    assert line1_agreed(template, fields | {"surname": renamed}) == fields | {"surname": renamed}
    once = fields["issuing_state"].model_copy(update={"evidence": "scan/typed"})
    assert (
        line1_agreed(template, fields | {"issuing_state": once})["mrz_line1"] == fields["mrz_line1"]
    )


def test_a_printed_name_makes_its_mrz_spelling_as_icao_transliterates_it() -> None:
    assert "P<D<<MUELLER<LUEDENSCHEID<<JUERGEN".ljust(44, "<") in composed(
        "D", "Müller-Lüdenscheid", "Jürgen"
    )
    assert "P<D<<MULLER<LUDENSCHEID<<JURGEN".ljust(44, "<") in composed(
        "D", "Müller-Lüdenscheid", "Jürgen"
    )
    assert any(
        line.startswith("P<GBRONEILL<<DARCY<<") for line in composed("GBR", "O'Neill", "D'Arcy")
    )
    assert any(
        line.startswith("P<POLLUKASIEWICZ<<") for line in composed("POL", "Łukasiewicz", "Ewa")
    )
    long = composed("D", "Featherstonehaugh-Cholmondeley", "Bartholomew Alexander")
    assert {len(line) for line in long} == {44}


def test_an_iban_that_passes_is_evidence_apart_from_a_single_check_digit() -> None:
    spec = FieldSpec(locators=[LabelLocator(text="Bank account:")], check_digits=["iban", "luhn"])
    iban, card = "GB68OTMR34259806968116", "6217673162480896057"
    assert checked_evidence(spec, iban, "scan/checked") == "scan/iban"
    assert checked_evidence(spec, card, "scan/checked") == "scan/checked"  # Luhn alone
    assert checked_evidence(spec, iban, "scan/mrz") == "scan/mrz"  # vouched otherwise


def test_a_vouched_number_the_page_misread_is_looked_at_again_alone_in_the_print() -> None:
    """The page's reading of the printed passport number ran two letters together: the
    print is read again alone, at other sizes, and agrees with the MRZ; a print that says
    another number stays a disagreement for a person."""
    template = load_templates(TEMPLATES)["passport"]
    source = read_document(SMALL / "0007-passport-digital.png")
    read = extract_source(source, [template])
    spec = template.fields["document_number"]
    doc = Doc(read.layout, source.image, captions_in(template))
    vouched = read_field(doc, "document_number", spec)
    assert vouched.evidence == "scan/mrz"
    elsewhere = spec.model_copy(update={"locators": spec.printed_again, "printed_again": []})
    printed = read_field(doc, "document_number", elsewhere)
    misread = printed.model_copy(update={"value": printed.value[:4] + "S" + printed.value[4:]})
    again = looked_at_again(doc, "document_number", elsewhere, vouched, misread)
    assert again.value == vouched.value and "read alone again" in again.how
    other = vouched.model_copy(update={"value": "X" + vouched.value[1:]})
    assert looked_at_again(doc, "document_number", elsewhere, other, misread) is misread


def test_a_table_whose_amounts_add_up_to_its_printed_total_is_not_doubted_for_them() -> None:
    """The total vouches for the amount column: a cell OCR was unsure of no longer sets the
    table's confidence; a total the column misses, or none, leaves every cell's doubt."""
    loc = TableLocator(
        header=["Date", "Description", "Amount"],
        columns=["date", "description", "amount"],
        types=["date", "text", "money"],
        end="Total expenses:",
        total="amount",
    )

    def table(total: str) -> Layout:
        return page(
            word("Date", 0.1, 0.20, 0.15, 0.21),
            word("Description", 0.3, 0.20, 0.4, 0.21),
            word("Amount", 0.7, 0.20, 0.78, 0.21),
            word("12/07/2026", 0.1, 0.23, 0.2, 0.24),
            word("Taxi", 0.3, 0.23, 0.35, 0.24),
            word("112.00", 0.7, 0.23, 0.76, 0.24, conf=0.55),
            word("13/07/2026", 0.1, 0.26, 0.2, 0.27),
            word("Towing", 0.3, 0.26, 0.37, 0.27, conf=0.9),
            word("1,709.48", 0.7, 0.26, 0.78, 0.27),
            word("Total", 0.5, 0.30, 0.55, 0.31),
            word("expenses:", 0.56, 0.30, 0.64, 0.31),
            word(total, 0.7, 0.30, 0.78, 0.31),
        )

    added = locate_table(Doc(table("1,821.48")), loc)
    assert added is not None and "adds up to the printed total" in added.how
    assert hit_confidence(added) == 0.9  # the description's doubt, not the amount's
    missed = locate_table(Doc(table("1,821.40")), loc)
    assert missed is not None and hit_confidence(missed) == 0.55
    plain = locate_table(Doc(table("1,821.48")), loc.model_copy(update={"total": None}))
    assert plain is not None and hit_confidence(plain) == 0.55
    with pytest.raises(ValidationError, match="not one of the money columns"):
        TableLocator(
            header=["A", "B"], columns=["a", "b"], types=["text", "date"], end="T", total="b"
        )
    with pytest.raises(ValidationError, match="total needs end"):
        TableLocator(header=["A"], columns=["a"], types=["money"], total="a")
