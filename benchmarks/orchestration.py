"""What Prefect costs: a batch through ``flows.process.process_folder`` vs the same stages
(``pipeline.intake → understand → key``) called directly, each run on a fresh data folder and
a fresh back office so both do the same work (every auto-routed claim is created anew).

Prefect runs under ``prefect_test_harness`` (a throwaway local API; an API already running on
loopback, e.g. the test suite's harness, is used instead), warmed up by one empty batch
before the timing; ``quiet_flows`` turns the heartbeat off as rekey itself does.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import timing
from benchmarks.figures import Context, Missing, figure
from benchmarks.keying import backoffice, require_chromium
from connectors.inbox import list_documents
from rekey import pipeline
from rekey.settings import Settings

MAX_REPEATS = 2  # each repeat keys the whole batch twice (~1 min); stable enough


def local_api() -> str | None:
    """The loopback Prefect API already in use (a test harness around the caller), if any."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or ""
    host = urlsplit(url).hostname or ""
    return url if host in ("127.0.0.1", "localhost", "::1") else None


def direct(folder: Path, settings: Settings) -> list[str]:
    """The stages without Prefect, in the order the flow runs them; the end states."""
    states = []
    for path in list_documents(folder, settings.ignore_patterns):
        case, new = pipeline.intake(path, settings)
        if new and case.decision is None:
            case = pipeline.understand(case, settings)
        if case.decision is not None and case.decision.route == "auto":
            case = pipeline.key(case, settings)
        states.append(case.state.value)
    return states


def batch(ctx: Context) -> Path:
    docs = ctx.pick(
        lambda d: d.truth.doc_type == "claim" and d.truth.rendition == "digital", ctx.flow_docs
    ) or ctx.pick(lambda d: d.truth.doc_type == "claim", ctx.flow_docs)
    if not docs:
        raise Missing("no claim form in the corpus")
    folder = ctx.work / "flow-inbox"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for doc in docs:
        shutil.copy2(doc.path, folder / doc.path.name)
    return folder


@figure("speed.orchestration_overhead")
def orchestration_overhead(ctx: Context) -> float:
    require_chromium(ctx.settings)
    folder = batch(ctx)
    from prefect.testing.utilities import prefect_test_harness

    from flows.process import process_folder
    from rekey.prefect_env import quiet_flows

    times: dict[str, list[float]] = {"rekey": [], "baseline": []}
    states: dict[str, Any] = {}
    empty = ctx.work / "flow-empty"
    empty.mkdir(parents=True, exist_ok=True)
    api = local_api()
    harness = nullcontext() if api else prefect_test_harness()
    with harness, quiet_flows():
        with backoffice(ctx, "flow-warmup") as settings:
            process_folder(empty, settings)
        for i in range(max(1, min(ctx.repeat, MAX_REPEATS))):
            runs = [
                ("rekey", lambda s: [o.state for o in process_folder(folder, s)]),
                ("baseline", lambda s: direct(folder, s)),
            ]
            for name, run in runs if i % 2 == 0 else reversed(runs):
                with backoffice(ctx, f"flow-{name}-{i}") as settings:
                    seconds, states[name] = timing.timed(lambda run=run, s=settings: run(s))
                times[name].append(seconds)
    detail = timing.summary(times) | {
        "documents": len(list(folder.iterdir())),
        "flow_states": sorted(states.get("rekey", [])),
        "direct_states": sorted(states.get("baseline", [])),
        "baseline": "pipeline.intake/understand/key called directly, no Prefect",
        "prefect_api": f"already running at {api}" if api else "prefect_test_harness",
    }
    ctx.extra.setdefault("speed_details", {})["orchestration_overhead"] = detail
    if detail["ratio"] is None:
        raise Missing("the direct run took no measurable time")
    return detail["ratio"]


class StageClock:
    """Seconds spent inside each pipeline stage, summed over every call from any thread."""

    STAGES = ("intake", "split_batch", "understand", "key")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.STAGES, 0.0)
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    def __enter__(self) -> StageClock:
        for name in self.STAGES:
            original = self._originals[name] = getattr(pipeline, name)
            setattr(pipeline, name, self._timed(name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            setattr(pipeline, name, original)

    def _timed(self, name: str, stage: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return stage(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[name] += time.perf_counter() - started

        return run

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


@figure("speed.batch_overhead")
def batch_overhead(ctx: Context) -> float:
    """The whole corpus as one batch through ``process_folder`` (``folder_workers`` =
    ``--workers``), against the time its stages spent working: wall time / the sum of the
    stages' own times (intake, split, understand, key). Under 1: the fan-out gains more than
    Prefect costs."""
    require_chromium(ctx.settings)
    folder = ctx.work / "batch-inbox"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for doc in ctx.documents:
        shutil.copy2(doc.path, folder / doc.path.name)
    from prefect.testing.utilities import prefect_test_harness

    from flows.process import process_folder
    from rekey.prefect_env import quiet_flows

    api = local_api()
    with (
        nullcontext() if api else prefect_test_harness(),
        quiet_flows(),
        backoffice(ctx, "batch") as settings,
    ):
        settings = settings.model_copy(update={"folder_workers": ctx.workers})
        empty = ctx.work / "flow-empty-batch"
        empty.mkdir(parents=True, exist_ok=True)
        process_folder(empty, settings)  # warm-up: an empty batch
        with StageClock() as clock:
            wall, outcomes = timing.timed(lambda: process_folder(folder, settings))
    states = dict(Counter(outcome.state for outcome in outcomes))
    ctx.extra.setdefault("speed_details", {})["batch_overhead"] = {
        "ratio": round(wall / clock.total, 3),
        "rekey_median_s": round(wall, 1),
        "baseline_median_s": round(clock.total, 1),
        "documents": len(ctx.documents),
        "workers": ctx.workers,
        "stage_seconds": {k: round(v, 1) for k, v in clock.seconds.items()},
        "states": states,
        "baseline": "the sum of the stages' own times in the same run",
    }
    return round(wall / clock.total, 3)
