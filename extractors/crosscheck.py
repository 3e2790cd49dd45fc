"""Scanned pages read a second time by another engine, and each field judged by both.

Tesseract's slips repeat: read again with another of its models, or enlarged, a faint
``3`` is still an ``8`` as often as not, and the two readings agree on it. A second engine
with other models (PP-OCR, :class:`extractors.engines.Paddle`) makes other mistakes, so
the fields of a scanned page are located again on its reading, by the same template, and:

- **alike** (compared as the field's type compares: a date by the day it means): the
  reading is founded on two engines (evidence ``medium/engines``, calibrated on its own
  curve), unless a stronger check (check digits, an MRZ) already vouches for it;
- **different**: the field is no longer trusted and says what the other engine read; a
  person decides. A first reading that makes no sense for its field (none, a date that is
  no date, failing check digits) gives way to the other engine's when that one does. A
  template whose script the other engine reads better says ``other_engine: leads``: then
  its reading is the one kept (and shown to the reviewer) when the two differ;
- **alike but for spaces and stops**, which PP-OCR often drops (``+44 114``,
  ``Tamarafurt, GU`` read as ``+44114``, ``Tamarafurt GU``): alike, except in an e-mail
  address, where a stop is part of it;
- **alike but for diacritics** (PP-OCR sees none: ``Müller`` read as ``Muller``) **or the
  order of the words** (``ROJAS FRANCES`` without its comma), or **not found** by the
  other engine, or found elsewhere on the page (a caption on the next line, its value's
  line missed) or as a caption of the form: no opinion, the field stays as it was; but
  diacritics a second Tesseract model added to letters the other engine reads alike
  (:func:`letters_seconded`) lift the reading, its evidence kept.

A table or list is alike when every cell is (:func:`table_judged`); a difference gives no
opinion, for a table has its own checks (a total, a date per row). A signature is found
by its caption, then its ink: the other engine finding the caption in the same place
seconds it. Ticks and MRZs are not judged here.

Alike, a reading's raw confidence is lifted towards the other engine's (:func:`lifted`)
unless rekey named a doubt about it (``Field.doubt``): a slip both can make (a stop
dropped, a diacritic unseen) is not answered by their agreeing.
"""

from __future__ import annotations

import json

from extractors.calibration import LETTERS, MARKS, checked_by
from extractors.extract import DISAGREEMENT_CONFIDENCE, captions_in, doubted, makes_sense
from extractors.locators import captions_of
from extractors.ocr import using_engine
from extractors.reread import Look, fields_on, on_scan, pages_holding, read_look
from extractors.source import Source
from extractors.templates import FieldSpec, Template
from extractors.verify import meaning
from rekey.models import Box, Field, Layout
from rekey.text import letters, without_marks

OTHER_ENGINE = "rapidocr"
ENGINES = "engines"  # the evidence of a reading two engines agree on
ALIKE = "the other engine reads it alike"
AS_READ = Look("by another engine")
OWN_READINGS = ("mrz", "mark", "iban", "checked")  # settled by more than the words
TABLES = ("table", "list")


def spelled(text: str) -> str:
    """A reading as compared: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def same_letters(first: str, second: str) -> bool:
    """Whether two readings hold the same letters, diacritics and order aside: the
    other engine cannot tell them apart (``Ødegård``, ``Rojas Frances``)."""
    return sorted(letters(without_marks(first))) == sorted(letters(without_marks(second)))


def alike(spec: FieldSpec, first: str, second: str) -> bool:
    """Whether two readings say the same: as spelled, or but for spaces and stops (not in
    an e-mail address)."""
    if spelled(first) == spelled(second):
        return True
    return spec.looks_like != "email" and letters(first) == letters(second)


OVERLAP = 0.5  # of the lower reading's height: two boxes on one line


def same_place(box: Box | None, other: Box | None) -> bool:
    """Whether two readings' boxes stand on one line of the page, overlapping across."""
    if box is None or other is None:
        return False
    down = min(box.y1, other.y1) - max(box.y0, other.y0)
    across = min(box.x1, other.x1) - max(box.x0, other.x0)
    lower = min(box.y1 - box.y0, other.y1 - other.y0)
    return across > 0 and down >= OVERLAP * lower


def lifted(first: float, second: float) -> float:
    """A reading's raw confidence once another engine read it alike with its own
    confidence ``second``: raised halfway (as a geometric mean) towards the other's, never
    lowered. Tesseract's Chinese model is unsure of what it reads right; a reading it was
    nearly sure was wrong (a faint ``6`` read as ``5`` by both) stays unsure."""
    return max(first, (first * max(second, 0.0)) ** 0.5)


def seconded(field: Field, other: Field) -> Field:
    """``field`` read alike by the other engine (its reading ``other``): evidence
    ``medium/engines`` and a lifted raw confidence, unless a stronger check already vouches
    for it; a named doubt stands and keeps the confidence."""
    if field.evidence.partition("/")[2] in OWN_READINGS:
        return field
    with_evidence = field.model_copy(update={"evidence": checked_by(field, ENGINES)})
    if field.doubt:
        return with_evidence.model_copy(update={"how": f"{field.how}; {ALIKE}"})
    return lifted_by(with_evidence, other, ALIKE)


def lifted_by(field: Field, other: Field, said: str) -> Field:
    """``field`` with its raw confidence :func:`lifted` by ``other``'s, saying so."""
    how = f"{field.how}; {said} ({other.confidence:.0%})"
    return field.model_copy(
        update={"confidence": lifted(field.confidence, other.confidence), "how": how}
    )


def given_way(other: Field, how: str, why: str) -> Field:
    """The other engine's reading kept in place of the first, never trusted, for ``why``;
    ``how``: the account it follows."""
    update = {"confidence": DISAGREEMENT_CONFIDENCE, "how": f"{how}; {why}", "doubt": why}
    return other.model_copy(update=update)


def letters_seconded(field: Field, first: str, other: Field) -> Field:
    """``field``, whose diacritics a second Tesseract model added to letters both its models
    read (evidence ``medium/letters``), read by the other engine with the same letters in
    the same order, marks aside: its raw confidence lifted, its evidence kept, for the
    marks still rest on one model. Any other reading alike but for marks or order: no
    opinion."""
    if field.doubt or field.evidence.partition("/")[2] != LETTERS:
        return field
    if letters(without_marks(first)) != letters(without_marks(other.value or "")):
        return field
    return lifted_by(field, other, "the other engine reads its letters alike")


def judged_by_both(
    spec: FieldSpec,
    field: Field,
    other: Field,
    captions: frozenset[str] = frozenset(),
    leads: bool = False,
) -> Field:
    """``field`` as its first engine read it, judged by the other engine's ``other``
    (``captions``: the form's printed captions, squashed; ``leads``: on a difference the
    other engine's reading is kept)."""
    second = meaning(spec, other.value) if other.value else None
    if second is None or captions_of([other.value]) <= captions:
        return field
    if not makes_sense(spec, field.value) and makes_sense(spec, other.value):
        only = f"read by the other engine only (first read {field.value!r})"
        return given_way(other, field.how, only)
    first = meaning(spec, field.value) if field.value else None
    if first is None or not same_place(field.box, other.box):
        return field
    if alike(spec, first, second):
        return seconded(field, other)
    if spec.looks_like != "email" and same_letters(first, second):
        return letters_seconded(field, first, other)
    if leads and makes_sense(spec, other.value):
        taken = f"taken from the other engine (first read {field.value!r})"
        return given_way(other, other.how, taken)
    return doubted(field, f"the other engine reads {other.value!r}")


def judged(spec: FieldSpec) -> bool:
    """Whether a field is read from words both engines give, or found by them (a
    signature by its caption): not a tick, not an MRZ."""
    if spec.type in MARKS:
        return False
    return not any(loc.kind == "mrz" for loc in spec.locators)


def cells(value: str) -> list[str] | None:
    """A table's or list's cells in order, as :func:`letters` (None: not a table)."""
    try:
        rows = json.loads(value)
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        items = row.values() if isinstance(row, dict) else [row]
        out.extend(letters(str(v)) if v is not None else "" for v in items)
    return out


def table_judged(field: Field, other: Field) -> Field:
    """A table (or list) judged cell by cell: the other engine reads every cell alike, or
    no opinion. A table has its own checks (a total, a date per row), and the other
    engine misses more of a table than Tesseract does (a date as ``230ctober2026``, a row
    of a grid), so a difference does not doubt it."""
    first = cells(field.value or "")
    if first and first == cells(other.value or ""):
        return seconded(field, other)
    return field


def crosscheck_fields(
    source: Source, template: Template, layout: Layout, fields: dict[str, Field]
) -> dict[str, Field]:
    """``fields`` on scanned pages judged by a second engine's reading of those pages."""
    if template.other_engine == "off":
        return fields
    names = [n for n, f in fields.items() if judged(template.fields[n]) and on_scan(source, f)]
    numbers = pages_holding(source, template, [fields[n] for n in names])
    if not names or not numbers:
        return fields
    with using_engine(OTHER_ENGINE):
        looked = {n: read_look(source, template, n, AS_READ) for n in numbers}
    others = fields_on(source, template, layout, looked, names)
    checked = dict(fields)
    captions = captions_in(template)
    leads = template.other_engine == "leads"
    for name in names:
        other = others[name]
        if other.page is not None and other.page not in looked:
            continue  # found on a page the other engine did not read
        spec = template.fields[name]
        if spec.type in TABLES:
            checked[name] = table_judged(fields[name], other)
        else:
            checked[name] = judged_by_both(spec, fields[name], other, captions, leads)
    return checked
