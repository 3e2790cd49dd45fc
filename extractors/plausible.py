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

from extractors.normalise import DIGIT_LOOKALIKES

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


# where a grammar fixes a character's class, OCR's look-alike slip is put right: a UK
# postcode's inward code starts with a digit ("G5 ORR" is "G5 0RR"), its outward code
# holds one ("NO 3AS" is "N0 3AS"); an e-mail address is written in small letters, so its
# capital I is an l ("Inaser@" is "lnaser@")
INWARD_LETTERS = "ABD-HJLNP-UW-Z"  # a UK inward code never ends in C, I, K, M, O or V
POSTCODE_INWARD = re.compile(rf"\b([A-Z]{{1,2}}[0-9][A-Z0-9]?) ([OIl])([{INWARD_LETTERS}]{{2}})\b")
# (the inward code's digit may be misread too: "BO OBT" is "B0 0BT")
POSTCODE_OUTWARD = re.compile(
    rf"\b([A-Z]{{1,2}})([OIl])([A-Z]?) ([0-9OIl][{INWARD_LETTERS}]{{2}})\b"
)
EMAIL_CAPITAL_I = re.compile(r"I(?=[^@\s]*@)")


def _postcode(value: str) -> str:
    value = POSTCODE_OUTWARD.sub(
        lambda m: f"{m[1]}{m[2].translate(DIGIT_LOOKALIKES)}{m[3]} {m[4]}", value
    )
    return POSTCODE_INWARD.sub(lambda m: f"{m[1]} {m[2].translate(DIGIT_LOOKALIKES)}{m[3]}", value)


def put_right(looks: Looks | None, value: str) -> tuple[str, str | None]:
    """``value`` with the slips its kind's grammar fixes put right, and what was put right
    (None when nothing was)."""
    if looks in ("address", "place"):
        fixed = _postcode(value)
        return fixed, ("a postcode's digit read as a letter" if fixed != value else None)
    if looks == "email":
        fixed = EMAIL_CAPITAL_I.sub("l", value)
        return fixed, ("an I in an e-mail address, where l is likelier" if fixed != value else None)
    return value, None
