"""Image crops of wrongly read fields, so a person can see what went wrong.

Crops are few (:data:`MAX_CROPS`) and small (PNG, at most :data:`MAX_WIDTH` px wide); they are
handed out round-robin over the error groups, worst first, so every group gets its first
example cropped before any gets a second. A field without a box is "not found": no crop.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdfium2
from PIL import Image

if TYPE_CHECKING:
    from benchmarks.accuracy import ErrorGroup, Example

MAX_CROPS = 60
MAX_WIDTH = 600
PDF_DPI = 150
MARGIN_X, MARGIN_Y = 0.03, 0.012


def page_image(path: Path, page: int) -> Image.Image:
    """Page ``page`` (1-based) of a PDF (rasterised with pypdfium2) or an image/TIFF frame."""
    if path.suffix.lower() == ".pdf":
        pdf = pypdfium2.PdfDocument(str(path))
        try:
            return pdf[page - 1].render(scale=PDF_DPI / 72).to_pil().convert("RGB")
        finally:
            pdf.close()
    with Image.open(path) as image:
        image.seek(page - 1)
        return image.convert("RGB")


def crop_box(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    width, height = image.size
    x0, y0, x1, y1 = box
    area = (
        int(max(0.0, x0 - MARGIN_X) * width),
        int(max(0.0, y0 - MARGIN_Y) * height),
        int(min(1.0, x1 + MARGIN_X) * width),
        int(min(1.0, y1 + MARGIN_Y) * height),
    )
    crop = image.crop(area)
    if crop.width > MAX_WIDTH:
        crop = crop.resize((MAX_WIDTH, max(1, round(crop.height * MAX_WIDTH / crop.width))))
    return crop


def _file_name(index: int, example: Example, field: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(example.document).stem}-{field}")
    return f"{index:02d}-{stem}.png"


def write_examples(groups: list[ErrorGroup], folder: Path) -> list[dict[str, Any]]:
    """Write the crops into ``folder`` (emptied first); the error table as plain data."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    depth = max((len(g.examples) for g in groups), default=0)
    for round_ in range(depth):
        for group in groups:
            if written >= MAX_CROPS:
                break
            if round_ >= len(group.examples):
                continue
            example = group.examples[round_]
            if example.box is None or example.page is None:
                continue
            name = _file_name(written, example, group.field)
            try:
                crop_box(page_image(example.path, example.page), example.box).save(folder / name)
            except (OSError, ValueError, pypdfium2.PdfiumError):
                continue
            example.crop = name
            written += 1
    return [
        {
            "field": g.field,
            "row": g.row,
            "errors": g.errors,
            "total": g.total,
            "examples": [
                {
                    "document": e.document,
                    "truth": e.truth,
                    "extracted": e.extracted,
                    "confidence": round(e.confidence, 3),
                    "crop": e.crop if e.box is not None else "not found",
                }
                for e in g.examples
            ],
        }
        for g in groups
    ]
