from __future__ import annotations

import json
from pathlib import Path

import pytest

from validators.identifiers import (
    account_currency,
    check,
    check_cn_ric,
    ric_birth,
    ric_upgrade,
)
from validators.masking import mask
from validators.mrz import check_digit

VECTORS_FILE = Path(__file__).parent / "data" / "ric-vectors.json"  # provenance: data/README.md
# Checksum and birth date fine, but python-stdnum's register has no such county in the
# birth year: a warning to check the card, not an error (see README, "Rules").
REGION_NOT_IN_BIRTH_YEAR = {"331122197905116239", "33050219880702447X", "440524188001010014"}
INVALID_REASONS = {
    "111111111111111111": "check digit",
    "330502198807024471": "check digit",
    "33050288070244": "14 characters, not 18",
    "3305028807024411": "16 characters, not 18",
    "T60426199101010078": "other than digits",
    "360426199113010079": "no real birth date",
    "36042619910102009X": "check digit",
    "990426199112010074": "region code that does not exist",
    "11010219840506970X": "check digit",
    "440524189001010014": "check digit",
    "11020519491231002X": "check digit",
}


@pytest.fixture(scope="module")
def vectors() -> dict:
    assert VECTORS_FILE.is_file(), f"no RIC test vectors at {VECTORS_FILE}"
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def errors(problems: list) -> list[str]:
    return [p.message for p in problems if not p.warning]


def warnings(problems: list) -> list[str]:
    return [p.message for p in problems if p.warning]


def test_valid_resident_ids_pass_cleanly(vectors: dict) -> None:
    clean = [n for n in vectors["valid_18"] if n.upper() not in REGION_NOT_IN_BIRTH_YEAR]
    assert len(clean) >= 6
    for number in clean:
        assert check_cn_ric(number) == [], number


def test_a_region_code_not_valid_in_the_birth_year_is_a_warning_not_an_error(
    vectors: dict,
) -> None:
    listed = {n.upper() for n in vectors["valid_18"]} & REGION_NOT_IN_BIRTH_YEAR
    assert listed == REGION_NOT_IN_BIRTH_YEAR
    for number in REGION_NOT_IN_BIRTH_YEAR | {"33050219880702447x"}:
        problems = check_cn_ric(number)
        assert errors(problems) == [], number
        (warning,) = warnings(problems)
        assert "not valid in the birth year" in warning and "check the card" in warning
        assert number[-4:].upper() in warning and number[:10] not in warning


def test_legacy_15_digit_ids_are_converted_and_flagged(vectors: dict) -> None:
    assert ric_upgrade("350303900203307") == "350303199002033073"
    assert ric_upgrade("330502880702447") == "33050219880702447X"
    for number in vectors["valid_15_legacy"]:
        problems = check_cn_ric(number)
        assert errors(problems) == [], number
        assert any("legacy 15-digit" in w for w in warnings(problems))
    assert ric_birth("350303900203307").isoformat() == "1990-02-03"


def test_invalid_resident_ids_say_why(vectors: dict) -> None:
    assert set(vectors["invalid"]) == set(INVALID_REASONS)
    for number, reason in INVALID_REASONS.items():
        (message,) = errors(check_cn_ric(number))
        assert reason in message, (number, message)
        assert number not in message  # masked


@pytest.mark.parametrize(
    ("scheme", "number", "outcome"),
    [
        ("us_ssn", "536-90-4399", "ok"),
        ("us_ssn", "666-12-3456", "error"),
        ("us_ssn", "078-05-1120", "error"),  # the famous wallet SSN, blacklisted
        ("us_itin", "912-90-3456", "ok"),
        ("us_tin", "912-90-3456", "ok"),
        ("us_tin", "536904399", "ok"),
        ("us_ein", "04-2103594", "ok"),
        ("us_ein", "07-1234567", "warning"),  # prefix not assigned (yet)
        ("us_ein", "12-34567", "error"),
        ("us_rtn", "111000025", "ok"),
        ("us_rtn", "111000026", "error"),
        ("iban", "DE12763296552537762124", "ok"),
        ("iban", "DE12763296552537762125", "error"),
        ("iban", "GB11OOXG52450924162344", "ok"),
        ("luhn", "6272735697671367120", "ok"),
        ("luhn", "6272735697671367121", "error"),
        ("luhn", "1234", "error"),
        ("mrz_td3", "Z911533560GBR4701213M3105043<<<<<<<<<<<<<<<0", "ok"),
        ("mrz_td3", "Z911533561GBR4701213M3105043<<<<<<<<<<<<<<<0", "error"),
        ("mrz_td3", "Z911533560GBR4701213M31050", "error"),
    ],
)
def test_identifier_schemes(scheme: str, number: str, outcome: str) -> None:
    problems = check(scheme, number)
    if outcome == "ok":
        assert problems == []
    elif outcome == "warning":
        assert errors(problems) == [] and warnings(problems)
    else:
        assert errors(problems)


def test_a_wrong_mrz_check_digit_names_the_part() -> None:
    (problem,) = check("mrz_td3", "Z911533561GBR4701213M3105043<<<<<<<<<<<<<<<0")
    assert "document number" in problem.message and "whole line" in problem.message


def test_mrz_check_digit_follows_icao_9303() -> None:
    assert check_digit("L898902C<") == "3"  # ICAO 9303 part 4 specimen
    assert check_digit("690806") == "1"


def test_account_currency_by_country_and_card_range() -> None:
    assert account_currency("DE12763296552537762124") == ("an IBAN from DE", "EUR")
    assert account_currency("GB11OOXG52450924162344")[1] == "GBP"
    assert account_currency("6272735697671367120") == ("a China UnionPay card", "CNY")
    assert account_currency("4111111111111111") is None


def test_mask_shows_only_the_last_four() -> None:
    assert mask("310104197107181012") == "**************1012"
    assert mask("DE12 7632 9655 2537 7621 24") == "******************2124"
    assert mask("123") == "***"
    assert mask(None) == "(none)"
