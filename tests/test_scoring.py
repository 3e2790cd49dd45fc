"""benchmarks.scoring: how a truth field and an extracted value are compared, and the totals."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from benchmarks.scoring import (
    RowTotals,
    RulesTotals,
    amount,
    calendar_date,
    kind_of,
    normalise,
    same,
    score_fields,
)


def got(value: object, confident: bool = True, confidence: float = 0.9) -> dict:
    """One extracted field as the accuracy pass records it."""
    return {"value": value, "confidence": confidence, "confident": confident}


# -- text, identifiers, checkboxes ------------------------------------------------------------


def test_text_ignores_case_and_whitespace_but_not_spelling() -> None:
    assert normalise("  Jane\t  DOE \n") == "jane doe"
    assert same("Jane Doe", "JANE   doe", "text")
    assert not same("Jane Doe", "Jane Dow", "text")
    assert not same("Jane Doe", "JaneDoe", "text")  # text keeps its word breaks


def test_identifier_loses_its_spaces() -> None:
    assert normalise("de58 3943 7472", "identifier") == "de5839437472"
    assert same("DE58394374723145245368", "DE58 3943 7472 3145 2453 68", "identifier")
    assert not same("DE58394374723145245368", "DE58 3943 7472 3145 2453 69", "identifier")


@pytest.mark.parametrize("mark", sorted({"X", "yes", " ✓ ", "Checked", "1", "☑", "true"}))
def test_checkbox_ticks(mark: str) -> None:
    assert normalise(mark, "checkbox") == "true"
    assert same(True, mark, "checkbox")
    assert not same(False, mark, "checkbox")


@pytest.mark.parametrize("mark", ["", "no", "OFF", "☐", "unticked", "0"])
def test_checkbox_blanks(mark: str) -> None:
    assert normalise(mark, "checkbox") == "false"
    assert same(False, mark, "checkbox")
    assert not same(True, mark, "checkbox")


def test_checkbox_mark_neither_ticked_nor_unticked_matches_nothing() -> None:
    assert normalise("maybe", "checkbox") == "maybe"
    assert not same(True, "maybe", "checkbox")
    assert not same(False, "maybe", "checkbox")


def test_kind_comes_from_the_template_else_from_the_truth() -> None:
    assert kind_of("2026-08-21", "date") == "date"
    assert kind_of(True, None) == "checkbox"
    assert kind_of([{"a": 1}], None) == "table"
    assert kind_of("2026-08-21", None) == "text"


# -- amounts ------------------------------------------------------------------------------------

SAME_AMOUNT = [
    "1234.5",
    "1234.50",
    "1,234.50",
    "1 234.50",
    "1\u00a0234.50",  # a no-break space between the thousands
    "1'234.50",
    "€1,234.50",
    "€ 1,234.50",
    "1234.50 EUR",
    "EUR 1,234.50",
    "1.234,50",  # comma before the cents: unambiguous with the dot grouping
    "1.234,5",
    "1234,50",
    "1 234,50 €",
    "US$1,234.50",
    "１,２３４.５０",  # full-width digits
]


@pytest.mark.parametrize("written", SAME_AMOUNT)
def test_one_amount_written_many_ways(written: str) -> None:
    assert amount(written) == Decimal("1234.50")
    assert normalise(written, "money") == "1234.50"
    assert same("1234.50", written, "money")


@pytest.mark.parametrize(
    "written", ["1234.51", "1,234.05", "12,345.00", "123.45", "1234.505", "-1234.50", "€1,234"]
)
def test_a_different_amount_does_not_match(written: str) -> None:
    assert not same("1234.50", written, "money")


def test_amounts_compare_exactly_to_the_cent_and_beyond() -> None:
    assert normalise("1234.505", "money") == "1234.505"  # not rounded to 1234.50 or 1234.51
    assert same("1234.00", "1234", "money")
    assert same("0.00", "-0", "money")
    assert normalise("-12.5", "money") == "-12.50"
    assert same("-12.50", "−12.50 EUR", "money")


@pytest.mark.parametrize(
    "written, value",
    [
        ("1,234,567", "1234567.00"),  # two commas: only thousands
        ("1.234.567", "1234567.00"),  # two dots: only thousands
        ("1,234,567.89", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("1234.567", "1234.567"),  # four digits before the dot: it cannot be grouping
        ("1234,567", "1234.567"),
        ("12,5", "12.50"),  # two digits after the comma: it cannot be grouping
    ],
)
def test_a_comma_or_dot_read_only_one_way_is_read(written: str, value: str) -> None:
    assert normalise(written, "money") == value


@pytest.mark.parametrize("written", ["1,234", "1.234", "0.123", "12,345", "999.999"])
def test_a_writing_two_conventions_read_differently_stays_text(written: str) -> None:
    # "1,234" is 1234 with an English grouping comma and 1.234 with a European decimal comma
    assert amount(written) is None
    assert normalise(written, "money") == written
    assert not same(written.replace(",", "").replace(".", "") + ".00", written, "money")
    assert not same("1.23", written, "money")
    assert same(written, written, "money")  # the very same writing still matches


@pytest.mark.parametrize(
    "written",
    [
        "twelve",
        "12 apples",
        "ref 12",
        "12 pcs",
        "No. 12",
        "1,23,456.00",
        "1,2345.00",
        "1.234,567.89",
        "--12",
        "12-",
        "",
        ".",
    ],
)
def test_not_an_amount_stays_text(written: str) -> None:
    assert amount(written) is None
    assert normalise(written, "money") == " ".join(written.split()).casefold()


def test_an_amount_that_is_not_one_cannot_match_a_number() -> None:
    assert not same("12.00", "12 apples", "money")
    assert not same("1234.56", "1,23,456.00", "money")  # irregular grouping: text
    assert not same("1234.00", "1,2345.00", "money")


def test_amounts_compare_by_value_only_for_money_fields() -> None:
    assert not same("1234.50", "1,234.50", "text")
    assert not same("1234.50", "1,234.50", "identifier")


# -- dates --------------------------------------------------------------------------------------

SAME_DATE = [
    "2026-08-21",
    "2026-8-21",
    "2026/08/21",
    "21/08/2026",
    "21/8/2026",
    "21.08.2026",
    "21-08-2026",
    "21 August 2026",
    "21 august 2026",
    "21 Aug 2026",
    "21st August 2026",
    "21-Aug-2026",
    "Aug 21, 2026",
    "August 21, 2026",
    "Aug. 21 2026",
    "2026年8月21日",
    "2026 年 08 月 21 日",
    "  21/08/2026 ",
]


@pytest.mark.parametrize("written", SAME_DATE)
def test_one_date_written_many_ways(written: str) -> None:
    assert normalise(written, "date") == "2026-08-21"
    assert same("2026-08-21", written, "date")
    assert same("21 August 2026", written, "date")  # whichever side is written which way


@pytest.mark.parametrize("written", ["22/08/2026", "2026-08-22", "21 Sept 2026", "21.08.2025"])
def test_a_different_date_does_not_match(written: str) -> None:
    assert not same("2026-08-21", written, "date")


def test_numbers_with_the_year_last_are_always_day_first() -> None:
    assert calendar_date("03/04/2026").isoformat() == "2026-04-03"  # 3 April, never 4 March
    assert same("2026-04-03", "03/04/2026", "date")
    assert not same("2026-03-04", "03/04/2026", "date")
    assert not same("03/04/2026", "04/03/2026", "date")
    assert calendar_date("03.04.2026") == calendar_date("03/04/2026")


def test_a_month_first_date_is_not_read_month_first() -> None:
    # 08/21/2026 has no 21st month: it stays text rather than being re-read as 21 August
    assert calendar_date("08/21/2026") is None
    assert normalise("08/21/2026", "date") == "08/21/2026"
    assert not same("2026-08-21", "08/21/2026", "date")


@pytest.mark.parametrize(
    "written", ["31/02/2026", "2026-13-01", "21/08/26", "21/08.2026", "21 Augustus 2026", "soon"]
)
def test_not_a_date_stays_text(written: str) -> None:
    assert calendar_date(written) is None
    assert normalise(written, "date") == written.casefold()
    assert not same("2026-08-21", written, "date")


def test_dates_compare_by_meaning_only_for_date_fields() -> None:
    assert not same("2026-08-21", "21/08/2026", "text")


# -- tables -------------------------------------------------------------------------------------

EXPENSES = [
    {"date": "2026-10-25", "description": "Prescription medicine", "amount": "402.33"},
    {"date": "2026-10-21", "description": "Taxi to hospital", "amount": "1688.20"},
]


def test_a_table_compares_item_by_item_with_dates_and_amounts_by_meaning() -> None:
    extracted = json.dumps(
        [
            {"date": "25.10.2026", "description": "PRESCRIPTION  medicine", "amount": "402,33"},
            {"date": "21 October 2026", "description": "Taxi to hospital", "amount": "1,688.2"},
        ]
    )
    assert same(EXPENSES, extracted, "table")
    assert same(EXPENSES, extracted, kind_of(EXPENSES, None))


def test_a_table_with_one_wrong_cell_is_wrong() -> None:
    wrong_amount = [dict(EXPENSES[0]), dict(EXPENSES[1], amount="1688.21")]
    wrong_date = [dict(EXPENSES[0], date="26/10/2026"), dict(EXPENSES[1])]
    wrong_text = [dict(EXPENSES[0]), dict(EXPENSES[1], description="Taxi to the hospital")]
    for rows in (wrong_amount, wrong_date, wrong_text):
        assert not same(EXPENSES, json.dumps(rows), "table")


def test_a_table_keeps_its_order_and_length() -> None:
    assert not same(EXPENSES, json.dumps(EXPENSES[::-1]), "table")
    assert not same(EXPENSES, json.dumps(EXPENSES[:1]), "table")
    assert not same(EXPENSES, json.dumps([*EXPENSES, EXPENSES[0]]), "table")


def test_a_table_cell_is_text_unless_its_key_is_a_date_or_an_amount() -> None:
    truth = [{"date": "2026-09-03", "cpt": "97110", "charge": "1234.50", "note": "1234.50"}]
    as_read = [{"date": "03/09/2026", "cpt": "97110", "charge": "1 234,50", "note": "1234.50"}]
    assert same(truth, json.dumps(as_read), "table")
    as_read[0]["note"] = "1,234.50"  # not an amount column: compared as text
    assert not same(truth, json.dumps(as_read), "table")
    as_read[0].update(note="1234.50", cpt="97 110")
    assert not same(truth, json.dumps(as_read), "table")


def test_a_table_cell_left_empty_and_the_truths_own_notes() -> None:
    truth = [{"date": "2026-09-03", "charge": "", "_why": "a note of the generator"}]
    assert same(truth, json.dumps([{"date": "2026-09-03", "charge": None}]), "table")
    assert not same(truth, json.dumps([{"date": "2026-09-03", "charge": "0.00"}]), "table")


def test_a_table_that_is_not_json_is_text_and_wrong() -> None:
    assert not same(EXPENSES, "Prescription medicine 402.33", "table")


def test_a_list_of_codes_compares_item_by_item() -> None:
    assert same(["R51", "I10"], json.dumps(["r51", " I10"]), "list")
    assert not same(["R51", "I10"], json.dumps(["I10", "R51"]), "list")


# -- empty truth --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "identifier", "date", "money"])
def test_an_empty_truth_matches_an_empty_or_absent_value(kind: str) -> None:
    assert same("", None, kind)
    assert same("", "  ", kind)
    assert same(None, None, kind)
    assert not same("", "x", kind)
    assert not same("", "0", kind)


def test_an_empty_table_matches_an_empty_or_absent_one() -> None:
    assert same([], None, "table")
    assert same([], "[]", "table")
    assert not same([], json.dumps(EXPENSES), "table")


# -- score_fields -------------------------------------------------------------------------------

TRUTH = {"policy_number": "POL-1", "date_of_loss": "2026-08-21", "amount_claimed": "1234.50"}
TYPES = {"policy_number": "identifier", "date_of_loss": "date", "amount_claimed": "money"}


def test_fields_are_scored_with_their_template_type() -> None:
    extracted = {
        "policy_number": got("pol- 1"),
        "date_of_loss": got("21/08/2026"),
        "amount_claimed": got("€1,234.50"),
    }
    scores = score_fields(TRUTH, extracted, TYPES)
    assert [s.name for s in scores] == list(TRUTH)
    assert all(s.correct for s in scores)
    # the same readings under text fields are different writings, so wrong
    text_types = dict.fromkeys(TYPES, "text")
    assert not any(s.correct for s in score_fields(TRUTH, extracted, text_types))


def test_a_truth_field_the_template_does_not_extract_counts_wrong() -> None:
    truth = TRUTH | {"email": "a@b.c"}
    extracted = {name: got(value) for name, value in TRUTH.items()}
    scores = {s.name: s for s in score_fields(truth, extracted, TYPES)}
    assert len(scores) == 4  # it stays in the denominator
    assert not scores["email"].correct
    assert not scores["email"].in_template
    assert scores["email"].extracted is None
    assert scores["email"].confidence == 0.0
    totals = RowTotals()
    totals.add(scores.values(), "review", True, True)
    assert totals.figures()["field_accuracy"] == 0.75


def test_a_value_for_a_field_outside_the_template_counts_wrong() -> None:
    extracted = {name: got(value) for name, value in TRUTH.items()}
    types = {k: v for k, v in TYPES.items() if k != "policy_number"}
    scores = {s.name: s for s in score_fields(TRUTH, extracted, types)}
    assert not scores["policy_number"].correct  # right value, but not the template's own
    assert scores["date_of_loss"].correct


def test_an_extra_extracted_field_does_not_change_the_score() -> None:
    extracted = {
        "policy_number": got("POL-1"),
        "date_of_loss": got("22/08/2026"),
        "amount_claimed": got("1234.50"),
    }
    plain = score_fields(TRUTH, extracted, TYPES)
    more = score_fields(TRUTH, extracted | {"phone": got("555 0100")}, TYPES | {"phone": "text"})
    assert plain == more
    assert [s.name for s in more] == list(TRUTH)
    figures = []
    for scores in (plain, more):
        totals = RowTotals()
        totals.add(scores, "review", True, True)
        figures.append(totals.figures())
    assert figures[0] == figures[1]
    assert figures[0]["field_accuracy"] == round(2 / 3, 4)


def test_no_template_makes_every_field_wrong() -> None:
    extracted = {name: got(value) for name, value in TRUTH.items()}
    scores = score_fields(TRUTH, extracted, None)
    assert len(scores) == 3
    assert not any(s.correct or s.in_template for s in scores)


def test_a_field_score_keeps_where_it_was_read() -> None:
    extracted = {"policy_number": got("POL-1") | {"page": 2, "box": [0.1, 0.2, 0.3, 0.4]}}
    (score,) = score_fields({"policy_number": "POL-1"}, extracted, TYPES)
    assert score.page == 2
    assert score.box == (0.1, 0.2, 0.3, 0.4)


# -- RowTotals ----------------------------------------------------------------------------------


def test_row_totals_figures() -> None:
    totals = RowTotals()
    # document 1, routed auto: 2 right (both confident), 1 wrong and confident, keyed wrong
    one = score_fields(
        TRUTH,
        {
            "policy_number": got("POL-1"),
            "date_of_loss": got("2026-08-21"),
            "amount_claimed": got("999.00"),
        },
        TYPES,
    )
    totals.add(one, "auto", True, True)
    # document 2, to review, misclassified: 1 right and unsure, 1 right and confident, 1 absent
    two = score_fields(
        TRUTH,
        {"policy_number": got("POL-1", confident=False), "date_of_loss": got("21.08.2026")},
        TYPES,
    )
    totals.add(two, "review", False, True)
    figures = totals.figures()
    assert figures["documents"] == 2
    assert figures["fields"] == 6
    assert figures["field_accuracy"] == round(4 / 6, 4)
    assert figures["confident_fields"] == 4
    assert figures["confident_precision"] == 0.75  # 3 of the 4 confident fields are right
    assert figures["stp_rate"] == 0.5
    assert figures["classification"] == 0.5
    assert figures["wrong_auto_keyed"] == 1
    assert figures["not_read"] == 0


def test_wrong_auto_keyed_counts_only_values_that_are_there() -> None:
    totals = RowTotals()
    scores = score_fields(TRUTH, {"policy_number": got("POL-2")}, TYPES)
    totals.add(scores, "auto", True, True)
    assert totals.wrong_auto_keyed == 1  # the two absent fields would not be keyed
    totals.add(scores, "review", True, True)
    assert totals.wrong_auto_keyed == 1  # a reviewed document is not auto-keyed


def test_a_document_that_was_not_read() -> None:
    totals = RowTotals()
    totals.add(score_fields(TRUTH, {}, None), "quarantine", False, False)
    figures = totals.figures()
    assert figures["documents"] == 1
    assert figures["not_read"] == 1
    assert figures["fields"] == 3  # its fields count, all wrong
    assert figures["field_accuracy"] == 0.0
    assert figures["confident_precision"] is None  # nothing was confident
    assert figures["stp_rate"] == 0.0
    assert figures["classification"] == 0.0


def test_empty_row_totals_have_no_ratios() -> None:
    figures = RowTotals().figures()
    assert figures["field_accuracy"] is None
    assert figures["stp_rate"] is None


# -- RulesTotals --------------------------------------------------------------------------------

REGISTERED = {"over_coverage", "loss_after_signature", "id_checksum"}


def test_planted_errors_caught_missed_and_unregistered() -> None:
    totals = RulesTotals()
    totals.add(
        "over_coverage", {"over_coverage", "id_checksum"}, {"over_coverage"}, REGISTERED, True
    )
    totals.add("loss_after_signature", {"id_checksum"}, {"id_checksum"}, REGISTERED, True)
    totals.add("loss_after_signature", set(), set(), REGISTERED, True)
    totals.add("policy_not_found", {"id_checksum"}, {"id_checksum"}, REGISTERED, True)
    assert totals.planted == 4
    assert totals.planted_measured == 3  # policy_not_found has no rule
    assert totals.caught == 1
    assert totals.missed == {"loss_after_signature": 2}
    assert totals.unregistered == {"policy_not_found": 1}
    # a document with a planted error is never a false alarm, whatever else fired
    assert totals.clean == 0
    assert totals.false_alarms == 0
    assert totals.alarm_rules == {}


def test_a_planted_error_fired_as_a_warning_is_caught() -> None:
    totals = RulesTotals()
    totals.add("over_coverage", {"over_coverage"}, set(), REGISTERED, True)
    assert totals.caught == 1
    assert totals.missed == {}


def test_false_alarms_only_on_clean_documents_that_count() -> None:
    totals = RulesTotals()
    totals.add(None, {"id_checksum"}, {"id_checksum"}, REGISTERED, True)  # alarm
    totals.add(
        None, {"id_checksum", "over_coverage"}, {"id_checksum", "over_coverage"}, REGISTERED, True
    )
    totals.add(None, {"loss_after_signature"}, set(), REGISTERED, True)  # a warning: no alarm
    totals.add(None, set(), set(), REGISTERED, True)
    totals.add(None, {"id_checksum"}, {"id_checksum"}, REGISTERED, False)  # does not count
    assert totals.clean == 4
    assert totals.false_alarms == 2
    assert totals.alarm_rules == {"id_checksum": 2, "over_coverage": 1}
    assert totals.planted == 0
