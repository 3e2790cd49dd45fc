"""One way to show an identifier in a message or a log: all but its last four characters masked.

>>> mask("DE12763296552537762124")
'******************2124'
"""

from __future__ import annotations

KEEP = 4


def mask(value: str | None, keep: int = KEEP) -> str:
    """``value`` with every character but the last ``keep`` replaced by ``*``.

    Separators are dropped first, so the length shown is the identifier's own. A value of
    ``keep`` characters or fewer is masked entirely: showing it would show all of it.
    """
    if not value:
        return "(none)"
    compact = "".join(ch for ch in value if ch.isalnum())
    if len(compact) <= keep:
        return "*" * len(compact)
    return "*" * (len(compact) - keep) + compact[-keep:]
