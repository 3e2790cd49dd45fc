"""Templates: what a document type looks like and where each field is found (YAML data)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from extractors.plausible import Looks
from rekey.config import Regex, load_folder
from rekey.errors import ConfigError

FieldTypeName = Literal["text", "date", "money", "identifier"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# the lowest fuzzy score (rapidfuzz ratio, 0-100) at which a caption counts as found
CaptionMatch = Annotated[float, Field(ge=50, le=100)]
CAPTION_MATCH = 85.0


class LabelLocator(_Strict):
    """The value printed beside (or below) a caption such as ``Policy number:``."""

    kind: Literal["label"] = "label"
    text: str
    direction: Literal["right", "below"] = "right"
    window: float = Field(0.7, gt=0, le=1)  # how far from the label to look, page-relative
    lines: int = Field(1, ge=1, le=5)  # a value may wrap onto following lines
    skip: int = Field(0, ge=0, le=4)  # lines to pass over first (an address's second line)
    match: CaptionMatch = CAPTION_MATCH
    page: int | None = None


class RegexLocator(_Strict):
    """The first match of a pattern in the page text."""

    kind: Literal["regex"] = "regex"
    pattern: Regex
    group: int | str = 0
    page: int | None = None


class AcroformLocator(_Strict):
    """Fillable PDF form fields, by full name; several are joined by ``format``."""

    kind: Literal["acroform"] = "acroform"
    names: list[str] = Field(min_length=1)
    format: str | None = None  # e.g. "{2}-{0}-{1}" for month, day, year fields
    choices: dict[str, str] = Field(default_factory=dict)  # export value → meaning
    as_list: bool = False  # the filled fields as a list (e.g. diagnosis codes 1..12)

    @field_validator("format")
    @classmethod
    def _formats(cls, fmt: str | None, info) -> str | None:
        if fmt is not None:
            try:
                fmt.format(*["x"] * len(info.data.get("names", [])))
            except (IndexError, KeyError, ValueError) as exc:
                count = len(info.data.get("names", []))
                raise ValueError(f"bad format for {count} names: {exc}") from exc
        return fmt


ZoneBox = tuple[float, float, float, float]  # x0, y0, x1, y1, page-relative


class Anchor(_Strict):
    """A printed caption that fixed boxes are measured from."""

    text: str = Field(min_length=1)
    match: CaptionMatch = CAPTION_MATCH


class MrzFrame(_Strict):
    """A passport data page's own frame, found from its machine-readable zone: where the
    zone's two lines stand on the page the boxes are written for, and that page's height
    over its width. The boxes follow the zone wherever the page was printed, at any scale
    (a data page copied onto A4), as the printed fields stand in a fixed place beside it."""

    mrz: ZoneBox
    aspect: float = Field(gt=0, le=4)


class RegionLocator(_Strict):
    """The words inside fixed boxes on a page (a form with a fixed layout); on scans these
    boxes are all that OCR reads (zonal OCR). Several boxes are joined by ``format``.

    With an ``anchor`` the boxes are offsets from the top-left corner of that caption, so
    they follow it wherever the form was printed or scanned; the page is then read whole.
    With ``frame`` they are places on a passport's data page, found from its MRZ.
    """

    kind: Literal["region"] = "region"
    anchor: Anchor | None = None  # declared first: the boxes are checked against it
    frame: MrzFrame | None = None
    boxes: list[ZoneBox] = Field(min_length=1)
    page: int = 1
    format: str | None = None
    pad: float = Field(0.004, ge=0, le=0.05)
    # the characters a value is written in: words without them (printed captions, box
    # rules, brackets) are left out, and other characters dropped from the words kept;
    # without a space among them the words kept are joined without one
    chars: str | None = Field(None, min_length=1)
    as_list: bool = False  # the filled boxes as a list, one item per box
    pattern: Regex | None = None  # what a box's text must be to count (else: empty box)
    trust: float = Field(1.0, gt=0, le=1)  # below 1 for a fallback that guesses by position

    @field_validator("boxes")
    @classmethod
    def _boxes(cls, boxes: list[ZoneBox], info) -> list[ZoneBox]:
        low = -1.0 if info.data.get("anchor") else 0.0  # offsets may run left of or above it
        for x0, y0, x1, y1 in boxes:
            if not (low <= x0 < x1 <= 1 and low <= y0 < y1 <= 1):
                box = [x0, y0, x1, y1]
                raise ValueError(f"box {box}: not x0 < x1 and y0 < y1 within the page")
        return boxes

    @model_validator(mode="after")
    def _placed_once(self) -> RegionLocator:
        if self.anchor and self.frame:
            raise ValueError("a region is placed by its anchor or by its frame, not both")
        return self


class RegionChoiceLocator(_Strict):
    """Tick boxes at fixed places: the value is the name of the one ticked; when none is,
    ``unticked`` (a lone tick box: ``false``), or nothing found."""

    kind: Literal["region_choice"] = "region_choice"
    boxes: dict[str, ZoneBox] = Field(min_length=1)
    page: int = 1
    unticked: str | None = None


class ColumnLocator(_Strict):
    """A cell of a CSV/XLSX row, by its column name."""

    kind: Literal["column"] = "column"
    name: str


class MrzLocator(_Strict):
    """One part of a passport's machine-readable zone (TD3), check digits verified."""

    kind: Literal["mrz"] = "mrz"
    part: Literal[
        "line1",
        "line2",
        "issuing_state",
        "surname",
        "given_names",
        "document_number",
        "nationality",
        "date_of_birth",
        "sex",
        "date_of_expiry",
    ]
    page: int | None = None


class CheckboxLocator(_Strict):
    """A tick box beside its caption, read by how much ink fills it."""

    kind: Literal["checkbox"] = "checkbox"
    label: str
    side: Literal["left", "right"] = "left"
    size: float = Field(0.02, gt=0, le=0.1)  # the box side, page-width relative
    gap: float = Field(0.008, ge=0, le=0.05)
    match: CaptionMatch = CAPTION_MATCH
    page: int | None = None


class ChoiceLocator(_Strict):
    """One of several tick boxes, each beside its caption: the value is the ticked caption."""

    kind: Literal["choice"] = "choice"
    options: list[str] = Field(min_length=2)
    side: Literal["left", "right"] = "left"
    size: float = Field(0.02, gt=0, le=0.1)
    gap: float = Field(0.008, ge=0, le=0.05)
    match: CaptionMatch = CAPTION_MATCH
    page: int | None = None


class SignatureLocator(_Strict):
    """Ink beside (right of) the signature caption, lines excluded."""

    kind: Literal["signature"] = "signature"
    label: str
    window: float = Field(0.35, gt=0, le=1)
    match: CaptionMatch = CAPTION_MATCH
    page: int | None = None


class TableLocator(_Strict):
    """Rows under a header line, up to an end caption; columns from the header words."""

    kind: Literal["table"] = "table"
    header: list[str] = Field(min_length=1)  # one caption per column, left to right
    columns: list[str] = Field(min_length=1)  # the key each column's cell is stored under
    types: list[FieldTypeName] = Field(default_factory=list)  # normaliser per column
    end: str | None = None
    # the money column whose sum the end caption's line prints (``Total: 1,234.50``): when
    # it adds up, the total vouches for the column's cells
    total: str | None = None
    page: int | None = None

    @model_validator(mode="after")
    def _total_is_a_money_column(self) -> TableLocator:
        if self.total is None:
            return self
        if self.end is None:
            raise ValueError("total needs end: the caption the total is printed beside")
        kinds = dict(zip(self.columns, self.types or ["text"] * len(self.columns), strict=True))
        if kinds.get(self.total) != "money":
            raise ValueError(f"total {self.total!r} is not one of the money columns")
        return self

    @field_validator("columns")
    @classmethod
    def _one_key_per_header(cls, columns: list[str], info) -> list[str]:
        if len(columns) != len(info.data.get("header", [])):
            raise ValueError("give one column key per header caption")
        return columns


class FormColumn(_Strict):
    """One column of :class:`FormRowsLocator`: its form fields (``{n}`` is the row number),
    joined by ``format``, read as ``type``."""

    names: list[str] = Field(min_length=1)
    format: str | None = None
    type: FieldTypeName = "text"
    decimal: Literal["auto", ".", ",", " "] = "auto"


class FormRowsLocator(_Strict):
    """Line items of a fillable form, one set of numbered form fields per row (``sv1_…``,
    ``sv2_…``); a row with every field empty is no row."""

    kind: Literal["form_rows"] = "form_rows"
    rows: int = Field(ge=1, le=100)
    columns: dict[str, FormColumn] = Field(min_length=1)


class RegionColumn(_Strict):
    """One column of :class:`RegionRowsLocator`: its boxes on the first row (read as a
    ``region`` locator reads them), and the type its cells are read as."""

    boxes: list[ZoneBox] = Field(min_length=1)
    format: str | None = None
    pad: float = Field(0.002, ge=0, le=0.05)
    chars: str | None = Field(None, min_length=1)
    pattern: Regex | None = None
    type: FieldTypeName = "text"
    decimal: Literal["auto", ".", ",", " "] = "auto"


class RegionRowsLocator(_Strict):
    """Line items printed in a printed grid: the first row's boxes, repeated ``pitch`` lower
    for each further row; reading stops at the first row with fewer than half its
    columns read (an empty line, or a speck read in one of its boxes)."""

    kind: Literal["region_rows"] = "region_rows"
    rows: int = Field(ge=1, le=100)
    pitch: float = Field(gt=0, le=0.5)
    columns: dict[str, RegionColumn] = Field(min_length=1)
    page: int = 1

    def row_boxes(self, column: RegionColumn, row: int) -> list[ZoneBox]:
        shift = self.pitch * row
        return [(x0, y0 + shift, x1, y1 + shift) for x0, y0, x1, y1 in column.boxes]


Locator = Annotated[
    LabelLocator
    | RegexLocator
    | AcroformLocator
    | RegionLocator
    | RegionChoiceLocator
    | ColumnLocator
    | MrzLocator
    | CheckboxLocator
    | ChoiceLocator
    | SignatureLocator
    | TableLocator
    | FormRowsLocator
    | RegionRowsLocator,
    Field(discriminator="kind"),
]
FieldType = Literal[
    "text", "date", "money", "identifier", "checkbox", "choice", "signature", "table", "list"
]


@cache
def country_names() -> tuple[str, ...]:
    """Every country's name in English, short and common (ISO 3166-1, kept by pycountry)."""
    names = {n for c in pycountry.countries for n in (c.name, getattr(c, "common_name", c.name))}
    return tuple(sorted(names))


LISTS = {"countries": country_names}


CONFIDENT_AT = 0.99  # the calibrated probability a field must reach to be confident
LOWEST_THRESHOLD = 0.8  # no template may trust a field less sure than this


class FieldSpec(_Strict):
    type: FieldType = "text"
    locators: list[Locator] = Field(min_length=1)
    required: bool = False
    # the calibrated probability of being right (extractors.calibration) at which the
    # field is confident; unset: the template's threshold
    threshold: float | None = Field(None, ge=LOWEST_THRESHOLD, le=1)
    formats: list[str] = Field(default_factory=list)  # dates: strptime formats, in order
    decimal: Literal["auto", ".", ",", " "] = "auto"  # money: the mark before the cents
    surname_first: bool = False  # a name printed "SURNAME, Given" is stored "Given Surname"
    # on scans, read again (true: with the Latin-script model; or the model named, such as
    # chi_sim for Chinese fields the mixed model reads as Latin letters); differ: review
    verify: bool | str = False
    pattern: Regex | None = None  # keep only this regex's first group (or match) of the text
    # identifiers with check digits (iban, luhn, cn_ric): valid under one of them, or one
    # look-alike slip away from a single value that is; otherwise not trusted
    check_digits: list[Literal["iban", "luhn", "cn_ric"]] = Field(default_factory=list)
    # a closed list: a reading this close (0-100) to one of them is taken as it
    values: list[str] = Field(default_factory=list)
    values_match: float = Field(85.0, ge=50, le=100)
    values_from: Literal["countries"] | None = None  # a closed list kept elsewhere, added
    # what the value must look like to be trusted (extractors.plausible): a person's name,
    # a company, an address, a place
    looks_like: Looks | None = None
    # other places the same value is printed (a total carried to another page): read too,
    # and when the readings differ the surer one is kept, for review
    printed_again: list[Locator] = Field(default_factory=list)
    # where the value is printed otherwise, in a poorer form (a passport's names in the MRZ:
    # capitals, no accents): read only when a required field is still missing after every
    # reading of the page, and never trusted on its own
    fallback: list[Locator] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _listed_elsewhere(cls, data: object) -> object:
        named = data.get("values_from") if isinstance(data, dict) else None
        if named in LISTS:
            return data | {"values": [*data.get("values", []), *LISTS[named]()]}
        return data  # an unknown name is refused by the field's own type

    def fitted(self, text: str) -> str | None:
        """What of ``text`` the field keeps: its ``pattern``'s first group that took part in
        the match (or the match), None when the pattern is not found; the text itself when
        there is no pattern."""
        if self.pattern is None:
            return text
        match = re.search(self.pattern, text)
        if match is None:
            return None
        return next((g for g in match.groups() if g is not None), match.group(0))


class Template(_Strict):
    name: str
    doc_type: str
    version: int = 1
    language: str = "eng"
    keywords: list[str] = Field(min_length=1)
    # other sets of keywords, each enough on its own: the form's printed title, for a poor
    # copy whose small form number no reading makes out
    alternative_keywords: list[list[str]] = Field(default_factory=list)
    alternative_match: float | None = Field(None, ge=50, le=100)  # unset: keyword_match
    exclude_keywords: list[str] = Field(default_factory=list)
    # how closely a keyword must appear (rapidfuzz partial ratio, 0-100; 100: exactly), so
    # a scan that reads "RK-CLM-CN-T" for "RK-CLM-CN-1" is still recognised
    keyword_match: float = Field(default=90.0, ge=50, le=100)
    priority: int = 0
    # how Tesseract lays out the stacked zones of a scan: 6 reads one uniform block; 4, a
    # column of lines of varying size (pale, widely spaced entries such as the W-9's)
    zone_psm: Literal[4, 6] = 6
    # scanned pages are read again by another engine (extractors.crosscheck), which judges
    # each field; "leads": where the two differ, its reading is kept (a script it reads
    # better than Tesseract, such as Chinese); "off": not read again
    other_engine: Literal["judges", "leads", "off"] = "judges"
    # the blank form (PDF or image; relative to this file) its zones were drawn on: every
    # scanned page is registered to it before its zones are read (extractors.register)
    reference: Path | None = None
    # a field is confident when its calibrated probability of being right reaches this
    threshold: float = Field(CONFIDENT_AT, ge=LOWEST_THRESHOLD, le=1)
    fields: dict[str, FieldSpec]

    @model_validator(mode="after")
    def _thresholds(self) -> Template:
        for name, spec in self.fields.items():
            if spec.threshold is None:
                self.fields[name] = spec.model_copy(update={"threshold": self.threshold})
        return self

    def zones(self, page: int) -> list[ZoneBox] | None:
        """The boxes OCR must read on ``page``: None when the page needs reading whole, an
        empty list when no field is on it (nothing to read)."""
        boxes: list[ZoneBox] = []
        for spec in self.fields.values():
            for loc in [*spec.locators, *spec.printed_again, *spec.fallback]:
                if loc.kind in ("acroform", "form_rows", "region_choice"):  # form data; ink
                    continue
                if loc.kind == "region":
                    if loc.page == page:
                        if loc.anchor or loc.frame:  # found on the page: it is read whole
                            return None
                        boxes.extend(padded(box, loc.pad) for box in loc.boxes)
                elif loc.kind == "region_rows":
                    if loc.page == page:
                        boxes.extend(
                            padded(box, column.pad)
                            for column in loc.columns.values()
                            for row in range(loc.rows)
                            for box in loc.row_boxes(column, row)
                        )
                elif getattr(loc, "page", None) in (page, None):
                    return None
        return boxes


def padded(box: ZoneBox, pad: float) -> ZoneBox:
    x0, y0, x1, y1 = box
    return (max(0.0, x0 - pad), max(0.0, y0 - pad), min(1.0, x1 + pad), min(1.0, y1 + pad))


@cache
def load_templates(folder: Path) -> dict[str, Template]:
    return {name: with_reference(t, folder) for name, t in load_folder(folder, Template).items()}


def with_reference(template: Template, folder: Path) -> Template:
    """``template`` with its blank's path resolved from its own folder, and there."""
    if template.reference is None:
        return template
    path = (folder / template.reference).resolve()
    if not path.is_file():
        raise ConfigError(
            f"the blank {path} is not there", file=folder / f"{template.name}.yaml", key="reference"
        )
    return template.model_copy(update={"reference": path})
