"""Peak resident memory of a process tree, sampled in a background thread."""

from __future__ import annotations

import os
import threading
from types import TracebackType

import psutil

SAMPLE_INTERVAL_S = 0.05


def tree_rss(root: psutil.Process) -> int:
    """RSS of ``root`` plus all its descendants (pool workers and their tesseract runs)."""
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in processes:
        try:
            total += proc.memory_info().rss
        except psutil.Error:  # a tesseract run that ended between listing and reading
            continue
    return total


class PeakRss:
    """``with PeakRss() as peak: ...`` then ``peak.mb``: the largest sampled tree RSS."""

    def __init__(self, pid: int | None = None, interval_s: float = SAMPLE_INTERVAL_S):
        self.root = psutil.Process(pid or os.getpid())
        self.interval_s = interval_s
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss(self.root))
            self.samples += 1
            if self._stop.wait(self.interval_s):  # a sampling period, not a wait for a state
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.root))

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)
