"""Tables: rows of cells under a header line, read column by column.

Columns run from each header caption's left edge to the next one's; rows are the lines of
words between the header and the end caption (or the end of the page).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from extractors.lines import same_line
from extractors.locators import (
    Doc,
    Hit,
    find_label,
    form_value,
    joined,
    locate_region,
    pages_of,
    union,
)
from extractors.normalise import NormaliseError, join_words, normalise, strip_noise
from extractors.templates import (
    FormColumn,
    FormRowsLocator,
    RegionColumn,
    RegionLocator,
    RegionRowsLocator,
    TableLocator,
)
from rekey.models import Page, Word

SLACK = 0.01  # how far left of its caption a cell may start


def lines_of(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines, top to bottom, each line left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box.cy):
        if lines:
            last = lines[-1]
            height = max(w.box.y1 - w.box.y0 for w in last)
            if abs(word.box.cy - sum(w.box.cy for w in last) / len(last)) < height * 0.5:
                last.append(word)
                continue
        lines.append([word])
    return [sorted(line, key=lambda w: w.box.x0) for line in lines]


def _header(page: Page, captions: list[str]) -> list[float] | None:
    found = [find_label(page, caption) for caption in captions]
    if any(f is None for f in found):
        return None
    boxes = [union(words) for words, _ in found]
    first = boxes[0]
    if any(abs(b.cy - first.cy) > (first.y1 - first.y0) for b in boxes):
        return None
    return [b.x0 for b in boxes] + [first.y1]


def _cells(line: list[Word], starts: list[float]) -> list[list[Word]]:
    cells: list[list[Word]] = [[] for _ in starts]
    for word in line:
        index = max((i for i, x in enumerate(starts) if word.box.x0 >= x - SLACK), default=0)
        cells[index].append(word)
    return cells


def locate_table(doc: Doc, loc: TableLocator) -> Hit | None:
    for page in pages_of(doc.layout, loc.page):
        header = _header(page, loc.header)
        if header is None:
            continue
        *starts, top = header
        bottom = 1.0
        if loc.end:
            end = find_label(page, loc.end)
            if end is not None:
                bottom = union(end[0]).y0
        body = [w for w in page.words if top < w.box.cy < bottom - 0.002]
        rows, words, unreadable = [], [], 0
        summed: list[Word] = []  # the words of the column the total adds up
        types = loc.types or ["text"] * len(loc.columns)
        for line in lines_of(body):
            if not any(ch.isalnum() for w in line for ch in w.text):
                continue  # specks read as a line of dots and dashes
            cells = _cells(line, starts)
            if loc.total:
                summed.extend(cells[loc.columns.index(loc.total)])
            row = {}
            for key, kind, cell in zip(loc.columns, types, cells, strict=True):
                text = strip_noise(join_words(w.text for w in cell))
                try:
                    row[key] = normalise(kind, text) if text else ""
                except NormaliseError:
                    row[key], unreadable = text, unreadable + 1
            rows.append(row)
            words.extend(line)
        if not rows:
            continue
        how = f"table under {' | '.join(loc.header)} ({len(rows)} rows)"
        box = union(words)
        if loc.total and end is not None and adds_up(rows, loc.total, printed_total(page, end[0])):
            # the total vouches for the column: its cells' OCR doubts are settled
            vouched = {id(w) for w in summed}
            words = [w for w in words if id(w) not in vouched]
            how = f"{how}; its {loc.total} column adds up to the printed total"
        return Hit(
            text=json.dumps(rows, ensure_ascii=False),
            match=0.3 if unreadable else 1.0,
            how=how,
            page=page.number,
            box=box,
            words=tuple(words),
        )
    return None


def printed_total(page: Page, caption: list[Word]) -> str | None:
    """The amount printed on the end caption's line, right of it (None: none readable)."""
    anchor = union(caption)
    after = sorted(
        (w for w in page.words if same_line(w, anchor) and w.box.x0 > anchor.x1),
        key=lambda w: w.box.x0,
    )
    text = strip_noise(join_words(w.text for w in after))
    try:
        return normalise("money", text) if text else None
    except NormaliseError:
        return None


def adds_up(rows: list[dict], column: str, total: str | None) -> bool:
    """The column's cells, every one an amount, add up to ``total``."""
    if total is None:
        return False
    try:
        return sum(Decimal(row[column]) for row in rows) == Decimal(total)
    except (InvalidOperation, KeyError):
        return False


def read_cell(column: FormColumn | RegionColumn, text: str) -> tuple[str, bool]:
    """A cell's text normalised to its column's type, and whether that worked."""
    try:
        return (normalise(column.type, text, decimal=column.decimal) if text else ""), True
    except NormaliseError:
        return text, False


def rows_hit(rows: list[dict], unreadable: int, how: str, **where: Any) -> Hit | None:
    if not rows:
        return None
    return Hit(
        text=json.dumps(rows, ensure_ascii=False),
        match=0.3 if unreadable else 1.0,
        how=how,
        **where,
    )


def locate_form_rows(doc: Doc, loc: FormRowsLocator) -> Hit | None:
    """Line items from numbered form fields, each column normalised to its type."""
    rows, unreadable = [], 0
    for n in range(1, loc.rows + 1):
        values = {
            key: [form_value(doc.layout.acroform, name.format(n=n)) for name in column.names]
            for key, column in loc.columns.items()
        }
        if not any(v for parts in values.values() for v in parts):
            continue
        row = {}
        for key, column in loc.columns.items():
            text = joined(values[key], column.format) if any(values[key]) else ""
            row[key], ok = read_cell(column, text)
            unreadable += not ok
        rows.append(row)
    return rows_hit(rows, unreadable, f"form rows ({len(rows)} of {loc.rows})")


def locate_region_rows(doc: Doc, loc: RegionRowsLocator) -> Hit | None:
    """Line items from a printed grid of boxes, row by row, each cell read as a region."""
    rows, words, unreadable = [], [], 0
    for n in range(loc.rows):
        cells = {
            key: locate_region(doc, region_of(loc, column, n))
            for key, column in loc.columns.items()
        }
        if sum(hit is not None for hit in cells.values()) * 2 < len(cells):
            break  # an empty line, or a speck read in one of its boxes
        row = {}
        for key, hit in cells.items():
            row[key], ok = read_cell(loc.columns[key], hit.text if hit else "")
            unreadable += not ok or hit is None or hit.match < 1.0
            words += hit.words if hit else ()
        rows.append(row)
    return rows_hit(
        rows,
        unreadable,
        f"grid rows ({len(rows)} of {loc.rows}) on page {loc.page}",
        page=loc.page,
        box=union(words) if words else None,
        words=tuple(words),
    )


def region_of(loc: RegionRowsLocator, column: RegionColumn, row: int) -> RegionLocator:
    return RegionLocator(
        boxes=loc.row_boxes(column, row),
        page=loc.page,
        format=column.format,
        pad=column.pad,
        chars=column.chars,
        pattern=column.pattern,
    )
