"""CSV and XLSX batches of account-opening rows; the truth lists every row's values.

Rows with a planted error carry it as ``_planted_error`` in their truth row.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from samples.corpus.account_form import account_values

COLUMNS = [
    "full_name", "date_of_birth", "nationality", "id_type", "id_number", "address_line1",
    "address_line2", "phone", "email", "occupation", "employer", "income_band",
    "source_of_funds", "tax_residency", "pep", "date_signed",
]  # fmt: skip


def batch_rows(
    seed: int, today: date, rows: int, error_share: float
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(printed rows, truth rows) for one batch."""
    rng = random.Random(f"batch-{seed}")
    printed, truth = [], []
    for i in range(rows):
        error = "under_18" if rng.random() < error_share else None
        values = account_values(seed * 1000 + i, today, error=error)
        row_truth = {c: values.truth[c] for c in COLUMNS}
        if error:
            row_truth["_planted_error"] = error
        shown = {c: values.display.get(c, "") for c in COLUMNS}
        shown["pep"] = "Y" if values.truth["pep"] else "N"
        printed.append(shown)
        truth.append(row_truth)
    return printed, truth


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Applications"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    book.properties.creator = "rekey samples"
    book.properties.created = datetime(2026, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
