"""rekey's own insurance claim form, drawn with reportlab.

Page 1 holds the policy, claimant, loss and payout sections, two checkboxes and the
signature; page 2 holds the expense table. Labels sit in a fixed column on the left and
values to their right, the way a printed form with typed-in values looks.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from samples.corpus.fonts import BOLD, REGULAR, register_pdf_fonts

TITLE = "Insurance Claim Form"
FORM_ID = "Form RK-CLM-1"
LABEL_X = 50
VALUE_X = 190
DESCRIPTION_X = 200  # wide enough for a date written out ("25 September 2026")
LINE = 22

# (section title, [(label, field name), ...]) in the order they are printed on page 1.
PAGE1_SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "1. Policy and claimant",
        [
            ("Policy number:", "policy_number"),
            ("Claimant name:", "claimant_name"),
            ("ID type:", "id_type"),
            ("ID number:", "id_number"),
            ("Date of birth:", "date_of_birth"),
            ("Phone:", "phone"),
            ("Email:", "email"),
        ],
    ),
    (
        "2. The loss",
        [
            ("Date of loss:", "date_of_loss"),
            ("Place of loss:", "place_of_loss"),
            ("Description:", "loss_description"),
            ("Amount claimed:", "amount_claimed"),
            ("Currency:", "currency"),
        ],
    ),
    ("3. Payout", [("Bank account:", "bank_account")]),
]
CHECKBOXES = [("Injury", "injury"), ("Police report filed", "police_report")]


def _checkbox(canvas: Canvas, x: float, y: float, ticked: bool) -> None:
    canvas.rect(x, y - 2, 10, 10)
    if ticked:
        canvas.setLineWidth(1.6)
        canvas.line(x + 2, y + 3, x + 4.5, y)
        canvas.line(x + 4.5, y, x + 9, y + 7)
        canvas.setLineWidth(1)


def _signature(canvas: Canvas, x: float, y: float, seed: str) -> None:
    rng = random.Random(seed)
    canvas.setLineWidth(1.3)
    path = canvas.beginPath()
    path.moveTo(x, y)
    for i in range(6):
        x0 = x + i * 22
        path.curveTo(
            x0 + 6,
            y + rng.uniform(4, 14),
            x0 + 14,
            y - rng.uniform(2, 10),
            x0 + 22,
            y + rng.uniform(-3, 5),
        )
    canvas.drawPath(path)
    canvas.setLineWidth(1)


def tick_row(
    canvas: Canvas, y: float, boxes: Sequence[tuple[str, str]], ticks: Mapping[str, bool]
) -> None:
    """Tick boxes side by side, each with its caption, in the current font."""
    x = LABEL_X + 10
    for label, name in boxes:
        _checkbox(canvas, x, y, ticks.get(name, False))
        canvas.drawString(x + 16, y, label)
        x += 180


def sign_off(
    canvas: Canvas,
    y: float,
    captions: tuple[str, str],
    signer: str,
    date_signed: str,
    signed: bool,
    fonts: tuple[tuple[str, int], tuple[str, int]] = ((BOLD, 10), (REGULAR, 11)),
) -> None:
    """The signature line (a scribble on it when signed) and the date signed below it."""
    (caption_font, caption_size), (value_font, value_size) = fonts
    canvas.setFont(caption_font, caption_size)
    canvas.drawString(LABEL_X + 10, y, captions[0])
    if signed:
        _signature(canvas, VALUE_X, y + 2, signer)
    canvas.line(VALUE_X, y - 4, VALUE_X + 150, y - 4)
    y -= LINE * 1.5
    canvas.drawString(LABEL_X + 10, y, captions[1])
    canvas.setFont(value_font, value_size)
    canvas.drawString(VALUE_X, y, date_signed)


def _header(
    canvas: Canvas, page: int, pages: int, title: str = TITLE, form_id: str = FORM_ID
) -> float:
    width, height = A4
    canvas.setFont(BOLD, 16)
    canvas.drawString(LABEL_X, height - 60, title)
    canvas.setFont(REGULAR, 9)
    canvas.drawRightString(width - 50, height - 60, f"{form_id}   Page {page} of {pages}")
    canvas.line(LABEL_X, height - 70, width - 50, height - 70)
    return height - 100


def _wrap(text: str, limit: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def _page1(canvas: Canvas, values: Mapping[str, str], ticks: Mapping[str, bool]) -> None:
    y = _header(canvas, 1, 2)
    for title, rows in PAGE1_SECTIONS:
        canvas.setFont(BOLD, 11)
        canvas.drawString(LABEL_X, y, title)
        y -= LINE
        for label, name in rows:
            canvas.setFont(BOLD, 10)
            canvas.drawString(LABEL_X + 10, y, label)
            canvas.setFont(REGULAR, 11)
            for i, part in enumerate(_wrap(values.get(name, ""), 60) or [""]):
                canvas.drawString(VALUE_X, y - i * 14, part)
                if i:
                    y -= 14
            y -= LINE
        y -= 8
    canvas.setFont(BOLD, 11)
    canvas.drawString(LABEL_X, y, "4. Declarations")
    y -= LINE
    canvas.setFont(REGULAR, 10)
    tick_row(canvas, y, CHECKBOXES, ticks)
    sign_off(
        canvas,
        y - LINE * 2,
        ("Signature:", "Date signed:"),
        values.get("claimant_name", ""),
        values.get("date_signed", ""),
        ticks.get("signed", True),
    )


def _page2(canvas: Canvas, expenses: Sequence[Sequence[str]], total: str) -> None:
    y = _header(canvas, 2, 2)
    canvas.setFont(BOLD, 11)
    canvas.drawString(LABEL_X, y, "5. Expenses")
    y -= LINE
    columns = [(LABEL_X + 10, "Date"), (DESCRIPTION_X, "Description"), (470, "Amount")]
    canvas.setFont(BOLD, 10)
    for x, head in columns:
        canvas.drawString(x, y, head)
    canvas.line(LABEL_X, y - 6, 545, y - 6)
    canvas.setFont(REGULAR, 10)
    for row in expenses:
        y -= LINE
        for (x, _), cell in zip(columns, row, strict=True):
            canvas.drawString(x, y, cell)
    canvas.line(LABEL_X, y - 8, 545, y - 8)
    y -= LINE
    canvas.setFont(BOLD, 10)
    canvas.drawString(DESCRIPTION_X, y, "Total expenses:")
    canvas.drawString(470, y, total)


def render_claim_pdf(
    path: Path,
    values: Mapping[str, str],
    ticks: Mapping[str, bool],
    expenses: Sequence[Sequence[str]],
    expenses_total: str,
) -> Path:
    """Write the two-page claim form with ``values`` as printed (display strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    register_pdf_fonts()
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle(f"{TITLE} {values.get('policy_number', '')}")
    canvas.setAuthor("rekey samples")
    _page1(canvas, values, ticks)
    canvas.showPage()
    _page2(canvas, expenses, expenses_total)
    canvas.showPage()
    canvas.save()
    return path
