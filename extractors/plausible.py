"""Whether a value looks like what its field holds: a person's name is not made of digits,
an address is not one word, a place has letters. A value that does not is never trusted,
whatever read it (OCR, a text layer or a form field someone typed junk into).

The checks are deliberately loose: they catch junk ("38472398dxkj", "sdsaddad" as an
address) and a zone that read the wrong thing (a number where a name belongs), never an
unusual but real value (a mononym, a company called "3M", a house with no number). An
e-mail address has a local part, an ``@`` and a domain with a dot; an identifier
(``type: identifier`` fields are checked so without saying) holds letters, digits, spaces
and ``. / -`` only, so ``£450183569`` is an E read as a pound sign.
"""

from __future__ import annotations

import re
from typing import Literal

Looks = Literal["name", "company", "address", "place", "email", "identifier"]

WORD = re.compile(r"\w+")
MIXED = re.compile(r"(?=\w*\d\w*\d)(?=\w*[^\W\d]\w*[^\W\d])\w{5,}")  # 2+ digits and 2+ letters
LETTERS = re.compile(r"[^\W\d_]{2,}")
LETTER = re.compile(r"[^\W\d_]")
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)*\.[^\W\d_]{2,}")
ODD_MARK = re.compile(r"[^\w\s./-]")  # no identifier holds a £, a § or a bracket


def digit_share(value: str) -> float:
    chars = [ch for ch in value if ch.isalnum()]
    return sum(ch.isdigit() for ch in chars) / len(chars) if chars else 0.0


def why_not(looks: Looks, value: str) -> str | None:
    """Why ``value`` does not look like a ``looks``, or None when it does."""
    if looks == "email":
        return None if EMAIL.fullmatch(value) else "not an e-mail address"
    if looks == "identifier":
        odd = ODD_MARK.search(value)
        return f"{odd.group()!r} in it, for an identifier" if odd else None
    words = WORD.findall(value)
    if not (LETTER if looks == "company" else LETTERS).search(value):
        return f"no word in it, for a {looks}"
    if looks in ("name", "company") and MIXED.search(value):
        return f"letters and digits run together, for a {looks}"
    if looks == "name" and digit_share(value) > 0:
        return "digits in a person's name"
    if looks == "company" and digit_share(value) > 0.5:
        return "mostly digits, for a company"
    if looks == "address" and len(words) < 2:
        return "one word, for an address"
    if looks == "place" and digit_share(value) > 0.6:
        return "mostly digits, for a place"
    return None
