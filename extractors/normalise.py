"""Normalisers: what was printed → the canonical value (ISO dates, plain decimals)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from rapidfuzz import fuzz, process

DEFAULT_DATE_FORMATS = [
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%Y年%m月%d日",
]
CURRENCY_MARKS = re.compile(r"[€$£¥元]|\b(?:EUR|USD|GBP|CNY|RMB)\b", re.IGNORECASE)


class NormaliseError(ValueError):
    """The printed text does not read as the field's type."""


NOISE = "=—–_|;:~,'\"`^*·•«»“”„‘’"
AMPERSAND = "&"  # printed as a word of its own ("GmbH & Co."): not noise
DATE_PATTERNS = [
    r"\d{4}-\d{1,2}-\d{1,2}",
    r"\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{4}",
    r"\d{1,2}\s*[A-Za-zäéû]{3,9}\.?\s*\d{4}",
    r"[A-Za-z]{3,9}\s+\d{1,2},?\s*\d{4}",
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}[^\d年月日]{0,3}日",  # "31] 日": a stray mark
]
# letters OCR reads where a digit is printed (MRZ digit positions, digit-only boxes, days)
DIGIT_SHAPES = "OoQDlLIiSsBZzGT"
DIGIT_LOOKALIKES = str.maketrans(DIGIT_SHAPES, "000011115582267")
# a day of one or two look-alikes before a month's name and a year ("B AUGUST 2025")
DAY_READ_AS_LETTERS = re.compile(rf"\b[{DIGIT_SHAPES}\d]{{1,2}}(?=\s+[A-Za-z]{{3,9}}\.?\s+\d{{4}})")
AMOUNT_PATTERN = r"-?\d[\d.,' \u00a0]*\d|\d"


# Han, kana, CJK punctuation and full-width forms: written without spaces between them
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
CJK = f"\u3000-\u303f\u3040-\u30ff{HAN}\uff00-\uffef"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a PDF's line break drawn as a glyph (NUL)
CJK_GAP = re.compile(f"(?<=[{CJK}]) +(?=[{CJK}])")


def whitespace(text: str) -> str:
    """Runs of whitespace as one space, and none between two CJK characters (OCR reads
    Chinese one character per word: ``林 玉 珍`` is ``林玉珍``)."""
    return CJK_GAP.sub("", " ".join(CONTROL.sub(" ", text).split()))


def join_words(texts: Iterable[str]) -> str:
    """Word texts as a line reads: spaced, except between CJK characters."""
    return whitespace(" ".join(texts))


def strip_noise(text: str) -> str:
    """Drop tokens made only of scanner noise (``—``, ``|``, ``=``…) and noise at the ends."""
    tokens = [t for t in text.split() if any(ch.isalnum() for ch in t) or t == AMPERSAND]
    if not tokens:
        return ""
    cleaned = " ".join(tokens).strip(NOISE + AMPERSAND + " ")
    return unbracketed(cleaned.rstrip(NOISE))


BRACKETS = {"(": ")", "[": "]", "{": "}"}


def unbracketed(text: str) -> str:
    """``text`` without a bracket at either end that closes nothing or opens nothing: the
    edge of a printed box, read as ``(`` or ``]``."""
    while text[:1] in BRACKETS and BRACKETS[text[0]] not in text:
        text = text[1:].lstrip()
    while text[-1:] in BRACKETS.values() and not any(
        o in text for o, c in BRACKETS.items() if c == text[-1]
    ):
        text = text[:-1].rstrip()
    return text


def find_date(text: str) -> str:
    """The part of ``text`` that looks like a date (or ``text`` when none does)."""
    for pattern in DATE_PATTERNS:
        match = re.search(pattern, text)
        if match:
            return match.group(0)
    return text


QUOTES = re.compile(r"[‘’‚“”„'\"`´]")  # specks OCR reads as quotes beside a word


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
MONTHS += ["September", "October", "November", "December"]
MONTH_MATCH = 75  # "OVEMBER", "Fearuary": one or two letters slipped


def month_spelled(text: str) -> str:
    """``text`` with each word that is nearly a month's name spelled as that month."""

    def closest(match: re.Match[str]) -> str:
        found = process.extractOne(match.group(0).capitalize(), MONTHS, scorer=fuzz.ratio)
        return found[0] if found and found[1] >= MONTH_MATCH else match.group(0)

    return re.sub(r"[A-Za-z]{4,}", closest, text)


def date_iso(text: str, formats: list[str] | None = None) -> str:
    text = DAY_READ_AS_LETTERS.sub(lambda m: m.group(0).translate(DIGIT_LOOKALIKES), text)
    cleaned = whitespace(find_date(QUOTES.sub("", text))).rstrip(".,;")
    cleaned = re.sub(r"(\d)([A-Za-z])", r"\1 \2", re.sub(r"([A-Za-z])(\d)", r"\1 \2", cleaned))
    cleaned = re.sub(r"\s*([./年月日-])\s*", r"\1", cleaned)
    if "年" in cleaned:  # the closing 日 may be read as another character ("31 晶")
        cleaned = re.sub(r"(?<=月)(\d{1,2})$", r"\1日", re.sub(r"[^\d年月日]", "", cleaned))
    for attempt in dict.fromkeys([cleaned, month_spelled(cleaned)]):
        for fmt in formats or DEFAULT_DATE_FORMATS:
            try:
                return datetime.strptime(attempt, fmt).date().isoformat()
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
    """``"1,234.56"`` / ``"1.234,56 €"`` → ``"1234.56"``; ``decimal=" "`` reads ``"1234 56"``."""
    if decimal == " ":  # cents always printed apart: a run read as one holds them last
        text = text.strip()
        spaced = re.sub(r"(\d)\s+(\d{2})\s*$", r"\1.\2", text)
        text = spaced if spaced != text else re.sub(r"(\d)(\d{2})\s*$", r"\1.\2", text)
        decimal = "."
    found = re.findall(AMOUNT_PATTERN, CURRENCY_MARKS.sub("", text))
    digits = max(found, key=len) if found else text
    digits = digits.replace(" ", "").replace("\u00a0", "").replace("'", "")
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


def given_name_first(text: str) -> str:
    """``"MORALES, HAYDEN"`` → ``"Hayden Morales"``."""
    surname, _, given = text.partition(",")
    name = f"{given.strip()} {surname.strip()}".strip() if given else text.strip()
    return name.title() if name.isupper() else name


# signs OCR reads where a letter of an identifier is printed ("¥31207950" for Y31207950)
SIGN_LETTERS = str.maketrans("¥$€", "YSE")


def identifier(text: str) -> str:
    return re.sub(r"\s", "", text).strip(".-").upper()


TRUE = {"true", "yes", "y", "x", "1", "✓", "ja", "是"}
FALSE = {"false", "no", "n", "", "0", "nein", "否"}


def tick(text: str) -> str:
    """A tick or a yes/no cell as ``"true"``/``"false"``."""
    folded = text.strip().casefold()
    if folded in TRUE:
        return "true"
    if folded in FALSE:
        return "false"
    raise NormaliseError(f"{text!r} is neither yes nor no")


def normalise(
    kind: str,
    text: str,
    formats: list[str] | None = None,
    decimal: str = "auto",
    scanned: bool = False,
) -> str:
    """The canonical value of ``text`` for a field of type ``kind``; ``scanned`` text (OCR)
    also loses the specks a scan turns into punctuation."""
    if kind == "date":
        return date_iso(text, formats)
    if kind == "money":
        return money(text, decimal)
    if kind == "identifier":
        return identifier(strip_noise(text).translate(SIGN_LETTERS) if scanned else text)
    if kind in ("checkbox", "signature"):
        return tick(text)
    return whitespace(strip_noise(text) if scanned else text)
