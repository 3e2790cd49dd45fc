"""Side-by-side timing: rekey and a baseline run interleaved, medians, ratio, spread.

Every timed figure carries its spread beside it in the result file
(``<figure>_spread: {min, median, max, repeats}``): a figure function returns
:class:`Measured` and the runner writes both. For a ratio the spread is over the ratios of
the runs paired in each repeat (rekey's run *i* / the baseline's run *i*).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measured:
    """A figure's value and the spread of the repeats it is the median of."""

    value: Any
    spread: dict[str, Any]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def interleaved(
    rekey: Callable[[], Any], baseline: Callable[[], Any], repeat: int
) -> dict[str, list[float]]:
    """Seconds of each run, alternating which goes first (ABBA) to cancel drift."""
    times: dict[str, list[float]] = {"rekey": [], "baseline": []}
    for i in range(max(1, repeat)):
        order = [("rekey", rekey), ("baseline", baseline)]
        for name, fn in order if i % 2 == 0 else reversed(order):
            times[name].append(timed(fn)[0])
    return times


def spread(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """Min, median and max of the repeats, and how many there were."""
    if not values:
        return {"min": None, "median": None, "max": None, "repeats": 0}
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "repeats": len(values),
    }


def paired_ratios(times: dict[str, list[float]]) -> list[float]:
    """rekey / baseline for each pair of runs (same repeat, same inputs)."""
    return [r / b for r, b in zip(times["rekey"], times["baseline"], strict=False) if b > 0]


def summary(times: dict[str, list[float]], unit: str = "s") -> dict[str, Any]:
    """Medians and their ratio (rekey / baseline; lower is better), with each side's spread
    and the spread of the paired ratios."""
    rekey, baseline = statistics.median(times["rekey"]), statistics.median(times["baseline"])
    return {
        "ratio": round(rekey / baseline, 3) if baseline > 0 else None,
        f"rekey_median_{unit}": round(rekey, 4),
        f"baseline_median_{unit}": round(baseline, 4),
        "repeats": len(times["rekey"]),
        "rekey_spread": spread(times["rekey"]),
        "baseline_spread": spread(times["baseline"]),
        "ratio_spread": spread(paired_ratios(times), 3),
    }


def measured_ratio(detail: dict[str, Any]) -> Measured:
    """A ratio figure from :func:`summary`'s detail, with the paired ratios' spread."""
    return Measured(detail["ratio"], detail["ratio_spread"])
