"""Extraction results kept by content hash and template versions, so a re-run costs nothing.

The key changes whenever the file's content, any template's version, rekey's version or the
readers' source changes; a stale entry is simply never looked up again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel

from extractors.engine import Extraction
from extractors.templates import Template
from rekey.models import Field, Layout


def rekey_version() -> str:
    try:
        return version("rekey")
    except PackageNotFoundError:
        return "0"


@cache
def reader_code() -> str:
    """A digest of the readers' own source and their calibration: a change to how
    documents are read (a new rekey, a fix deployed in place, curves fitted again) must not
    be answered from what the old code read."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *here.glob("*.yaml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(sha256: str, templates: Iterable[Template], code: str | None = None) -> str:
    versions = sorted(f"{t.name}:{t.version}" for t in templates)
    reader = [rekey_version(), code if code is not None else reader_code()]
    digest = hashlib.sha256(json.dumps([sha256, versions, *reader]).encode())
    return digest.hexdigest()[:32]


class Cached(BaseModel):
    template: str | None
    page_count: int
    media_type: str
    layout: Layout
    fields: dict[str, Field]


def load(
    folder: Path, key: str, templates: dict[str, Template]
) -> tuple[Cached, Extraction] | None:
    path = folder / f"{key}.json"
    if not path.is_file():
        return None
    try:
        cached = Cached.model_validate_json(path.read_text())
    except ValueError:
        return None  # a damaged entry is ignored and rewritten
    template = templates.get(cached.template) if cached.template else None
    return cached, Extraction(template, cached.layout, cached.fields)


def save(folder: Path, key: str, media_type: str, page_count: int, result: Extraction) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cached = Cached(
        template=result.template.name if result.template else None,
        page_count=page_count,
        media_type=media_type,
        layout=result.layout,
        fields=result.fields,
    )
    partial = folder / f"{key}.json.part"
    partial.write_text(cached.model_dump_json())
    partial.replace(folder / f"{key}.json")
