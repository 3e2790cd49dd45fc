"""A passport's machine-readable zone held against the page's print, once every field is read.

The check digits cover the number and the dates, not the names, the states or the sex; and
two look-alikes whose values agree modulo 10 (``1``/``L``, ``6``/``G``) pass them whatever
was read. So:

- a part whose own check digit fails is not trusted, even where the print agrees
  (:func:`checks_failed`): OCR makes the same slip (``O`` for ``0``) in both;
- a line of the zone is not trusted when a part read from it disagrees with where the page
  prints that part (:func:`lines_doubted`): the check digits passed for a misread;
- line 1, which has no check digit, agrees with the print when it is the line the printed
  issuing state, surname and given names make (:func:`line1_agreed`), written in the zone's
  characters as ICAO 9303 transliterates them (``Ü`` as ``UE`` or ``U``, ``ß`` as ``SS``,
  ``-`` and spaces as ``<``, apostrophes dropped).
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator

from extractors.calibration import AGREED, checked_by
from extractors.extract import FALLBACK_NOTE, doubted
from extractors.mrz import FIELD_CHECKS, LENGTH, checks
from extractors.templates import MrzLocator, Template
from rekey.models import Field

LINE_PARTS = {
    "line1": ("issuing_state", "surname", "given_names"),
    "line2": ("document_number", "nationality", "date_of_birth", "sex", "date_of_expiry"),
}
# ICAO 9303 transliterations, the recommended one first; other letters lose their marks
TRANSLITERATIONS = {
    "Ä": ("AE", "A"), "Ö": ("OE", "O"), "Ü": ("UE", "U"), "ß": ("SS",), "Å": ("AA", "A"),
    "Ø": ("OE", "O"), "Æ": ("AE",), "Œ": ("OE",), "Þ": ("TH",), "Ł": ("L", ""), "Đ": ("D",),
    "Ĳ": ("IJ",), "Ñ": ("N", "NXX"),
}  # fmt: skip
FILLER = " -"
MAX_SPELLINGS = 64


def mrz_parts(template: Template, fallback: bool = False) -> dict[str, str]:
    """Each MRZ part the template reads as its own field (first locator), or, ``fallback``,
    reads from the print with the MRZ as its fallback: part → field name."""
    return {
        loc.part: name
        for name, spec in template.fields.items()
        for loc in (spec.fallback if fallback else spec.locators[:1])
        if isinstance(loc, MrzLocator)
    }


def lines_doubted(template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with each MRZ line not trusted where a part read from it disagrees with
    the print."""
    parts = mrz_parts(template)
    out = dict(fields)
    for line, its_parts in LINE_PARTS.items():
        name = parts.get(line)
        if name is None or fields[name].value is None:
            continue
        off = [parts[p] for p in its_parts if p in parts and fields[parts[p]].printed_again]
        if off:
            out[name] = doubted(fields[name], f"its {', '.join(off)} disagrees with the print")
    return out


CHECKED_PARTS = {"document_number": 0, "date_of_birth": 1, "date_of_expiry": 2}  # FIELD_CHECKS


def checks_failed(template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with each part whose own check digit fails in line 2 not trusted, even
    where the print agrees: the same look-alike slip (``O`` for ``0``) is made twice."""
    parts = mrz_parts(template)
    line2 = fields.get(parts.get("line2", ""))
    if line2 is None or line2.value is None or len(line2.value) != LENGTH:
        return fields
    out = dict(fields)
    for part, index in CHECKED_PARTS.items():
        name = parts.get(part)
        body, at = FIELD_CHECKS[index]
        if name is None or fields[name].value is None or checks(line2.value[body], line2.value[at]):
            continue
        out[name] = doubted(fields[name], "its check digit in the MRZ fails")
    return out


def spellings(text: str) -> Iterator[str]:
    """``text`` in MRZ characters, each way ICAO 9303 lets it be transliterated."""
    choices = []
    for ch in text.upper():
        if ch in TRANSLITERATIONS:
            choices.append(TRANSLITERATIONS[ch])
        elif ch in FILLER:
            choices.append(("<",))
        else:
            base = unicodedata.normalize("NFKD", ch)[:1]
            choices.append((base,) if "A" <= base <= "Z" else ("",))
    for chosen in itertools.islice(itertools.product(*choices), MAX_SPELLINGS):
        yield "".join(chosen)


def composed(state: str, surname: str, given_names: str) -> set[str]:
    """Every line 1 of a passport these printed values make."""
    return {
        f"P<{state:<<3}{last}<<{first}"[:LENGTH].ljust(LENGTH, "<")
        for last in spellings(" ".join(surname.split()))
        for first in set(spellings(" ".join(given_names.split())))
    }


def line1_agreed(template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """``fields`` with line 1 agreed when the printed state and names make it: each of its
    letters read twice, in the zone and in the print."""
    parts, printed = mrz_parts(template), mrz_parts(template, fallback=True)
    names = [parts.get("line1"), parts.get("issuing_state")]
    names += [printed.get("surname"), printed.get("given_names")]
    if None in names:
        return fields
    line, state, surname, given = (fields[n] for n in names)  # type: ignore[index]
    readings = (state, surname, given)
    if line.value is None or any(f.value is None or FALLBACK_NOTE in f.how for f in readings):
        return fields
    if not state.evidence.endswith(AGREED):  # the state read once only: from the zone itself
        return fields
    if line.value not in composed(state.value, surname.value, given.value):  # type: ignore[arg-type]
        return fields
    sure = min(f.confidence for f in readings)
    update = {
        "confidence": max(line.confidence, sure),
        "how": f"{line.how}; the printed state and names make it",
        "evidence": checked_by(line, AGREED),
    }
    return fields | {parts["line1"]: line.model_copy(update=update)}


def held_to_print(template: Template, fields: dict[str, Field]) -> dict[str, Field]:
    """Both checks, for a template that reads a passport's MRZ (others: ``fields``)."""
    if not mrz_parts(template):
        return fields
    return line1_agreed(template, lines_doubted(template, checks_failed(template, fields)))
