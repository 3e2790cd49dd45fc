"""Extraction over the committed small corpus, scans included (real Tesseract), and the
hostile files that must be refused quickly with a reason a person understands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from extractors.engine import extract_source
from extractors.registry import read_document
from extractors.templates import load_templates
from rekey.errors import BadDocument
from rekey.models import Truth
from rekey.settings import PROJECT_ROOT
from samples.corpus import hostile

SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"
TEMPLATES = PROJECT_ROOT / "samples" / "templates"
# field-accuracy floors per rendition on the small set (the benchmark holds the full figures)
FLOORS = {"digital": 0.99, "clean_scan": 0.85, "office_scan": 0.85, "bad_fax": 0.5}


def normal(value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False)
    return "".join(str(value or "").split()).casefold()


def documents(*renditions: str) -> list[tuple[Path, Truth]]:
    found = []
    for path in sorted(SMALL.glob("*.truth.json")):
        truth = Truth.model_validate_json(path.read_text())
        if truth.rendition in renditions and truth.kind in ("claim", "account_opening"):
            found.append(
                (path.with_name(path.name.replace(".truth.json", f".{truth.container}")), truth)
            )
    return found


@pytest.mark.parametrize("rendition", list(FLOORS))
def test_small_set_accuracy_floor(rendition: str) -> None:
    docs = documents(rendition)
    assert docs, rendition
    right = total = 0
    for path, truth in docs:
        result = extract_source(read_document(path), load_templates(TEMPLATES).values())
        assert result.template is not None and result.template.doc_type == truth.doc_type
        for name, value in truth.fields.items():
            field = result.fields.get(name)
            ok = field is not None and normal(field.value) == normal(value)
            right, total = right + ok, total + 1
    assert right / total >= FLOORS[rendition], (rendition, right, total)


def test_digital_forms_of_every_kind_read_exactly() -> None:
    for path in sorted(SMALL.glob("*-digital.truth.json")):
        truth = Truth.model_validate_json(path.read_text())
        if truth.kind in ("passport", "cms1500"):
            continue
        doc = path.with_name(path.name.replace(".truth.json", f".{truth.container}"))
        result = extract_source(read_document(doc), load_templates(TEMPLATES).values())
        assert result.template is not None and result.template.doc_type == truth.doc_type
        for name, value in truth.fields.items():
            assert normal(result.fields[name].value) == normal(value), (doc.name, name)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("locked.pdf", hostile.encrypted_pdf, "encrypted"),
        ("cut.pdf", hostile.truncated_pdf, "damaged or truncated"),
        ("bomb.png", hostile.bomb_png, "decompression bomb"),
    ],
)
def test_hostile_files_are_refused_quickly(tmp_path: Path, name: str, make, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    started = time.monotonic()
    with pytest.raises(BadDocument, match=message):
        read_document(path)
    assert time.monotonic() - started < 10
