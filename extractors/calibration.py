"""A field's confidence as a calibrated probability of being right.

Reading gives each field a raw confidence: OCR's word confidences, how well its locator
matched, and the doubts rekey can name (see :mod:`extractors.extract`). Raw confidences are
not probabilities: on the development corpus a clean scan's dates at 0.75 were nearly always
right, a bad fax's free text at 0.9 often wrong. Calibration maps a raw confidence to the
share of readings that were right at that confidence on the development corpus, per kind of
evidence (:func:`evidence_of`): how the value was read (text layer or OCR) and what checks
it (check digits, a closed list, a type such as a date, a tick, or nothing).

The curves are fitted by ``make calibrate`` (``benchmarks/calibrate.py``: isotonic
regression on the development seed, each step's share shrunk towards doubt by one wrong
reading in its count) into ``extractors/calibration.yaml``; ``make bench`` checks them on
the held-out seed (figure ``calibration``: predicted against observed, per bin). A reading
rekey doubts for a reason it can name (page not registered, readings that differ, a value
unlike its type: raw :data:`DOUBTED` or less) is calibrated too, but never above
:data:`DOUBT_CAP`, which no template's threshold may be below: it is never confident.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extractors.templates import FieldSpec
from rekey.errors import ConfigError
from rekey.models import Field as ReadField

CALIBRATION = Path(__file__).with_name("calibration.yaml")
DOUBTED = 0.6  # raw confidences this low carry a named doubt (or OCR's own)
DOUBT_CAP = 0.75  # ... and are never calibrated above this: below templates.LOWEST_THRESHOLD
MARKS = ("checkbox", "choice")
TYPED = ("date", "money", "identifier")
AGREED = "agreed"
LETTERS = "letters"  # two readings agree on the letters, the second model adds diacritics
# checks two agreeing readings outweigh: an MRZ's check digits can pass for a misread
# number (a slip that keeps the sum), the page's own print agreeing settles it
WEAKER = ("free", "typed", "listed", "table", "mrz")


def evidence_of(spec: FieldSpec, scanned: bool, vouched_by: str = "") -> str:
    """The kind of evidence behind a reading: ``medium/check`` (``scan/typed``...);
    ``vouched_by``: what else vouched for this reading (``mrz``: a passport's check digits,
    weaker than an IBAN's: two look-alike slips can cancel out)."""
    medium = "scan" if scanned else "text"
    if vouched_by:
        check = vouched_by
    elif spec.type in MARKS:
        check = "mark"
    elif spec.check_digits:
        check = "checked"
    elif spec.values:
        check = "listed"
    elif spec.type in TYPED or spec.pattern:
        check = "typed"
    elif spec.type in ("table", "list"):
        check = "table"
    else:
        check = "free"
    return f"{medium}/{check}"


def agreed(field: ReadField) -> ReadField:
    """``field`` read a second time, independently, to the same value (a second model, or
    the form's second place for it): its evidence becomes ``medium/agreed`` unless a
    stronger check (check digits, an MRZ, a tick) already vouches for it."""
    if field.evidence.partition("/")[2] not in WEAKER:
        return field
    return field.model_copy(update={"evidence": checked_by(field, AGREED)})


def checked_by(field: ReadField, check: str) -> str:
    """``field``'s evidence with ``check`` for what vouches for it, the medium kept."""
    return f"{field.evidence.partition('/')[0]}/{check}"


class Curve(BaseModel):
    """A step of raw confidence → share right, as points joined by straight lines."""

    model_config = ConfigDict(extra="forbid")
    raw: list[float] = Field(min_length=1)
    probability: list[float] = Field(min_length=1)
    readings: int = Field(ge=1)  # how many readings it was fitted on

    @model_validator(mode="after")
    def _monotone(self) -> Curve:
        if len(self.raw) != len(self.probability):
            raise ValueError("raw and probability must have the same length")
        if any(b < a for a, b in zip(self.raw, self.raw[1:], strict=False)):
            raise ValueError("raw must be increasing")
        if any(b < a for a, b in zip(self.probability, self.probability[1:], strict=False)):
            raise ValueError("probability must not fall as raw confidence rises")
        if not all(0 <= p <= 1 for p in [*self.raw, *self.probability]):
            raise ValueError("raw and probability must lie between 0 and 1")
        return self

    def at(self, raw: float) -> float:
        return float(np.interp(raw, self.raw, self.probability))


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fitted_on: str  # the corpus and commit the curves come from
    curves: dict[str, Curve]


def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The calibration file, validated; errors name the file and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        message = f"{path}: cannot read the calibration ({exc}); run make calibrate"
        raise ConfigError(message) from exc
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {where}; fix the key or run make calibrate") from exc


@cache
def calibration() -> Calibration:
    return load_calibration()


def curve_keys(evidence: str) -> list[str]:
    """The curves that may calibrate ``evidence``, most specific first: its own, its
    medium's (``scan``), everything's (``*``)."""
    if not evidence or evidence == "*":
        return ["*"]
    if "/" not in evidence:
        return [evidence, "*"]
    return [evidence, evidence.split("/")[0], "*"]


def probability(curves: Calibration, evidence: str, raw: float, doubt: str = "") -> float | None:
    """The calibrated probability of a reading with ``evidence`` at ``raw``, by the most
    specific curve there is (None: no curve at all); ``doubt``: a doubt rekey names."""
    curve = next((curves.curves[k] for k in curve_keys(evidence) if k in curves.curves), None)
    if curve is None:
        return None
    p = curve.at(raw)
    return min(p, DOUBT_CAP) if raw <= DOUBTED or doubt else p


def calibrated(
    fields: dict[str, ReadField], curves: Calibration | None = None
) -> dict[str, ReadField]:
    """Each read field's confidence made its calibrated probability (the raw one kept in
    ``read_confidence``). Fields not read, or with evidence no curve covers, stay as read."""
    curves = curves or calibration()
    out = {}
    for name, field in fields.items():
        p = None
        if field.value is not None and field.read_confidence is None:
            p = probability(curves, field.evidence, field.confidence, field.doubt)
        if p is None:
            out[name] = field
            continue
        how = f"{field.how}; {p:.1%} calibrated from {field.confidence:.2f} ({field.evidence})"
        update = {"confidence": round(p, 4), "read_confidence": field.confidence, "how": how}
        out[name] = field.model_copy(update=update)
    return out
