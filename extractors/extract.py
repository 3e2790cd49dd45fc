"""Layout + template → fields, each with value, confidence, page, box and how it was found.

Locators are registered here by kind. Contract: ``(doc, locator) -> Hit | None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from extractors import checks
from extractors.calibration import agreed, evidence_of
from extractors.locators import (
    Doc,
    Hit,
    by_ocr,
    captions_of,
    label_hits,
    locate_acroform,
    locate_column,
    locate_label,
    locate_regex,
    locate_region,
)
from extractors.marks import (
    locate_checkbox,
    locate_choice,
    locate_region_choice,
    locate_signature,
)
from extractors.mrz import locate_framed, locate_mrz
from extractors.normalise import DIGIT_LOOKALIKES, NormaliseError, given_name_first, normalise
from extractors.ocr import DEFAULT_LANG
from extractors.plausible import put_right, why_not
from extractors.tables import locate_form_rows, locate_region_rows, locate_table
from extractors.templates import CONFIDENT_AT, FieldSpec, RegionLocator, Template
from extractors.textsize import resample
from extractors.zonal import read_zones
from rekey.models import Field, Layout, PrintedAgain

UNREADABLE_PENALTY = 0.3  # a value that does not read as its type is kept, but not trusted
# readings OCR is often sure of and wrong about, so never trusted on their own
SUSPECT_READINGS = (
    # a letter it confuses with a digit, against a digit ("sylvial6" for "sylvia16")
    (re.compile(r"(?<=[0-9])[lIOo]|[lIOo](?=[0-9])"), "a letter that looks like a digit"),
    # a capitalised name part followed by a lower-case one: a capital the model does not
    # know, read as a small letter ("Dubois-tukasiewicz" for "Dubois-Łukasiewicz")
    (re.compile(r"\b[A-Z][a-z]+-[a-z]"), "a name part read without its capital"),
    # a UK postcode whose inward code starts with a letter: it starts with a digit, and 0
    # and 1 are read as O and I ("G5 ORR" for "G5 0RR")
    (
        re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? [OIl][A-Z]{2}\b"),
        "a postcode's digit read as a letter",
    ),
    # ... and its outward code always holds a digit ("NO 3AS" for "N0 3AS")
    (re.compile(r"\b[A-Z]{1,2}[OIl][A-Z]? [0-9][A-Z]{2}\b"), "a postcode's digit read as a letter"),
    # a capital I in an e-mail address's local part: addresses are written in small
    # letters, and OCR reads l as I ("Inaser@" for "lnaser@")
    (re.compile(r"I(?=[^@\s]*@)"), "an I in an e-mail address, where l is likelier"),
)
# ... and in a name or a place, whose words start with capitals: a word starting with a
# small l, where a sans-serif capital I looks the same ("West lain" for "West Iain")
NAME_SUSPECTS = ((re.compile(r"(?<![\w'’-])l[a-z]"), "a small l where a capital I is likelier"),)
NAMED = ("name", "place")
# ... and in any name, place, address, company or e-mail address: a mark no such word holds
# beside a letter, where OCR read an l or an I ("Rotta!" for "Rottal", and both models agree)
STRAY_SUSPECTS = ((re.compile(r"[^\W\d_][!|¦]|[!|¦][^\W\d_]"), "a stray mark in a word"),)
WORDED = ("name", "place", "address", "company", "email")
SUSPECT_CONFIDENCE = 0.6
IMPLAUSIBLE_CONFIDENCE = 0.4  # a value that does not look like its field's: never trusted
DISAGREEMENT_CONFIDENCE = 0.5  # two readings of one value differ: a person decides
FALLBACK_NOTE = "fallback: not read where it is printed"  # in a fallback reading's how
RAW_TYPES = {"table", "choice", "list"}  # their locators hand over finished values


def doubted(field: Field, why: str, value: str | None = None) -> Field:
    """``field`` no longer trusted, for ``why``; with ``value`` when a reading replaces it."""
    update = {
        "value": field.value if value is None else value,
        "confidence": min(field.confidence, DISAGREEMENT_CONFIDENCE),
        "how": f"{field.how}; {why}",
        "doubt": why,
    }
    return field.model_copy(update=update)


def locate_placed(doc: Doc, loc: RegionLocator) -> Hit | None:
    """A region, placed by the frame it names (a passport's MRZ) or as written."""
    return (locate_framed if loc.frame else locate_region)(doc, loc)


LOCATORS: dict[str, Callable[[Doc, Any], Hit | None]] = {
    "label": locate_label,
    "regex": locate_regex,
    "acroform": locate_acroform,
    "region": locate_placed,
    "column": locate_column,
    "mrz": locate_mrz,
    "region_choice": locate_region_choice,
    "checkbox": locate_checkbox,
    "choice": locate_choice,
    "signature": locate_signature,
    "table": locate_table,
    "form_rows": locate_form_rows,
    "region_rows": locate_region_rows,
}
CANDIDATES: dict[str, Callable[[Doc, Any], Iterator[Hit]]] = {"label": label_hits}


def hit_confidence(hit: Hit) -> float:
    """The weakest real word's OCR confidence times how well the locator matched."""
    words = [w.confidence for w in hit.words if any(ch.isalnum() for ch in w.text)] or [1.0]
    return round(min(words) * hit.match, 4)


def one_of(
    spec: FieldSpec, value: str, confidence: float, how: str, scanned: bool = True
) -> tuple[str, float, str]:
    """The listed value a reading spells, its score weighing the confidence; a reading near
    none of them is kept as read, but not trusted. Only OCR slips: printed text (a text
    layer) that is not a listed value is kept as printed, and not trusted."""
    same = next((v for v in spec.values if v.casefold() == value.casefold()), None)
    if same is not None:
        return same, confidence, how
    near = listed(spec, value) if scanned else None
    if near is None:
        return value, confidence * UNREADABLE_PENALTY, f"{how}; not one of the listed values"
    taken, score = near
    return taken, confidence * score / 100, f"{how}; read {value!r}, taken as {taken!r}"


def listed(spec: FieldSpec, value: str) -> tuple[str, float] | None:
    """The listed value a reading is close enough to, with how close (0-100)."""
    best = process.extractOne(value, spec.values, scorer=fuzz.ratio)
    if best is None or best[1] < spec.values_match:
        return None
    return best[0], best[1]


STRONG_CHECKS = ("iban",)  # two check digits (mod 97): a slip that passes is 1 in 97
# ... which settle what OCR doubted of the characters: the reading's confidence rises to this
STRONG_CHECK_CONFIDENCE = 0.9


def strong_check(spec: FieldSpec, value: str) -> str | None:
    """The strong check digits ``value`` passes (``iban``), if any."""
    strong = [s for s in spec.check_digits if s in STRONG_CHECKS]
    return strong[0] if strong and checks.passes(value, strong) else None


def checked_evidence(spec: FieldSpec, value: str, evidence: str) -> str:
    """``medium/iban`` for a value that passes an IBAN's two check digits, calibrated on
    its own curve: a single check digit (Luhn, a resident ID's) lets one slip in ten or
    eleven pass, and the two share a curve no longer."""
    strong = strong_check(spec, value)
    if strong and evidence.endswith("/checked"):
        return evidence.replace("/checked", f"/{strong}")
    return evidence


def settled_by_check(spec: FieldSpec, value: str, confidence: float) -> float:
    """The confidence of a reading whose check digits pass as read: OCR's own doubt about
    its characters (a faint or crowded print) counts no longer when they are strong."""
    return max(confidence, STRONG_CHECK_CONFIDENCE) if strong_check(spec, value) else confidence


def by_check_digits(
    spec: FieldSpec, value: str, confidence: float, how: str
) -> tuple[str, float, str]:
    """The identifier as read when its check digits pass; or an IBAN whose look-alikes
    (``O`` for ``0``) stand where its country's format allows only the other class, put in
    their class, when that passes (no form can print a letter there, so nothing is hidden);
    else the single value one OCR slip away that passes, not trusted (the form itself may
    carry the wrong number, which the repair would hide); else as read, not trusted."""
    if checks.passes(value, spec.check_digits):
        return value, settled_by_check(spec, value, confidence), how
    by_class = checks.iban_by_class(value) if "iban" in spec.check_digits else value
    if by_class != value and checks.passes(by_class, spec.check_digits):
        why = f"{how}; read {value!r}, each character in its class"
        return by_class, settled_by_check(spec, by_class, confidence), why
    repaired = checks.one_slip(value, spec.check_digits)
    if repaired is not None:  # an OCR slip, or a form printed wrong: a person tells which
        why = f"{how}; read {value!r}, check digits make it {repaired!r}"
        return repaired, min(confidence, SUSPECT_CONFIDENCE), why
    return value, confidence * UNREADABLE_PENALTY, f"{how}; check digits fail"


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
AMOUNT = re.compile(r"-?\d+(?:\.\d+)?")
EARLIEST_YEAR, YEARS_AHEAD = 1870, 50


def plausible_year(year: int, today: date | None = None) -> bool:
    """Whether a date's year could be printed on a form of today: no one alive was born
    before :data:`EARLIEST_YEAR`, and nothing a form names is more than
    :data:`YEARS_AHEAD` years off ("2926" is 2026 with a 0 read as 9)."""
    return EARLIEST_YEAR <= year <= (today or date.today()).year + YEARS_AHEAD


def makes_sense(spec: FieldSpec, value: str | None) -> bool:
    """Whether a value reads as its field: found, of its type (a date, an amount), one of
    its listed values, its check digits passing."""
    if not value:
        return False
    if spec.values and value not in spec.values:
        return False
    if spec.check_digits and not checks.passes(value, spec.check_digits):
        return False
    if spec.type == "date":
        return ISO_DATE.fullmatch(value) is not None and plausible_year(int(value[:4]))
    if spec.type == "money":
        return AMOUNT.fullmatch(value) is not None
    return True


def hits(doc: Doc, locator: Any) -> Iterator[Hit]:
    """A locator's readings, likeliest first (most locators have one)."""
    many = CANDIDATES.get(locator.kind)
    if many is not None:
        yield from many(doc, locator)
        return
    hit = LOCATORS[locator.kind](doc, locator)
    if hit is not None:
        yield hit


def read_by_ocr(hit: Hit) -> bool:
    return by_ocr(hit.words)


def readable(spec: FieldSpec, hit: Hit) -> bool:
    """The reading fits the field's ``pattern``, and reads as its type (a date, an amount)."""
    text = spec.fitted(hit.text)
    if text is None:
        return False
    if spec.type not in ("date", "money"):
        return True
    scanned = read_by_ocr(hit)
    try:
        normalise(spec.type, text, spec.formats, spec.decimal, scanned)
    except NormaliseError:
        return False
    return True


def first_hit(doc: Doc, spec: FieldSpec) -> Hit | None:
    """The first reading that has text and is readable as the field (its ``pattern``, its
    type); else the first reading that has text."""
    fallback = None
    for locator in spec.locators:
        for hit in hits(doc, locator):
            if not hit.text.strip():
                continue
            if readable(spec, hit):
                return hit
            fallback = fallback or hit
    return fallback


def extract_field(doc: Doc, name: str, spec: FieldSpec) -> Field:
    field = read_field(doc, name, spec)
    if not spec.printed_again:
        return field
    elsewhere = spec.model_copy(update={"locators": spec.printed_again, "printed_again": []})
    again = read_field(doc, name, elsewhere)
    folded = spec.type == "identifier"
    scanned = bool({field.page, again.page} & ocr_pages(doc))
    if folded and scanned and field.evidence.endswith(VOUCHED):
        again = looked_at_again(doc, name, elsewhere, field, again)
    return reconciled(field, again, scanned, folded)


LINE_PSM = 7  # Tesseract: the image is one line of text
LINE_PAD = 0.004
# the sizes the line is looked at again: bold capitals set close run together at one size
# and not at another ("T5" read "TS5")
LINE_SCALES = (1.5, 0.6)


def looked_at_again(doc: Doc, name: str, spec: FieldSpec, vouched: Field, again: Field) -> Field:
    """The print of an identifier check digits vouch for, read again alone as one line, at
    other sizes, when the page's reading differs: a run of letters and digits no word list
    helps with is read a character too many in the page, seldom at every size. A reading
    that agrees with the vouched one is taken; else the page's, and a person decides."""
    if not (again.value and again.box and again.page and doc.image):
        return again
    if same_reading(vouched, again, folded=True):
        return again
    box = again.box.padded(LINE_PAD)
    region = RegionLocator(boxes=[(box.x0, box.y0, box.x1, box.y1)], page=again.page)
    alone = spec.model_copy(update={"locators": [region]})
    gray = doc.image(again.page)
    for scale in LINE_SCALES:
        looked = resample(gray, scale)
        line = read_zones(again.page, looked, [box], DEFAULT_LANG, LINE_PSM)
        second = read_field(Doc(Layout(pages=[line]), None, doc.captions), name, alone)
        if second.value and same_reading(vouched, second, folded=True):
            how = f"{again.how}; read alone again at {scale}x: {second.value!r}"
            return second.model_copy(update={"how": how})
    return again


def ocr_pages(doc: Doc) -> set[int]:
    return {p.number for p in doc.layout.pages if by_ocr(p.words)}


VOUCHED = ("/checked", "/iban", "/mrz")  # evidence whose check digits settle look-alikes
# ... but an MRZ's (modulo 10) cannot tell L (21) from 1, nor G (16) from 6
MRZ_BLIND = "LG"
MRZ_FOLD = {k: v for k, v in DIGIT_LOOKALIKES.items() if chr(k) not in MRZ_BLIND}


def same_reading(field: Field, again: Field, folded: bool) -> bool:
    """Whether two readings say the same; ``folded`` (an identifier) and the first vouched
    for by its check digits: letters and digits that look alike (``O``/``0``, ``S``/``5``)
    count as one, for the check digits have decided between them (an MRZ's: not between
    :data:`MRZ_BLIND` and their digits)."""
    if field.value == again.value:
        return True
    if not (folded and field.evidence.endswith(VOUCHED)):
        return False
    fold = MRZ_FOLD if field.evidence.endswith("/mrz") else DIGIT_LOOKALIKES
    a, b = (str(v).upper().translate(fold) for v in (field.value, again.value))
    return a == b


def reconciled(field: Field, again: Field, scanned: bool = True, folded: bool = False) -> Field:
    """A value printed in two places, read in both: two readings that agree (:func:`same_reading`)
    are as sure as the surer of them, the first's value kept, and on a scan their evidence
    is ``agreed``; readings that differ
    keep the surer one, not trusted, with the other in ``printed_again`` (the
    ``printed_again`` rule makes it a finding a person sees); a place where nothing was
    read gives no opinion. Where both were read from the text layer the difference is the
    document's own: the first reading stands, the other is kept in
    ``printed_again`` for the rule."""
    if not again.value:
        return field
    if not field.value:
        return again.model_copy(update={"how": f"{again.how} (printed again)"})
    if same_reading(field, again, folded):
        sure = max(field, again, key=lambda f: f.confidence)
        alike = field.model_copy(
            update={"confidence": sure.confidence, "how": f"{field.how}; printed again alike"}
        )
        return agreed(alike) if scanned else alike
    if not scanned:
        return field.model_copy(
            update={
                "how": f"{field.how}; printed again as {again.value!r}",
                "printed_again": PrintedAgain(value=again.value, page=again.page),
            }
        )
    kept, other = (field, again) if field.confidence >= again.confidence else (again, field)
    why = f"read {other.value!r} where printed again"
    return kept.model_copy(
        update={
            "confidence": min(kept.confidence, DISAGREEMENT_CONFIDENCE),
            "how": f"{kept.how}; {why}",
            "doubt": why,
            "printed_again": PrintedAgain(value=other.value or "", page=other.page),
        }
    )


def read_field(doc: Doc, name: str, spec: FieldSpec) -> Field:
    threshold = CONFIDENT_AT if spec.threshold is None else spec.threshold
    base = Field(name=name, required=spec.required, threshold=threshold)
    hit = first_hit(doc, spec)
    if hit is None:
        return base.model_copy(update={"how": "not found"})
    confidence, how = hit_confidence(hit), hit.how
    if hit.several:  # choices ticked together: no value, a finding (rule several_ticked)
        update = {"how": how, "page": hit.page, "box": hit.box, "several_ticked": list(hit.several)}
        return base.model_copy(update=update)
    text = spec.fitted(hit.text)
    if text is None:  # where it looked is kept: a second reading may read it there
        missed = f"{how}; no match for {spec.pattern!r}"
        return base.model_copy(update={"how": missed, "page": hit.page, "box": hit.box})
    raw = spec.type in RAW_TYPES
    scanned = read_by_ocr(hit)
    evidence = evidence_of(spec, scanned or hit.read_by_ocr, hit.vouched_by)
    base = base.model_copy(update={"evidence": evidence})
    doubts: list[str] = []  # what rekey can name against the reading
    try:
        value = text if raw else normalise(spec.type, text, spec.formats, spec.decimal, scanned)
        if spec.surname_first:
            value = given_name_first(value)
        if spec.values and value:
            value, confidence, how = one_of(spec, value, confidence, how, scanned)
        if spec.check_digits and value:
            value, confidence, how = by_check_digits(spec, value, confidence, how)
            base = base.model_copy(update={"evidence": checked_evidence(spec, value, evidence)})
    except NormaliseError as exc:
        value, confidence = text, confidence * UNREADABLE_PENALTY
        doubts.append(str(exc))
    if not value:
        return base.model_copy(update={"how": "; ".join([how, *doubts, "nothing readable"])})
    looks = spec.looks_like or ("identifier" if spec.type == "identifier" else None)
    if scanned and not raw:
        value, put = put_right(looks, value)
        if put:  # the grammar's answer, yet still a slip of the reading: a person checks it
            confidence = min(confidence, SUSPECT_CONFIDENCE)
            doubts.append(f"{put}, put right")
    implausible = why_not(looks, value) if looks else None
    if spec.type == "date" and ISO_DATE.fullmatch(value) and not plausible_year(int(value[:4])):
        implausible = f"the year {value[:4]}"
    if implausible:
        confidence = min(confidence, IMPLAUSIBLE_CONFIDENCE)
        doubts.append(f"does not look right: {implausible}")
    if scanned and not raw and not spec.check_digits:
        suspects = SUSPECT_READINGS + (NAME_SUSPECTS if looks in NAMED else ())
        suspects += STRAY_SUSPECTS if looks in WORDED else ()
        suspect = next((why for rx, why in suspects if rx.search(value)), None)
        if suspect:
            confidence = min(confidence, SUSPECT_CONFIDENCE)
            doubts.append(suspect)
    return base.model_copy(
        update={
            "value": value,
            "confidence": confidence,
            "page": hit.page,
            "box": hit.box,
            "how": "; ".join([how, *doubts]),
            "doubt": "; ".join(doubts),
        }
    )


def with_fallbacks(
    layout: Layout,
    template: Template,
    fields: dict[str, Field],
    image: Callable[[int], np.ndarray] | None = None,
) -> dict[str, Field]:
    """``fields`` with each required one still missing read from its ``fallback``, if that
    finds it: never trusted on its own."""
    missing = [
        name
        for name, field in fields.items()
        if field.value is None and template.fields[name].required and template.fields[name].fallback
    ]
    if not missing:
        return fields
    doc = Doc(layout, image, captions_in(template))
    found = {}
    for name in missing:
        spec = template.fields[name]
        otherwise = {"locators": spec.fallback, "fallback": [], "printed_again": []}
        field = read_field(doc, name, spec.model_copy(update=otherwise))
        if field.value is not None:
            found[name] = field.model_copy(
                update={
                    "confidence": min(field.confidence, DISAGREEMENT_CONFIDENCE),
                    "how": f"{field.how} ({FALLBACK_NOTE})",
                    "doubt": FALLBACK_NOTE,
                }
            )
    return fields | found


def captions_in(template: Template) -> frozenset[str]:
    """The captions printed on the template's form: every label any field is found by
    (where it is, where it is printed again, where it falls back to)."""
    return captions_of(
        loc.text
        for f in template.fields.values()
        for loc in (*f.locators, *f.printed_again, *f.fallback)
        if loc.kind == "label"
    )


def extract_fields(
    layout: Layout,
    template: Template,
    image: Callable[[int], np.ndarray] | None = None,
    only: Iterable[str] | None = None,
) -> dict[str, Field]:
    """The template's fields (or ``only`` those) located on ``layout``."""
    doc = Doc(layout, image, captions_in(template))
    names = template.fields if only is None else only
    return {name: extract_field(doc, name, template.fields[name]) for name in names}
