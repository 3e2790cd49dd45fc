"""Words into lines: which words share a line, and the order a person reads them in."""

from __future__ import annotations

from collections.abc import Iterable

from rekey.models import Box, Word


def same_line(word: Word, anchor: Box) -> bool:
    """Words share a line when they overlap vertically by half the smaller height."""
    overlap = min(word.box.y1, anchor.y1) - max(word.box.y0, anchor.y0)
    smaller = min(word.box.y1 - word.box.y0, anchor.y1 - anchor.y0)
    return overlap >= 0.5 * smaller


def reading_order(words: Iterable[Word]) -> list[Word]:
    """Top line first, each line left to right. Lines are grouped by overlap, not by a
    rounded height, so two words of one line never fall either side of a rounding step."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box.cy):
        line = next((line for line in lines if same_line(word, line[0].box)), None)
        if line is None:
            lines.append([word])
        else:
            line.append(word)
    return [w for line in lines for w in sorted(line, key=lambda w: w.box.x0)]
