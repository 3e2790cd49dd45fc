"""Pictures of what was found: each page with its fields' boxes drawn, labelled and coloured
by confidence (green: confident, amber: below its threshold, red: not read)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from extractors.source import Source
from rekey.models import Field

GREEN, AMBER = (40, 160, 40), (0, 150, 230)  # BGR


def colour(field: Field) -> tuple[int, int, int]:
    return GREEN if field.confident else AMBER


def draw_page(gray: np.ndarray, fields: list[Field]) -> np.ndarray:
    image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    h, w = gray.shape
    thickness = max(2, w // 600)
    for field in fields:
        if field.box is None:
            continue
        x0, y0 = int(field.box.x0 * w), int(field.box.y0 * h)
        x1, y1 = int(field.box.x1 * w), int(field.box.y1 * h)
        cv2.rectangle(image, (x0 - 3, y0 - 3), (x1 + 3, y1 + 3), colour(field), thickness)
        label = f"{field.name} {field.confidence:.0%}"
        scale = max(0.4, w / 2500)
        cv2.putText(
            image,
            label,
            (x0, max(12, y0 - 6)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            colour(field),
            max(1, thickness // 2),
            cv2.LINE_AA,
        )
    return image


def explain_pages(source: Source, fields: dict[str, Field], out: Path) -> list[Path]:
    """Write ``page-N.png`` for every page into ``out``; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number in source.numbers:
        on_page = [f for f in fields.values() if f.page == number]
        path = out / f"page-{number}.png"
        cv2.imwrite(str(path), draw_page(source.image(number), on_page))
        written.append(path)
    return written
