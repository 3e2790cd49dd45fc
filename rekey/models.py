"""The one data model every stage takes in and hands out.

A file becomes a :class:`Document`, is read into a :class:`Layout` (pages of words with
boxes), yields :class:`Field` values, is checked into :class:`Finding` objects, gets a
:class:`Decision`, and — once keyed — a :class:`Receipt`. A :class:`Case` carries all of it
through the store. Every change is recorded as an :class:`AuditEvent`.

Boxes are page-relative: ``0 <= x0 < x1 <= 1`` and ``0 <= y0 < y1 <= 1`` with the origin at
the top left, whatever produced the words.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Box(Model):
    """A rectangle in page-relative units (0..1), origin top left."""

    x0: float
    y0: float
    x1: float
    y1: float

    def padded(self, pad: float) -> Box:
        """The box grown by ``pad`` on every side, kept on the page."""
        return Box(
            x0=max(0.0, self.x0 - pad),
            y0=max(0.0, self.y0 - pad),
            x1=min(1.0, self.x1 + pad),
            y1=min(1.0, self.y1 + pad),
        )

    def union(self, other: Box) -> Box:
        return Box(
            x0=min(self.x0, other.x0),
            y0=min(self.y0, other.y0),
            x1=max(self.x1, other.x1),
            y1=max(self.y1, other.y1),
        )

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


WordSource = Literal["text", "ocr", "acroform"]


class Word(Model):
    text: str
    box: Box
    confidence: float = 1.0
    source: WordSource = "text"


class Registration(Model):
    """How well a scanned page was brought onto its template's blank (extractors.register)."""

    good: bool  # well enough to trust its zones
    matches: int  # feature matches kept by the ratio test
    inliers: int  # of them, those the fit explains
    inlier_share: float
    spread: float | None = None  # how far the inliers reach across the blank (share, both ways)
    features: str | None = None  # the features that fitted it (orb; sift, where orb could not)
    residual_px: float | None = None  # median distance after the fit, blank pixels (300 dpi)
    correlation: float | None = None  # ECC's correlation of blank and registered page
    reference: str | None = None  # the blank
    seconds: float | None = None  # what registering the page took


class Page(Model):
    number: int  # 1-based
    width: float  # points for PDFs, pixels for images
    height: float
    words: list[Word] = PydField(default_factory=list)
    rotation: int = 0
    scale: float = 1.0  # a scan's resampling: its pixels are the file's times this
    registration: Registration | None = None  # a scan brought onto its template's blank

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


class Layout(Model):
    pages: list[Page] = PydField(default_factory=list)
    acroform: dict[str, str] = PydField(default_factory=dict)
    cells: dict[str, str] = PydField(default_factory=dict)  # one row of a CSV/XLSX batch

    @property
    def text(self) -> str:
        return "\n".join([*(p.text for p in self.pages), " ".join(self.cells)])


class Document(Model):
    """The file a case came from, fingerprinted by content."""

    original_name: str
    sha256: str
    size: int
    media_type: str = "application/octet-stream"
    stored_path: str | None = None  # the copy kept with the case
    page_count: int | None = None  # pages, or rows for a CSV/XLSX batch
    row: int | None = None  # for a case made from one row of a batch: its number (1-based)


class PrintedAgain(Model):
    """Where a field printed twice reads otherwise: that reading and its page."""

    value: str
    page: int | None = None


class Field(Model):
    name: str
    value: str | None = None
    confidence: float = 0.0
    page: int | None = None
    box: Box | None = None
    how: str = ""  # e.g. "label 'Policy number' right"
    required: bool = False
    threshold: float = 0.0
    printed_again: PrintedAgain | None = None  # a second printing that disagrees
    several_ticked: list[str] = PydField(default_factory=list)  # a one-of choice's options
    evidence: str = ""  # how it was read and what checks it ("scan/typed"): its calibration
    read_confidence: float | None = None  # the raw confidence, before calibration
    unread_ink: int | None = None  # not found, yet its boxes on this page hold writing
    doubt: str = ""  # why the reading is not trusted, when rekey can name it

    @property
    def confident(self) -> bool:
        return self.value is not None and self.confidence >= self.threshold


Severity = Literal["error", "warning"]


class Finding(Model):
    rule: str
    severity: Severity = "error"
    fields: list[str] = PydField(default_factory=list)
    message: str


Route = Literal["auto", "review", "reject"]


class Decision(Model):
    route: Route
    reasons: list[str] = PydField(default_factory=list)


class Receipt(Model):
    reference: str
    keyed_at: datetime = PydField(default_factory=utcnow)
    screenshots: list[str] = PydField(default_factory=list)
    verified: bool = False


def external_reference(sha256: str) -> str:
    """The reference rekey puts on a back-office record: stable for the same content, so a
    retry, a re-run or a second worker finds the record instead of keying it again."""
    return f"RK-{sha256[:16].upper()}"


class CaseState(StrEnum):
    received = "received"
    extracted = "extracted"
    validated = "validated"
    review = "review"
    approved = "approved"
    rejected = "rejected"
    keying = "keying"
    keyed = "keyed"
    done = "done"
    failed = "failed"
    quarantined = "quarantined"


TERMINAL_STATES = frozenset({CaseState.done, CaseState.rejected, CaseState.quarantined})


class Case(Model):
    id: str = PydField(default_factory=new_id)
    state: CaseState = CaseState.received
    document: Document
    doc_type: str | None = None
    template: str | None = None
    fields: dict[str, Field] = PydField(default_factory=dict)
    findings: list[Finding] = PydField(default_factory=list)
    decision: Decision | None = None
    receipt: Receipt | None = None
    reason: str | None = None  # why quarantined, rejected or failed
    created_at: datetime = PydField(default_factory=utcnow)
    updated_at: datetime = PydField(default_factory=utcnow)

    @property
    def external_reference(self) -> str:
        return external_reference(self.document.sha256)

    def values(self) -> dict[str, str | None]:
        return {name: f.value for name, f in self.fields.items()}


class AuditEvent(Model):
    case_id: str | None = None
    at: datetime = PydField(default_factory=utcnow)
    actor: str = "rekey"
    action: str
    detail: dict[str, Any] = PydField(default_factory=dict)


class Truth(Model):
    """Ground truth written beside a generated document as ``NAME.truth.json``."""

    model_config = ConfigDict(extra="forbid")

    doc_type: str
    kind: str
    rendition: str = "digital"
    fields: dict[str, Any]
    planted_error: str | None = None  # the rule that must fire, if any
    container: str | None = None  # pdf, tiff, png, csv, xlsx
    formats: dict[str, str] = PydField(default_factory=dict)  # how values were printed
    stamp_over: str | None = None  # the field a stamp covers (bad fax)
    pages: int = 1
    dpi: int | None = None
    skew_degrees: list[float] = PydField(default_factory=list)  # per page
    rotation: list[int] = PydField(default_factory=list)  # per page, 0/90/180/270
    seed: int | None = None
