"""Ledgerline's four entry screens as data: captions, where each caption sits, widget kinds,
select options and which fields are required.

The browser is sent these definitions (:func:`schema`) and draws every form from them, so
the shuffle knob can reorder fields without touching the script. Each field says how its
caption is placed, because 2010s single-page apps were inconsistent about it:

- ``left`` / ``above``: a ``<span>`` caption beside or over the input (CSS only; the DOM
  order is the same, the geometry differs);
- ``right``: the caption follows the input (the checkbox);
- ``placeholder``: no caption at all, only the input's placeholder text;
- ``aria``: no visible caption, only an ``aria-label``.

Date formats, one per screen (the screen's ``date_format`` is shown as a hint by every date
input and is the only format the server accepts for that screen):

- account opening: ``DD/MM/YYYY``
- tax details: no dates
- identity document: ``YYYY-MM-DD`` (as printed in a machine-readable zone's spirit)
- medical claim: ``DD/MM/YYYY``, the service lines' dates too

Select boxes post numeric codes (``"1"``, ``"2"``...) in option order; the server stores the
option's value (its text, or a short code such as ``F`` for the sex).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from samples.backoffice.forms import ID_TYPES, INCOME_BANDS, NATIONALITIES, SOURCES_OF_FUNDS

Kind = Literal[
    "text", "textarea", "date", "amount", "select", "checkbox", "email", "country", "code"
]
Place = Literal["left", "above", "right", "placeholder", "aria"]
DMY, ISO = "DD/MM/YYYY", "YYYY-MM-DD"
SSN, EIN = r"\d{3}-\d{2}-\d{4}", r"\d{2}-\d{7}"
CITY_STATE_ZIP = r".+\b[A-Z]{2},? \d{5}(-\d{4})?"
PROCEDURE = r"\d{4}[0-9A-Z]|[A-Z]\d{4}"  # CPT (99213, 0001F) or HCPCS level II (J1100)


@dataclass(frozen=True)
class Field:
    key: str  # the record's value key, never shown in the page
    caption: str  # span text, placeholder or aria-label, depending on ``place``
    kind: Kind = "text"
    place: Place = "left"
    required: bool = True
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (stored value, shown text)
    pattern: str = ""  # a regular expression the cleaned value must match in full


@dataclass(frozen=True)
class Screen:
    id: str
    title: str
    fields: tuple[Field, ...]
    date_format: str | None = None
    line_fields: tuple[Field, ...] = ()  # service lines (medical claim only)
    max_lines: int = 0

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


def shown(*texts: str) -> tuple[tuple[str, str], ...]:
    """Options stored as the text they show."""
    return tuple((t, t) for t in texts)


EXTERNAL_REF = Field("external_ref", "External reference", place="aria", required=False)

ACCOUNT = Screen(
    "account",
    "Account opening",
    (
        Field("full_name", "Full name"),
        Field("date_of_birth", "Date of birth", "date", "above"),
        Field("nationality", "Nationality", "select", options=shown(*NATIONALITIES)),
        Field("id_type", "ID type", "select", options=shown(*ID_TYPES)),
        Field("id_number", "ID number", place="above"),
        Field("address", "Address", "textarea", "above"),
        Field("phone", "Phone", place="placeholder", required=False),
        Field("email", "E-mail", "email", "placeholder", required=False),
        Field("occupation", "Occupation", required=False),
        Field("employer", "Employer", required=False),
        Field("income_band", "Income band", "select", "above", options=shown(*INCOME_BANDS)),
        Field(
            "source_of_funds",
            "Source of funds",
            "select",
            required=False,
            options=shown(*SOURCES_OF_FUNDS),
        ),
        Field("tax_residency", "Tax residency", "country", required=False, hint="e.g. GB"),
        Field("pep", "Politically exposed person", "checkbox", "right", required=False),
        EXTERNAL_REF,
    ),
    date_format=DMY,
)

TAX_CLASSES = shown(
    "Individual/sole proprietor",
    "C corporation",
    "S corporation",
    "Partnership",
    "Trust/estate",
    "Limited liability company",
    "Other",
)

TAX = Screen(
    "tax",
    "Tax details",
    (
        Field("customer_name", "Customer name"),
        Field("business_name", "Business name", place="above", required=False),
        Field("tax_classification", "Tax classification", "select", options=TAX_CLASSES),
        Field("ssn", "Social security number", required=False, hint="NNN-NN-NNNN", pattern=SSN),
        Field(
            "ein",
            "Employer identification number",
            required=False,
            hint="NN-NNNNNNN",
            pattern=EIN,
        ),
        Field("address", "Address (number, street, apt. or suite)", place="above"),
        Field(
            "city_state_zip",
            "City, state, and ZIP code",
            place="placeholder",
            hint="e.g. Springfield, IL 62704",
            pattern=CITY_STATE_ZIP,
        ),
        EXTERNAL_REF,
    ),
)

SEXES = (("F", "Female"), ("M", "Male"), ("X", "Unspecified"))

IDENTITY = Screen(
    "identity",
    "Identity document",
    (
        Field("document_number", "Document number", "code", pattern=r"[A-Z0-9]{5,9}"),
        Field("issuing_state", "Issuing state", "country", "above", hint="e.g. GBR or D"),
        Field("surname", "Surname"),
        Field("given_names", "Given names", place="placeholder"),
        Field("nationality", "Nationality", "country", "above", hint="e.g. GBR or D"),
        Field("date_of_birth", "Date of birth", "date"),
        Field("sex", "Sex", "select", options=SEXES),
        Field("date_of_expiry", "Date of expiry", "date", "above"),
        EXTERNAL_REF,
    ),
    date_format=ISO,
)

MEDICAL = Screen(
    "medical",
    "Medical claim",
    (
        Field("patient_name", "Patient's name"),
        Field("insured_id", "Insured's ID number", place="above"),
        Field("date_of_birth", "Patient's birth date", "date"),
        Field("total_charge", "Total charge", "amount", hint="e.g. 1,234.56"),
        EXTERNAL_REF,
    ),
    date_format=DMY,
    line_fields=(
        Field("date", "Date of service", "date"),
        Field("code", "Procedure code", "code", hint="CPT/HCPCS, e.g. 99213", pattern=PROCEDURE),
        Field("charge", "Charges", "amount"),
    ),
    max_lines=6,  # the six service lines of box 24
)

SCREENS: dict[str, Screen] = {s.id: s for s in (ACCOUNT, TAX, IDENTITY, MEDICAL)}


def schema(screen: Screen, fields: list[Field], line_fields: list[Field]) -> dict:
    """What the browser needs to draw *screen* with its fields in this order: captions,
    placement, kinds, hints, and option texts with the numeric codes a select posts."""

    def described(field: Field) -> dict:
        hint = field.hint or (screen.date_format if field.kind == "date" else "")
        return {
            "key": field.key,
            "caption": field.caption,
            "kind": field.kind,
            "place": field.place,
            "hint": hint or "",
            "options": [[str(n), text] for n, (_, text) in enumerate(field.options, 1)],
        }

    return {
        "id": screen.id,
        "title": screen.title,
        "date_format": screen.date_format,
        "fields": [described(f) for f in fields],
        "line_fields": [described(f) for f in line_fields],
        "max_lines": screen.max_lines,
    }
