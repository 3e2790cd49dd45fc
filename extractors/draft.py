"""A template drafted from a fillable blank: one field per form field, read from the form
field when the document is fillable and from its zone (the widget's rectangle) when it is
flattened or scanned; the blank becomes the template's reference, so scans are registered
to it before their zones are read.

Text fields become ``region`` zones, a lone checkbox a tick box, and checkboxes or radio
buttons sharing a name (``c1_1[0]``, ``c1_1[1]``…) one one-of choice whose options are the
buttons' export values. A person then names the fields, gives them types, and writes the
keywords that tell the form from others (:func:`draft_template` suggests the blank's title).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from rekey.errors import BadDocument

INDEX = re.compile(r"\[\d+\]$")
TITLE_SHARE = 0.2  # the title is printed in the top fifth of the first page
OFF_STATES = {"/Off", "/N", "/D"}
PUSH_BUTTON = 1 << 16  # a button's field flag: it acts, it holds no value


@dataclass(frozen=True)
class Widget:
    name: str  # the full name's last part, as the AcroForm values are read by
    kind: str  # "text" or "button"
    page: int
    box: tuple[float, float, float, float]  # page-relative, origin top left
    states: tuple[str, ...]  # a button's on-states (export values)
    max_length: int | None = None  # a text field's limit: a reading longer is no reading


def _inherited(widget: Any, key: str) -> Any:
    node = widget
    while node is not None:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    return None


def widgets(blank: Path) -> list[Widget]:
    """The blank's form-field widgets, page by page, top to bottom."""
    try:
        reader = PdfReader(blank)
    except (OSError, PdfReadError) as exc:
        raise BadDocument(f"{blank}: cannot read it as a PDF ({exc})") from exc
    found = []
    for number, page in enumerate(reader.pages, start=1):
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        left, bottom = float(box.left), float(box.bottom)
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/Subtype") != "/Widget" or _inherited(widget, "/T") is None:
                continue
            kind = {"/Tx": "text", "/Btn": "button"}.get(_inherited(widget, "/FT"))
            if kind is None or int(_inherited(widget, "/Ff") or 0) & PUSH_BUTTON:
                continue  # a signature, a list, or a button that does something (Print)
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            relative = (
                round((min(x0, x1) - left) / width, 4),
                round(1 - (max(y0, y1) - bottom) / height, 4),
                round((max(x0, x1) - left) / width, 4),
                round(1 - (min(y0, y1) - bottom) / height, 4),
            )
            appearances = (widget.get("/AP") or {}).get("/N") or {}
            states = tuple(
                str(s)[1:] for s in getattr(appearances, "keys", list)() if s not in OFF_STATES
            )
            name = str(_inherited(widget, "/T"))  # a radio button's is its group's
            limit = _inherited(widget, "/MaxLen")
            limit = int(limit) if limit is not None else None
            found.append(Widget(name, kind, number, relative, states, limit))
    return sorted(found, key=lambda w: (w.page, w.box[1], w.box[0]))


def field_name(name: str) -> str:
    """``f1_1[0]`` → ``f1_1``: a YAML key a person renames."""
    return INDEX.sub("", name).replace(".", "_")


def text_field(widget: Widget) -> dict[str, Any]:
    limited = {"pattern": f"^.{{1,{widget.max_length}}}$"} if widget.max_length else {}
    return limited | {
        "locators": [
            {"kind": "acroform", "names": [widget.name]},
            {"kind": "region", "page": widget.page, "boxes": [list(widget.box)]},
        ]
    }


def choice_field(buttons: list[Widget]) -> dict[str, Any]:
    """Buttons sharing a name: a one-of choice (or, alone, a tick box)."""
    options = [b.states[0] if b.states else str(i + 1) for i, b in enumerate(buttons)]
    names = list(dict.fromkeys(b.name for b in buttons))  # radio buttons: one name for all
    if len(buttons) == 1:
        return {
            "type": "checkbox",
            "locators": [
                {"kind": "acroform", "names": [buttons[0].name], "choices": {options[0]: "true"}},
                {"kind": "region_choice", "page": buttons[0].page,
                 "boxes": {"true": list(buttons[0].box)}, "unticked": "false"},
            ],
        }  # fmt: skip
    return {
        "locators": [
            {"kind": "acroform", "names": names, "choices": {o: o for o in options}},
            {
                "kind": "region_choice",
                "page": buttons[0].page,
                "boxes": {o: list(b.box) for o, b in zip(options, buttons, strict=True)},
            },
        ]
    }


def title_of(blank: Path) -> list[str]:
    """The first page's title, as keyword suggestions: of the lines of two words or more in
    its top fifth, the two in the largest type, in reading order."""
    with pdfplumber.open(blank) as pdf:
        page = pdf.pages[0]
        words = [w for w in page.extract_words(extra_attrs=["size"])
                 if w["top"] < page.height * TITLE_SHARE]  # fmt: skip
    lines: dict[tuple[int, float], list[str]] = defaultdict(list)
    for w in words:  # a line: words of one size on one baseline
        lines[(round(w["bottom"] / 3), round(w["size"], 1))].append(w["text"])
    titled = sorted((key for key, line in lines.items() if len(line) >= 2), key=lambda k: -k[1])[:2]
    return [" ".join(lines[key]) for key in sorted(titled)]


def draft_template(blank: Path, doc_type: str, reference: str) -> dict[str, Any]:
    """The template for ``blank`` as a YAML-ready dict; ``reference`` is how the template
    file names the blank (relative to the folder it is written to)."""
    found = widgets(blank)
    if not found:
        raise BadDocument(f"{blank}: no form fields to draft a template from (not fillable)")
    fields: dict[str, Any] = {}
    buttons: dict[str, list[Widget]] = defaultdict(list)
    for widget in found:
        if widget.kind == "button":
            buttons[field_name(widget.name)].append(widget)
        else:
            fields[field_name(widget.name)] = text_field(widget)
    for name, group in buttons.items():
        fields[name] = choice_field(sorted(group, key=lambda b: _index(b.name)))
    ordered = sorted(fields, key=lambda n: _first(n, found))
    return {
        "doc_type": doc_type,
        "version": 1,
        "keywords": title_of(blank) or [doc_type],
        "reference": reference,
        # form-field entries: one typed line in each box, far apart; read as a column
        # of lines (6, one block, ran the W-9's boxes together: "S" read "Ss")
        "zone_psm": 4,
        "fields": {name: fields[name] for name in ordered},
    }


def _index(name: str) -> int:
    found = INDEX.search(name)
    return int(found.group(0)[1:-1]) if found else 0


def _first(name: str, found: list[Widget]) -> int:
    return next(i for i, w in enumerate(found) if field_name(w.name) == name)
