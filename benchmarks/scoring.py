"""Pure scoring: truth fields vs extracted fields, and the per-row and rules aggregates.

Normalisation (one function, :func:`normalise`): casefold, collapse whitespace, strip;
identifiers also lose their spaces. Dates and amounts are canonical on both sides already
(ISO dates, ``"1234.56"``). Booleans (checkboxes) compare as ``"true"``/``"false"``, an
extracted tick read through :data:`TICKED`/:data:`UNTICKED`. Lists (tables such as a claim's
``expenses``) compare as a whole, item by item normalised; an extractor's table value, when
there is one, is expected as a JSON string. A truth field the template does not extract
counts as wrong (it stays in the denominator).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TICKED = {"true", "yes", "y", "x", "✓", "✔", "☑", "checked", "ticked", "on", "1"}
UNTICKED = {"false", "no", "n", "", "off", "0", "unchecked", "unticked", "☐"}
NOT_EXTRACTED = "not extracted by the template"


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
    """The comparable form of a truth or extracted value (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "checkbox":
        text = " ".join(str(value).split()).casefold()
        return "true" if text in TICKED else "false" if text in UNTICKED else text
    if kind in ("table", "list") and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return " ".join(value.split()).casefold()
    if isinstance(value, Mapping):  # keys starting with "_" are the truth's own notes
        return tuple(
            sorted(
                (str(k), normalise("" if v is None else v))
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
    """Exact match after normalisation; an empty truth matches an empty or absent value."""
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
