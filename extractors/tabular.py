"""CSV and XLSX batches: one row, one case. Each row becomes a Layout of named cells that
``column`` locators read; the header row classifies the batch."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from extractors.sniff import CSV, XLSX
from rekey.errors import BadDocument

MAX_ROWS = 10_000


def _clean(rows: list[list[object]]) -> list[dict[str, str]]:
    if not rows:
        raise BadDocument("the batch has no header row")
    header = [str(h or "").strip() for h in rows[0]]
    if not any(header):
        raise BadDocument("the batch's first row is empty; rekey needs column names there")
    body = [r for r in rows[1:] if any(str(c or "").strip() for c in r)]
    if len(body) > MAX_ROWS:
        raise BadDocument(f"the batch has {len(body)} rows, more than rekey reads ({MAX_ROWS})")
    return [
        {
            name: str(value if value is not None else "").strip()
            for name, value in zip(header, row, strict=False)
            if name
        }
        for row in body
    ]


def read_rows(path: Path, kind: str) -> list[dict[str, str]]:
    """The batch's rows as {column name: text}; BadDocument when it cannot be read."""
    if kind == CSV:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return _clean(list(csv.reader(handle)))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise BadDocument(f"the CSV cannot be read ({exc})") from exc
    if kind == XLSX:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise BadDocument(f"the XLSX cannot be read ({exc})") from exc
        try:
            sheet = book.worksheets[0]
            return _clean([list(row) for row in sheet.iter_rows(values_only=True)])
        finally:
            book.close()
    raise BadDocument(f"{kind} is not a batch rekey reads")
