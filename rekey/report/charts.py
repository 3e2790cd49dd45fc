"""Bar charts laid out as plain geometry; the HTML template draws them as inline SVG.

Keeping the layout here (pure functions, numbers in, rectangles out) leaves the template
with nothing to compute, and lets Jinja2's autoescaping guard every label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ROW_HEIGHT = 26
LABEL_WIDTH = 220
PLOT_WIDTH = 360
VALUE_WIDTH = 90
COLUMN_STEP = 34
PLOT_HEIGHT = 160
MARGIN = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # printed beside the bar
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    key: str  # an id for the page: ``volume``, ``stp``, ``exceptions``
    title: str
    kind: Literal["columns", "rows"]
    width: float
    height: float
    bars: list[Bar]
    empty: str  # shown instead of bars when there are none


def _scale(values: Sequence[float], fixed_max: float | None) -> float:
    top = fixed_max if fixed_max is not None else max(values, default=0)
    return top if top > 0 else 1.0


def columns(key: str, title: str, items: Sequence[tuple[str, float, str]], empty: str) -> Chart:
    """Vertical bars left to right (``label, value, text`` each), labels underneath."""
    top = _scale([v for _, v, _ in items], None)
    bars = []
    for n, (label, value, text) in enumerate(items):
        height = PLOT_HEIGHT * value / top
        x = MARGIN + n * COLUMN_STEP
        bars.append(Bar(label, value, text, x, MARGIN + PLOT_HEIGHT - height, 24, height))
    width = max(2 * MARGIN + len(items) * COLUMN_STEP, 320)
    return Chart(key, title, "columns", width, PLOT_HEIGHT + 2 * MARGIN + 40, bars, empty)


def rows(
    key: str,
    title: str,
    items: Sequence[tuple[str, float, str]],
    empty: str,
    fixed_max: float | None = None,
) -> Chart:
    """Horizontal bars top to bottom, labels on the left; ``fixed_max``: the full-width value."""
    top = _scale([v for _, v, _ in items], fixed_max)
    bars = [
        Bar(
            label,
            value,
            text,
            LABEL_WIDTH,
            MARGIN + n * ROW_HEIGHT,
            PLOT_WIDTH * min(value / top, 1.0),
            ROW_HEIGHT - 6,
        )
        for n, (label, value, text) in enumerate(items)
    ]
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    height = 2 * MARGIN + max(len(items), 1) * ROW_HEIGHT
    return Chart(key, title, "rows", width, height, bars, empty)
