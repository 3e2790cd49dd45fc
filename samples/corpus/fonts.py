"""Fonts for generated documents, found through fontconfig (never by a fixed path).

The forms print people's names in many scripts (Ł, ß, é, …), so the Latin forms use DejaVu
Sans, embedded in the PDF, rather than the 14 standard fonts that only know Latin-1.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS, SANS_BOLD, MONO = "DejaVu Sans", "DejaVu Sans:style=Bold", "DejaVu Sans Mono"
REGULAR, BOLD = "RekeySans", "RekeySans-Bold"  # the names the forms draw with


@cache
def font_file(pattern: str) -> Path:
    """The file fontconfig picks for ``pattern``; it must be the family asked for."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{family}", pattern],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"fontconfig cannot find {pattern!r}: {exc}") from exc
    family = pattern.split(":")[0]
    if len(found) < 2 or family not in found[1]:
        raise RuntimeError(f"font {family!r} is not installed (scripts/bootstrap installs it)")
    return Path(found[0])


@cache
def register_pdf_fonts() -> tuple[str, str]:
    """Register the forms' regular and bold faces with reportlab; returns their names."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(font_file(SANS))))
    pdfmetrics.registerFont(TTFont(BOLD, str(font_file(SANS_BOLD))))
    return REGULAR, BOLD
