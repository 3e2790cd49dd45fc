"""Normalisers: what was printed → the canonical value (ISO dates, plain decimals)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

DEFAULT_DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y"]
CURRENCY_MARKS = re.compile(r"[€$£¥元]|\b(?:EUR|USD|GBP|CNY|RMB)\b", re.IGNORECASE)


class NormaliseError(ValueError):
    """The printed text does not read as the field's type."""


def whitespace(text: str) -> str:
    return " ".join(text.split())


def date_iso(text: str, formats: list[str] | None = None) -> str:
    cleaned = whitespace(text).rstrip(".,;")
    for fmt in formats or DEFAULT_DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    raise NormaliseError(f"{text!r} is not a date in a known format")


def _decimal_mark(digits: str, hint: str) -> str | None:
    if hint != "auto":
        return hint
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        return "." if last_dot > last_comma else ","
    mark = "." if last_dot >= 0 else "," if last_comma >= 0 else None
    if mark is None:
        return None
    tail = digits.rsplit(mark, 1)[1]
    # one mark followed by exactly three digits reads as thousands ("1,234")
    return None if len(tail) == 3 and digits.count(mark) >= 1 and mark == "," else mark


def money(text: str, decimal: str = "auto") -> str:
    """``"1,234.56"`` / ``"1.234,56 €"`` → ``"1234.56"``."""
    digits = CURRENCY_MARKS.sub("", text).replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"-?[\d.,]+", digits):
        raise NormaliseError(f"{text!r} is not an amount")
    mark = _decimal_mark(digits, decimal)
    thousands = {".": ",", ",": "."}.get(mark or "", ",.")
    for sep in thousands:
        digits = digits.replace(sep, "")
    if mark:
        digits = digits.replace(mark, ".")
    try:
        return f"{Decimal(digits):.2f}"
    except InvalidOperation as exc:
        raise NormaliseError(f"{text!r} is not an amount") from exc


def identifier(text: str) -> str:
    return re.sub(r"\s", "", text).upper()


def normalise(kind: str, text: str, formats: list[str] | None = None, decimal: str = "auto") -> str:
    if kind == "date":
        return date_iso(text, formats)
    if kind == "money":
        return money(text, decimal)
    if kind == "identifier":
        return identifier(text)
    return whitespace(text)
