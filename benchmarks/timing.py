"""Side-by-side timing: rekey and a baseline run interleaved, medians, ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


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


def summary(times: dict[str, list[float]], unit: str = "s") -> dict[str, Any]:
    """Medians and their ratio (rekey / baseline; lower is better)."""
    rekey, baseline = statistics.median(times["rekey"]), statistics.median(times["baseline"])
    return {
        "ratio": round(rekey / baseline, 3) if baseline > 0 else None,
        f"rekey_median_{unit}": round(rekey, 4),
        f"baseline_median_{unit}": round(baseline, 4),
        "repeats": len(times["rekey"]),
    }
