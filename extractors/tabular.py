"""CSV and XLSX batches: one row, one case. Each row becomes a Layout of named cells that
``column`` locators read; the header row classifies the batch.

Both are read as streams and refused as soon as they pass a limit, never read whole first:
rows are counted as they are read (``MAX_ROWS``), a CSV line may not pass ``MAX_LINE``
characters, and an XLSX is opened in openpyxl's read-only (streaming) mode, its first
``MAX_COLUMNS`` columns read, after its archive is checked: parts no larger than
``MAX_PART_BYTES`` unpacked, and no XML part declaring a DTD (Office never writes one; a DTD
is how entity bombs and external entities get in; expat's own amplification limit is a
second guard behind this one).

A text cell that a spreadsheet would run as a formula (``=``, ``@``, ``+``, ``-``, a tab or a
carriage return first) is neutralised with a leading apostrophe, as OWASP advises against
CSV injection, so that it is keyed, and later exported, as text.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from extractors.sniff import CSV, XLSX
from rekey.errors import BadDocument

MAX_ROWS = 10_000
MAX_LINE = 1 << 20  # characters in one CSV line
MAX_COLUMNS = 500  # columns read from a sheet (a sheet may claim 16,384)
# one XLSX part, unpacked: ~50 times a 10,000-row sheet. openpyxl parses a sheet that does
# not state its dimensions whole before its first row; this bounds that to seconds
MAX_PART_BYTES = 64 << 20
PROLOG_BYTES = 64 << 10  # where an XML part's DTD would be, before its first element
FORMULA_LEAD = ("=", "@", "+", "-", "\t", "\r")
# a signed amount, or a phone number with its extension ("+1-848-649-7314x3237")
PLAIN_NUMBER = re.compile(r"[+-][\d\s().,/-]*(?:\s*(?:x|ext\.?)\s*\d+)?", re.IGNORECASE)


def neutralise(text: str) -> str:
    """``text`` that no spreadsheet will run as a formula: a leading apostrophe when it
    starts like one (a signed number or a phone number such as ``+44 20 7946 0000`` is
    left as it is)."""
    if text.startswith(FORMULA_LEAD) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _cell(value: object) -> str:
    return neutralise(str(value if value is not None else "").strip())


def rows_to_records(rows: Iterable[Iterable[object]]) -> list[dict[str, str]]:
    """{column name: text} for each non-empty row after the header; BadDocument as soon as
    there are more than ``MAX_ROWS`` of them."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        raise BadDocument("the batch has no header row")
    header = [str(h or "").strip() for h in first]
    if not any(header):
        raise BadDocument("the batch's first row is empty; rekey needs column names there")
    records = []
    for row in rows:
        row = list(row)
        if not any(str(c if c is not None else "").strip() for c in row):
            continue
        if len(records) == MAX_ROWS:
            raise BadDocument(
                f"the batch has more than {MAX_ROWS} rows, more than rekey reads at once; "
                "split it into smaller files"
            )
        records.append(
            {name: _cell(value) for name, value in zip(header, row, strict=False) if name}
        )
    return records


def bounded_lines(handle: TextIO, limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of ``handle``, refusing one longer than ``limit`` characters unread."""
    while line := handle.readline(limit):
        if len(line) >= limit and not line.endswith("\n"):
            raise BadDocument(f"the CSV has a line longer than {limit} characters")
        yield line


def csv_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return rows_to_records(csv.reader(bounded_lines(handle)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadDocument(f"the CSV cannot be read ({exc})") from exc


def check_archive(path: Path) -> None:
    """Refuse an XLSX whose parts unpack too large or whose XML declares a DTD."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_PART_BYTES:
                    raise BadDocument(
                        f"the XLSX part {info.filename} unpacks to {info.file_size} bytes, "
                        f"more than rekey reads ({MAX_PART_BYTES}); it may be a zip bomb"
                    )
                if info.filename.endswith((".xml", ".rels")):
                    with archive.open(info) as part:
                        check_prolog(info.filename, part.read(PROLOG_BYTES))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise BadDocument(f"the XLSX cannot be read ({exc})") from exc


def check_prolog(name: str, head: bytes) -> None:
    """An XML part's head holds no DTD, and its first element is in it."""
    if b"<!doctype" in head.lower() or b"<!entity" in head.lower():
        raise BadDocument(
            f"the XLSX part {name} declares a DTD (entities), which Office never writes; "
            "refused unread as a possible XML bomb or external entity; save it again from "
            "Excel or LibreOffice"
        )
    if len(head) == PROLOG_BYTES and not re.search(rb"<[A-Za-z_]", head):
        raise BadDocument(f"the XLSX part {name} has no element in its first {PROLOG_BYTES} bytes")


def xlsx_rows(path: Path) -> list[dict[str, str]]:
    check_archive(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ParseError) as exc:
        raise BadDocument(f"the XLSX cannot be read ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        return rows_to_records(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    except ParseError as exc:
        raise BadDocument(f"the XLSX's sheet is not well-formed XML ({exc})") from exc
    finally:
        book.close()


def read_rows(path: Path, kind: str) -> list[dict[str, str]]:
    """The batch's rows as {column name: text}; BadDocument when it cannot be read."""
    if kind == CSV:
        return csv_rows(path)
    if kind == XLSX:
        return xlsx_rows(path)
    raise BadDocument(f"{kind} is not a batch rekey reads")
