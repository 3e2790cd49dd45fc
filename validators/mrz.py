"""Passport machine-readable zone (ICAO 9303, TD3): check digits and the printed page.

Line 2 of a TD3 MRZ is 44 characters::

    0-8 document number, 9 its check digit, 10-12 nationality, 13-18 birth YYMMDD, 19 check,
    20 sex, 21-26 expiry YYMMDD, 27 check, 28-41 personal number, 42 its check, 43 composite
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from rekey.models import Case, Finding
from validators.masking import mask
from validators.registry import Params, RuleContext, rule
from validators.values import as_date, fold_name, text

WEIGHTS = (7, 3, 1)


def char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if ch == "<":
        return 0
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    raise ValueError(f"{ch!r} is not an MRZ character")


def check_digit(text_: str) -> str:
    return str(sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(text_)) % 10)


@dataclass(frozen=True)
class Line2:
    number: str
    nationality: str
    birth: str  # YYMMDD
    sex: str
    expiry: str  # YYMMDD
    raw: str


def parse_line2(line: str) -> Line2 | None:
    line = line.strip().upper().replace(" ", "")
    if len(line) != 44:
        return None
    return Line2(
        line[0:9].rstrip("<"), line[10:13].rstrip("<"), line[13:19], line[20], line[21:27], line
    )


def mrz_problems(line: str) -> list[str]:
    """What is wrong with a TD3 line 2: its length, characters or any check digit."""
    parsed = parse_line2(line)
    if parsed is None:
        return [f"The passport's machine-readable line is not 44 characters ({mask(line)})."]
    raw = parsed.raw
    try:
        parts = [
            ("document number", raw[0:9], raw[9]),
            ("date of birth", raw[13:19], raw[19]),
            ("date of expiry", raw[21:27], raw[27]),
            ("whole line", raw[0:10] + raw[13:20] + raw[21:43], raw[43]),
        ]
        if raw[42] != "<" or raw[28:42].strip("<"):
            parts.insert(3, ("personal number", raw[28:42], raw[42]))
        wrong = [name for name, body, digit in parts if check_digit(body) != digit]
    except ValueError:
        return ["The passport's machine-readable line holds characters an MRZ cannot have."]
    if not wrong:
        return []
    return [
        f"The passport's machine-readable zone fails the check digit of the {', '.join(wrong)} "
        f"(document {mask(parsed.number)}); it is misread or altered."
    ]


def mrz_date(yymmdd: str, *, past: bool, today: date) -> date | None:
    """An MRZ date with its century: birth dates lie in the past, expiry dates within 50 years."""
    try:
        yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
        century = 2000 if (2000 + yy <= today.year if past else yy < 70) else 1900
        return date(century + yy, mm, dd)
    except ValueError:
        return None


def letters(name: str) -> str:
    return "".join(ch for ch in fold_name(name) if ch.isalpha())


def mrz_names(line1: str) -> tuple[str, str] | None:
    line1 = line1.strip().upper()
    if len(line1) != 44 or not line1.startswith("P"):
        return None
    surname, _, given = line1[5:].partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def name_score(printed: str, in_mrz: str) -> float:
    """How well a printed name agrees with its MRZ form, allowing for MRZ truncation."""
    a, b = letters(printed), letters(in_mrz)
    if not a or not b:
        return 0.0
    if a.startswith(b) and len(b) >= 3:  # the MRZ cuts long names short
        return 100.0
    return fuzz.ratio(a, b)


class MrzPageParams(Params):
    prefix: str = ""  # e.g. "passport." when the passport rides along with a form
    min_score: float = 80.0


@rule("mrz_matches_page", MrzPageParams)
def mrz_matches_page(case: Case, params: MrzPageParams, ctx: RuleContext) -> list[Finding]:
    """The MRZ's document number, birth and expiry dates, sex and names match the printed page."""
    p = params.prefix
    line2 = text(case, f"{p}mrz_line2")
    parsed = parse_line2(line2) if line2 else None
    if parsed is None:
        return []
    found = []
    number = text(case, f"{p}document_number")
    if number and number.upper().replace(" ", "") != parsed.number:
        found.append(
            ctx.finding(
                [f"{p}document_number", f"{p}mrz_line2"],
                f"The passport number printed ({mask(number)}) differs from the one in the "
                f"machine-readable zone ({mask(parsed.number)}).",
            )
        )
    for field, raw, past in (
        ("date_of_birth", parsed.birth, True),
        ("date_of_expiry", parsed.expiry, False),
    ):
        printed = as_date(text(case, f"{p}{field}"))
        coded = mrz_date(raw, past=past, today=ctx.today)
        if printed and coded and printed != coded:
            found.append(
                ctx.finding(
                    [f"{p}{field}", f"{p}mrz_line2"],
                    f"The printed {field.replace('_', ' ')} ({printed:%d %b %Y}) differs from the "
                    f"machine-readable zone ({coded:%d %b %Y}).",
                )
            )
    sex = text(case, f"{p}sex")
    if sex and parsed.sex in "MF" and sex.upper()[:1] != parsed.sex:
        found.append(
            ctx.finding(
                [f"{p}sex", f"{p}mrz_line2"],
                f"The printed sex ({sex}) differs from the MRZ ({parsed.sex}).",
            )
        )
    line1 = text(case, f"{p}mrz_line1")
    names = mrz_names(line1) if line1 else None
    if names:
        for field, coded_name in zip(("surname", "given_names"), names, strict=True):
            printed_name = text(case, f"{p}{field}")
            if printed_name is None or not coded_name:
                continue
            score = name_score(printed_name, coded_name)
            if score < params.min_score:
                found.append(
                    ctx.finding(
                        [f"{p}{field}", f"{p}mrz_line1"],
                        f"The printed {field.replace('_', ' ')} {printed_name!r} does not match "
                        "the "
                        f"machine-readable zone's {coded_name!r} (score {score:.0f} of 100).",
                    )
                )
    return found
