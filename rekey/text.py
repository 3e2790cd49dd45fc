"""Text helpers every stage shares."""

from __future__ import annotations

import unicodedata

# letters no decomposition takes apart
BASE_LETTERS = {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "đ": "d"}


def without_marks(text: str) -> str:
    """``text`` with its diacritics dropped: ``Ødegård`` → ``Odegard``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(BASE_LETTERS.get(ch, ch) for ch in plain)


def letters(text: str) -> str:
    """``text``'s letters and digits in order, case folded, without spaces, stops or
    strokes: ``Type / Code`` → ``typecode``."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())
