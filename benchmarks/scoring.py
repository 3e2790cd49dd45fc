"""Pure scoring: truth fields vs extracted fields, and the per-row and rules aggregates.

Normalisation (one function, :func:`normalise`): casefold, collapse whitespace, strip;
identifiers also lose their spaces. Booleans (checkboxes) compare as ``"true"``/``"false"``,
an extracted tick read through :data:`TICKED`/:data:`UNTICKED`. Lists (tables such as a
claim's ``expenses``) compare as a whole, item by item normalised; an extractor's table value,
when there is one, is expected as a JSON string. A truth field the template does not extract
counts as wrong (it stays in the denominator).

Dates and amounts (template types ``date`` and ``money``) compare by what they mean, not by
how they are written; in a table's items the keys ``date`` (a date) and ``amount``/``charge``
(an amount) do too. A value that does not read as one under the rules below stays text, so it
can only match the very same writing, never a date or an amount by accident.

* Amounts (:func:`amount`) compare as exact :class:`~decimal.Decimal` values, written
  ``"1234.50"`` (``"1234.505"`` is not rounded): ``1234.5`` = ``1,234.50`` = ``1 234.50`` =
  ``€1,234.50`` = ``1234.50 EUR``. A currency mark (a symbol such as ``€ $ £ ¥ 元``, or three
  capitals such as ``EUR``) before or after the number is dropped (the currency is a field of
  its own where a form has one); a leading minus is kept. The number is read under both
  conventions: a dot before the decimals with ``,``, space or ``'`` grouping thousands, and a
  comma before the decimals with ``.``, space or ``'`` grouping them; grouping is regular (one
  separator, groups of three). A writing that the two conventions read as two different
  amounts (``1,234``, ``1.234``) stays text, so no two different amounts are ever made equal;
  ``1.234,50``, ``1234,50`` and ``1,234,567`` each read one way only.
* Dates (:func:`calendar_date`) become ISO ``YYYY-MM-DD``: ``2026-08-21`` = ``21/08/2026`` =
  ``21.08.2026`` = ``21-08-2026`` = ``21 August 2026`` = ``21 Aug 2026`` = ``Aug 21, 2026``
  = ``2026年8月21日``. Numbers with the year last are always day first, as this project's
  documents print them: ``03/04/2026`` is 3 April, and a month-first ``08/21/2026`` is no
  date (text), never re-read month first. The year is four digits; month names are English
  (full, three letters, or ``Sept``). A date that does not exist (``31/02/2026``) is text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

TICKED = {"true", "yes", "y", "x", "✓", "✔", "☑", "checked", "ticked", "on", "1"}
UNTICKED = {"false", "no", "n", "", "off", "0", "unchecked", "unticked", "☐"}
NOT_EXTRACTED = "not extracted by the template"

DATE_KIND = "date"
MONEY_KIND = "money"
COLUMN_KINDS = {"date": DATE_KIND, "amount": MONEY_KIND, "charge": MONEY_KIND}
"""How a table item's value compares, by its key (any other key: text)."""

# -- amounts ------------------------------------------------------------------------------

_SYMBOLS = "€$£¥₹₩元"
_MARK_BEFORE = re.compile(rf"^(?:[A-Z]{{1,3}}\s?)?[{_SYMBOLS}]\s*|^[A-Z]{{3}}(?=[\s\d-])\s*")
_MARK_AFTER = re.compile(rf"\s*[{_SYMBOLS}]$|(?<=[\d\s])[A-Z]{{3}}$")
_POINT_DECIMAL = re.compile(r"(?:\d{1,3}(?:([, '])\d{3})(?:\1\d{3})*|\d+)(?:\.\d+)?")
_COMMA_DECIMAL = re.compile(r"(?:\d{1,3}(?:([. '])\d{3})(?:\1\d{3})*|\d+)(?:,\d+)?")


def _read_number(digits: str, pattern: re.Pattern[str], mark: str) -> Decimal | None:
    match = pattern.fullmatch(digits)
    if not match:
        return None
    grouping = match.group(1)
    if grouping:
        digits = digits.replace(grouping, "")
    return Decimal(digits.replace(mark, "."))


def amount(value: Any) -> Decimal | None:
    """The amount ``value`` writes, or ``None`` when it is not one (or is ambiguous)."""
    text = " ".join(unicodedata.normalize("NFKC", str(value)).split())
    negative = text[:1] in ("-", "−")  # one minus, before or after a leading mark
    text = _MARK_BEFORE.sub("", text[1:].lstrip() if negative else text, count=1)
    if not negative and text[:1] in ("-", "−"):
        negative, text = True, text[1:].lstrip()
    text = _MARK_AFTER.sub("", text, count=1).strip()
    try:
        readings = {
            reading
            for pattern, mark in ((_POINT_DECIMAL, "."), (_COMMA_DECIMAL, ","))
            if (reading := _read_number(text, pattern, mark)) is not None
        }
    except InvalidOperation:
        return None
    if len(readings) != 1:  # none, or two different amounts
        return None
    number = readings.pop()
    return -number if negative and number else number


def _money_text(number: Decimal) -> str:
    cents = number.quantize(Decimal("0.01"))
    return str(cents if cents == number else number)


# -- dates --------------------------------------------------------------------------------

MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
MONTHS = {n: i for i, full in enumerate(MONTH_NAMES, start=1) for n in (full, full[:3])}
MONTHS["sept"] = 9
_ORDINAL = r"(?:st|nd|rd|th)?"
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
_DAY_NAMED = re.compile(rf"(\d{{1,2}}){_ORDINAL}[ -]([a-z]+)\.?,?[ -](\d{{4}})")
_NAMED_DAY = re.compile(rf"([a-z]+)\.? (\d{{1,2}}){_ORDINAL},? (\d{{4}})")
_HAN = re.compile(r"(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?日?")


def calendar_date(value: Any) -> date | None:
    """The date ``value`` writes (numbers day first), or ``None`` when it is not one."""
    text = " ".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()
    parts: tuple[str | int, ...] | None = None
    if m := _YEAR_FIRST.fullmatch(text):
        parts = (m[1], m[3], m[4])
    elif m := _DAY_FIRST.fullmatch(text):
        parts = (m[4], m[3], m[1])
    elif m := _DAY_NAMED.fullmatch(text):
        parts = (m[3], MONTHS.get(m[2], 0), m[1])
    elif m := _NAMED_DAY.fullmatch(text):
        parts = (m[3], MONTHS.get(m[1], 0), m[2])
    elif m := _HAN.fullmatch(text):
        parts = (m[1], m[2], m[3])
    if parts is None:
        return None
    try:
        return date(*(int(p) for p in parts))
    except ValueError:
        return None


# -- comparison ---------------------------------------------------------------------------


def kind_of(truth_value: Any, template_type: str | None) -> str:
    """How a field compares: the template's field type, else what the truth value is."""
    if template_type:
        return template_type
    if isinstance(truth_value, bool):
        return "checkbox"
    if isinstance(truth_value, list | tuple):
        return "table"
    return "text"


def normalise(value: Any, kind: str = "text") -> Any:
    """The comparable form of a truth or extracted value (``None`` stays ``None``).

    A date reads as its ISO text and an amount as ``"1234.50"``; when the value is not one,
    it is normalised as text like any other."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "checkbox":
        text = " ".join(str(value).split()).casefold()
        return "true" if text in TICKED else "false" if text in UNTICKED else text
    if kind == DATE_KIND and (day := calendar_date(value)) is not None:
        return day.isoformat()
    if kind == MONEY_KIND and (number := amount(value)) is not None:
        return _money_text(number)
    if kind in ("table", "list") and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return " ".join(value.split()).casefold()
    if isinstance(value, Mapping):  # keys starting with "_" are the truth's own notes
        return tuple(
            sorted(
                (str(k), normalise("" if v is None else v, COLUMN_KINDS.get(str(k), "text")))
                for k, v in value.items()
                if not str(k).startswith("_")
            )
        )
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    text = " ".join(str(value).split()).casefold()
    if kind == "identifier":
        text = text.replace(" ", "")
    return text


def same(truth_value: Any, extracted: Any, kind: str) -> bool:
    """Equal after normalisation; an empty truth matches an empty or absent value."""
    t = normalise(truth_value, kind)
    e = normalise(extracted, kind)
    if t in (None, "", ()):
        return e in (None, "", ())
    return e == t


@dataclass(frozen=True)
class FieldScore:
    name: str
    truth: Any
    extracted: str | None
    confidence: float
    confident: bool
    correct: bool
    in_template: bool
    page: int | None = None
    box: tuple[float, float, float, float] | None = None


def score_fields(
    truth: Mapping[str, Any],
    extracted: Mapping[str, Mapping[str, Any]],
    template_types: Mapping[str, str] | None,
) -> list[FieldScore]:
    """Every truth field, scored against what was extracted.

    ``extracted`` maps field name → ``{"value", "confidence", "confident", "page", "box"}``;
    ``template_types`` maps the template's field names to their types (``None``: no template
    matched or the document was not read, so every field is wrong).
    """
    types = template_types or {}
    scores = []
    for name, truth_value in truth.items():
        got = extracted.get(name)
        in_template = name in types and got is not None
        value = got.get("value") if got else None
        kind = kind_of(truth_value, types.get(name))
        scores.append(
            FieldScore(
                name=name,
                truth=truth_value,
                extracted=value,
                confidence=float(got.get("confidence", 0.0)) if got else 0.0,
                confident=bool(got.get("confident")) if got else False,
                correct=in_template and same(truth_value, value, kind),
                in_template=in_template,
                page=got.get("page") if got else None,
                box=tuple(got["box"]) if got and got.get("box") else None,
            )
        )
    return scores


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class RowTotals:
    """Counts behind one ``<kind>/<rendition>`` row of the accuracy table."""

    documents: int = 0
    fields: int = 0
    correct: int = 0
    confident: int = 0
    confident_correct: int = 0
    auto: int = 0
    classified: int = 0
    wrong_auto_keyed: int = 0
    not_read: int = 0

    def add(self, scores: Iterable[FieldScore], route: str, classified: bool, read: bool) -> None:
        scores = list(scores)
        self.documents += 1
        self.fields += len(scores)
        self.correct += sum(s.correct for s in scores)
        self.confident += sum(s.confident for s in scores)
        self.confident_correct += sum(s.confident and s.correct for s in scores)
        self.auto += route == "auto"
        self.classified += classified
        self.not_read += not read
        if route == "auto":  # a value that is there and wrong would have been keyed
            self.wrong_auto_keyed += sum(not s.correct and s.extracted is not None for s in scores)

    def figures(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "field_accuracy": ratio(self.correct, self.fields),
            "confident_precision": ratio(self.confident_correct, self.confident),
            "stp_rate": ratio(self.auto, self.documents),
            "classification": ratio(self.classified, self.documents),
            "wrong_auto_keyed": self.wrong_auto_keyed,
            "fields": self.fields,
            "confident_fields": self.confident,
            "not_read": self.not_read,
        }


@dataclass
class RulesTotals:
    planted: int = 0
    planted_measured: int = 0
    caught: int = 0
    clean: int = 0
    false_alarms: int = 0
    unregistered: dict[str, int] = field(default_factory=dict)
    alarm_rules: dict[str, int] = field(default_factory=dict)  # error rules on clean documents
    missed: dict[str, int] = field(default_factory=dict)  # planted errors not caught, by rule

    def add(
        self,
        planted_error: str | None,
        fired: set[str],
        error_rules: set[str],
        registered: set[str],
        clean_counts: bool,
    ) -> None:
        """One document: its planted rule (if any), the rules that fired, and whether it
        counts for the false-alarm rate (clean, of a kind with a template, read)."""
        if planted_error:
            self.planted += 1
            if planted_error in registered:
                self.planted_measured += 1
                self.caught += planted_error in fired
                if planted_error not in fired:
                    self.missed[planted_error] = self.missed.get(planted_error, 0) + 1
            else:
                self.unregistered[planted_error] = self.unregistered.get(planted_error, 0) + 1
        elif clean_counts:
            self.clean += 1
            self.false_alarms += bool(error_rules)
            for rule in error_rules:
                self.alarm_rules[rule] = self.alarm_rules.get(rule, 0) + 1
