"""Openers by media type. Contract: ``(path, media_type) -> Source``, raising BadDocument."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from extractors.sniff import media_type
from extractors.source import Source, open_source
from rekey.errors import BadDocument

Opener = Callable[[Path, str], Source]

OPENERS: dict[str, Opener] = {
    "application/pdf": open_source,
    "image/png": open_source,
    "image/jpeg": open_source,
    "image/tiff": open_source,
}


def read_document(path: Path, kind: str | None = None) -> Source:
    kind = kind or media_type(path)
    try:
        opener = OPENERS[kind]
    except KeyError:
        raise BadDocument(f"rekey cannot read {kind} files") from None
    return opener(path, kind)
