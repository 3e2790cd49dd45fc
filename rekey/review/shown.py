"""What a person is shown of a case: identifiers masked unless revealed, and line items
(a field whose value is a JSON list of objects) as a table.

Identifiers (the fields a template types ``identifier``) show masked to everyone by
default, in the field values, the finding messages, the reason, the history, the audit page
and the page images (each identifier field's box filled opaque on the server, so the
pixels under it never leave it). Revealing them is an audited action: a reviewer may reveal
a case waiting for review; a finished case (or any case) only a supervisor or admin. A
revealed case page carries a :class:`RevealPass` in its page image's URL, which opens that
image unmasked to the same session only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from rekey.models import AuditEvent, Box, Case, CaseState
from rekey.review.auth import Role, id_hash
from rekey.review.queue import WAITING, masked_text, masks
from validators.masking import mask

REVEAL_ANY = Role.supervisor  # the role that may see the identifiers of any case


def may_reveal(role: Role | None, state: CaseState) -> bool:
    return role is not None and (role >= REVEAL_ANY or state in WAITING)


@dataclass(frozen=True)
class Shown:
    """How a case's identifiers are shown on one page."""

    identifiers: frozenset[str]  # the identifier fields of the case's template
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (value, mask), longest first
    revealed: bool = False

    def masked(self, name: str | None) -> bool:
        return not self.revealed and name in self.identifiers

    def value(self, name: str | None, value: str | None) -> str:
        """A field's value (or a value once held by it) as this page may show it."""
        if value is None:
            return ""
        return mask(value) if self.masked(name) else self.text(str(value))

    def text(self, text: str | None) -> str:
        """A message with the case's identifier values masked in it."""
        if text is None:
            return ""
        return text if self.revealed else masked_text(str(text), self.pairs)


def shown(case: Case, identifiers: list[str], revealed: bool) -> Shown:
    values = [case.fields[n].value or "" for n in identifiers if n in case.fields]
    return Shown(frozenset(identifiers), masks(values), revealed)


COVER_BGR = (0, 0, 0)  # what an identifier's box on a page image is filled with (black)
COVER_PAD_PX = 4  # the fill reaches this far past the box on every side


def identifier_boxes(case: Case, identifiers: list[str], page: int) -> list[Box]:
    """The boxes of the case's identifier fields that lie on ``page``."""
    fields = [case.fields[n] for n in identifiers if n in case.fields]
    return [f.box for f in fields if f.box is not None and f.page == page]


def pixel_rect(box: Box, width: int, height: int, pad: int) -> tuple[int, int, int, int]:
    """A page-relative box as whole pixels (x0, y0, x1, y1 exclusive), grown by ``pad`` and
    rounded outwards, kept on the image."""
    return (
        max(0, math.floor(box.x0 * width) - pad),
        max(0, math.floor(box.y0 * height) - pad),
        min(width, math.ceil(box.x1 * width) + pad),
        min(height, math.ceil(box.y1 * height) + pad),
    )


def cover_value(image: np.ndarray) -> tuple[int, ...] | int:
    """``COVER_BGR`` in the image's own channels: grey, colour, or colour with an opaque alpha."""
    if image.ndim == 2:
        return COVER_BGR[0]
    if image.shape[2] == 4:
        return (*COVER_BGR, int(np.iinfo(image.dtype).max))
    return COVER_BGR


def covered_png(path: Path, boxes: list[Box]) -> bytes:
    """The page image at ``path`` as PNG bytes with every box filled with ``COVER_BGR``."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise OSError(f"{path}: not a readable image")
    height, width = image.shape[:2]
    fill = cover_value(image)
    for box in boxes:
        x0, y0, x1, y1 = pixel_rect(box, width, height, COVER_PAD_PX)
        image[y0:y1, x0:x1] = fill
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise OSError(f"{path}: the covered image could not be encoded")
    return data.tobytes()


class RevealPass:
    """Proof, in a page image's URL, that this session revealed this case's identifiers
    (an audited reveal): signed, bound to the case and to the session (by its id's hash, so
    the URL opens nothing on its own), good for ``max_age_s``."""

    def __init__(self, secret: str, max_age_s: float):
        self.serializer = URLSafeTimedSerializer(secret, salt="rekey-review-reveal")
        self.max_age_s = max_age_s

    def issue(self, case_id: str, session_id: str) -> str:
        return self.serializer.dumps([case_id, id_hash(session_id)])

    def valid(self, token: str | None, case_id: str, session_id: str | None) -> bool:
        if not token or session_id is None:
            return False
        try:
            found = self.serializer.loads(token, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return False
        return found == [case_id, id_hash(session_id)]


def shown_with_history(
    case: Case, identifiers: list[str], events: list[AuditEvent], revealed: bool
) -> Shown:
    """How a case's events are shown: its identifier fields masked, and every value they
    hold or have held (before or after a correction) masked wherever it appears."""
    values = [case.fields[n].value or "" for n in identifiers if n in case.fields]
    for event in events:
        if event.detail.get("field") in identifiers:
            values += [str(event.detail[k]) for k in ("before", "after") if event.detail.get(k)]
    return Shown(frozenset(identifiers), masks(values), revealed)


def hides_something(view: Shown, events: list[AuditEvent]) -> bool:
    """Whether ``view`` masks anything in ``events`` (unrevealed)."""
    for event in events:
        if view.masked(event.detail.get("field")):
            return True
        texts = [str(event.detail.get(k) or "") for k in ("before", "after")]
        if any(view.text(t) != t for t in texts):
            return True
    return False


def line_items(value: str | None) -> tuple[list[str], list[dict]] | None:
    """A value holding line items (a JSON list of objects) as (columns, rows); None for
    any other value. Columns in the order they first appear."""
    if not value or not value.lstrip().startswith("["):
        return None
    try:
        rows = json.loads(value)
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return (columns, rows) if columns else None
