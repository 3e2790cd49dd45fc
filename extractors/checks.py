"""Identifiers that carry check digits, read through one OCR slip.

A value whose check digits fail is tried with one character swapped for a look-alike
(``0``/``O``, ``1``/``I``, ``6``/``0``…). Only a single candidate that passes is taken: two
or more would be guessing. A value that still fails keeps what was read, but is not
trusted (a person checks it; the rules say why).
"""

from __future__ import annotations

from collections.abc import Callable

from stdnum import iban, luhn
from stdnum.cn import ric

SCHEMES: dict[str, Callable[[str], bool]] = {
    "iban": iban.is_valid,
    "luhn": luhn.is_valid,
    "cn_ric": ric.is_valid,
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
    return any(SCHEMES[s](value) for s in schemes)


def one_slip(value: str, schemes: list[str]) -> str | None:
    """The one value a single look-alike swap makes pass, or None (none, or several)."""
    found = {
        value[:i] + other + value[i + 1 :]
        for i, ch in enumerate(value)
        for other in LOOKALIKES.get(ch, "")
        if passes(value[:i] + other + value[i + 1 :], schemes)
    }
    return found.pop() if len(found) == 1 else None
