"""Identifiers that carry check digits, read through one OCR slip.

A value whose check digits fail is tried with one character swapped for a look-alike
(``0``/``O``, ``1``/``I``, ``6``/``0``…). Only a single candidate that passes is taken: two
or more would be guessing. An IBAN is also tried with every character in the class its
country's format fixes (the registry's BBAN structure: a UK bank code is four letters, so
``X0V0`` is ``XOVO``). A value that still fails keeps what was read, but is not trusted (a
person checks it; the rules say why).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum import iban, luhn, numdb
from stdnum.cn import ric

from extractors.normalise import DIGIT_LOOKALIKES


def ric_check_digit(value: str) -> bool:
    """A Chinese resident ID's check digit alone (GB 11643): whether the region code was
    assigned in the birth year is for the rules to say, not for reading it."""
    return (
        len(value) == 18
        and value[:17].isdigit()
        and ric.calc_check_digit(value) == value[17].upper()  # it takes the whole number
    )


SCHEMES: dict[str, Callable[[str], bool]] = {
    "iban": iban.is_valid,
    "luhn": luhn.is_valid,
    "cn_ric": ric_check_digit,
}
LOOKALIKES = {
    "0": "O6D8",
    "O": "0",
    "D": "0",
    "1": "I7L",
    "I": "1",
    "L": "1",
    "5": "S6",
    "S": "5",
    "6": "05",
    "8": "B3",
    "B": "8",
    "2": "Z",
    "Z": "2",
    "7": "1",
}


def passes(value: str, schemes: list[str]) -> bool:
    for scheme in schemes:
        try:
            if SCHEMES[scheme](value):
                return True
        except Exception:  # a checker's own bug is a failed check, not a crash
            continue
    return False


AS_LETTER = str.maketrans("015826", "OISBZG")
BBAN_PART = re.compile(r"(\d+)!([nac])")


def iban_classes(value: str) -> str | None:
    """Each character's class in an IBAN of ``value``'s country (``a`` letter, ``n`` digit,
    ``c`` either), or None for a country the IBAN registry does not list."""
    info = dict(numdb.get("iban").info(value[:2]))
    bban = info.get(value[:2], {}).get("bban")
    if not bban:
        return None
    return "aann" + "".join(kind * int(n) for n, kind in BBAN_PART.findall(bban))


def iban_by_class(value: str) -> str:
    """``value`` with each character turned into the look-alike of the class its country's
    format fixes there; as it is when the country is unknown or the length is not its own."""
    classes = iban_classes(value)
    if classes is None or len(classes) != len(value):
        return value
    fixed = {"a": AS_LETTER, "n": DIGIT_LOOKALIKES}
    return "".join(
        ch.translate(fixed[c]) if c in fixed else ch for ch, c in zip(value, classes, strict=True)
    )


def one_slip(value: str, schemes: list[str]) -> str | None:
    """The one value a single look-alike swap makes pass, or None (none, or several)."""
    found = {
        value[:i] + other + value[i + 1 :]
        for i, ch in enumerate(value)
        for other in LOOKALIKES.get(ch, "")
        if passes(value[:i] + other + value[i + 1 :], schemes)
    }
    return found.pop() if len(found) == 1 else None
