"""Extractors by media type. Contract: ``(path) -> Layout``, raising BadDocument."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from extractors.ocr import image_to_layout
from extractors.pdf import pdf_to_layout
from extractors.sniff import media_type
from rekey.errors import BadDocument
from rekey.models import Layout

Extractor = Callable[[Path], Layout]

EXTRACTORS: dict[str, Extractor] = {
    "application/pdf": pdf_to_layout,
    "image/png": image_to_layout,
    "image/jpeg": image_to_layout,
    "image/tiff": image_to_layout,
}


def read_document(path: Path, kind: str | None = None) -> Layout:
    kind = kind or media_type(path)
    try:
        extractor = EXTRACTORS[kind]
    except KeyError:
        raise BadDocument(f"rekey cannot read {kind} files") from None
    return extractor(path)
