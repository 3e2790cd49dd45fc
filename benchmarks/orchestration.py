"""What Prefect costs, and what a batch through the real flow achieves end to end.

- ``speed.orchestration_overhead``: a batch of claims through ``flows.process.process_folder``
  vs the same stages called directly (:func:`direct`), both with ``--workers`` documents at a
  time, keying in the same number of signed-in sessions kept across the batch; each run on a
  fresh data folder and a fresh back office, so both do the same work.
- ``speed.batch_overhead``: the same comparison on the whole accuracy corpus (one run each).
- From that flow run: ``stp.*`` (documents keyed and done with no person touching them, per
  kind/rendition), ``wrong_keyed`` (fields in the back office that differ from the truth)
  and ``speed.keying_in_batch`` (seconds per case keyed inside the batch, against the
  keying benchmark's seconds per case).
- The documents whose type ClaimBase's screen maps do not route but Ledgerline's do (W-9,
  CMS-1500, passport) are scored from a second run of ``process_folder``, after the timed
  ones and timed in no ratio, into a Ledgerline of their own (:func:`second_deployment`), as
  a second deployment of rekey would key them; their STP rows and keyed values are merged
  with ClaimBase's, each row naming the back office it was keyed into.

Prefect runs under ``prefect_test_harness`` (a throwaway local API; an API already running on
loopback, e.g. the test suite's harness, is used instead), warmed up by one empty batch
before the timing; ``quiet_flows`` turns the heartbeat off as rekey itself does.
"""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import endtoend, spa_keying, timing
from benchmarks.figures import Context, CorpusDoc, Missing, figure
from benchmarks.keying import backoffice, require_chromium
from connectors.backoffice.lanes import keeping_sessions
from connectors.inbox import list_documents
from extractors.templates import load_templates
from rekey import pipeline
from rekey.models import Case, CaseState
from rekey.settings import Settings

MAX_REPEATS = 2  # each repeat keys the whole batch twice (~1 min); stable enough


def local_api() -> str | None:
    """The loopback Prefect API already in use (a test harness around the caller), if any."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or ""
    host = urlsplit(url).hostname or ""
    return url if host in ("127.0.0.1", "localhost", "::1") else None


def direct_read(path: Path, settings: Settings) -> list[Case | str]:
    """One file taken in and read without Prefect, as ``flows.process.read_file`` does (a
    CSV/XLSX batch: each row its own case): each case to finish, or the state it ended in."""
    case, new = pipeline.intake(path, settings)
    if not new:
        return [case.state.value]
    rows = pipeline.split_batch(case, settings) if pipeline.is_batch(case) else [case]
    read = [
        pipeline.understand(c, settings) if pipeline.needs_understanding(c) else c for c in rows
    ]
    return [*read, CaseState.done.value] if pipeline.is_batch(case) else read


def direct_finish(item: Case | str, settings: Settings) -> str:
    """A read case keyed when it is routed auto; its end state."""
    if isinstance(item, str):
        return item
    if item.decision is not None and item.decision.route == "auto":
        item = pipeline.key(item, settings)
    return item.state.value


def direct(folder: Path, settings: Settings) -> list[str]:
    """The folder's files through the stages without Prefect, as the flow runs them: read
    ``folder_workers`` at a time, then keyed in ``keying_sessions`` kept sessions; the end
    states."""
    paths = list_documents(folder, settings.ignore_patterns)
    with ThreadPoolExecutor(max(1, settings.folder_workers)) as pool:
        read = [
            item for items in pool.map(lambda p: direct_read(p, settings), paths) for item in items
        ]
    with keeping_sessions(settings, settings.keying_sessions):
        return [direct_finish(item, settings) for item in read]


def flow_states(folder: Path, settings: Settings) -> list[str]:
    from flows.process import process_folder

    return [o.state for o in process_folder(folder, settings)]


@contextmanager
def prefect_api() -> Iterator[str]:
    """Prefect for the flow runs: the loopback API in use, or a throwaway harness."""
    from prefect.testing.utilities import prefect_test_harness

    from rekey.prefect_env import quiet_flows

    api = local_api()
    with nullcontext() if api else prefect_test_harness(server_startup_timeout=180), quiet_flows():
        yield f"already running at {api}" if api else "prefect_test_harness"


def copy_batch(docs: list[CorpusDoc], folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for doc in docs:
        shutil.copy2(doc.path, folder / doc.path.name)
    return folder


def warm_up(ctx: Context) -> None:
    """One empty batch, so neither side pays Prefect's first start."""
    from flows.process import process_folder

    empty = ctx.work / "flow-empty"
    empty.mkdir(parents=True, exist_ok=True)
    with backoffice(ctx, "flow-warmup") as settings:
        process_folder(empty, settings)


def side_by_side(
    ctx: Context, folder: Path, name: str, repeats: int, keep: Callable[..., Any]
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """The flow and the direct stages over ``folder``, ``ctx.workers`` documents at a time,
    interleaved (ABBA), each run on a fresh back office; ``keep(settings)`` is called after
    the flow's first run, with the back office still up."""
    times: dict[str, list[float]] = {"rekey": [], "baseline": []}
    states: dict[str, list[str]] = {}
    for i in range(max(1, repeats)):
        runs = [("rekey", flow_states), ("baseline", direct)]
        for side, run in runs if i % 2 == 0 else reversed(runs):
            with backoffice(ctx, f"{name}-{side}-{i}") as settings:
                settings = settings.model_copy(update={"folder_workers": ctx.workers})
                with StageClock() as clock, LaneClock() as lanes:
                    seconds, states[side] = timing.timed(lambda r=run, s=settings: r(folder, s))
                times[side].append(seconds)
                if side == "rekey" and i == 0:
                    keep(settings, clock, lanes, seconds)
    return times, states


def batch(ctx: Context) -> Path:
    docs = ctx.pick(
        lambda d: d.truth.doc_type == "claim" and d.truth.rendition == "digital", ctx.flow_docs
    ) or ctx.pick(lambda d: d.truth.doc_type == "claim", ctx.flow_docs)
    if not docs:
        raise Missing("no claim form in the corpus")
    return copy_batch(docs, ctx.work / "flow-inbox")


@figure("speed.orchestration_overhead")
def orchestration_overhead(ctx: Context) -> timing.Measured:
    """A batch of claims through the flow vs the stages called directly, both
    ``--workers`` documents at a time."""
    require_chromium(ctx.settings)
    folder = batch(ctx)
    with prefect_api() as api:
        warm_up(ctx)
        repeats = max(1, min(ctx.repeat, MAX_REPEATS))
        times, states = side_by_side(ctx, folder, "flow", repeats, lambda *_: None)
    detail = timing.summary(times) | {
        "documents": len(list(folder.iterdir())),
        "workers": ctx.workers,
        "flow_states": sorted(states.get("rekey", [])),
        "direct_states": sorted(states.get("baseline", [])),
        "baseline": f"pipeline stages called directly, no Prefect, {ctx.workers} documents at "
        "a time, keying in the same kept browser sessions as the flow",
        "prefect_api": api,
    }
    ctx.extra.setdefault("speed_details", {})["orchestration_overhead"] = detail
    if detail["ratio"] is None:
        raise Missing("the direct run took no measurable time")
    return timing.measured_ratio(detail)


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
                spent = time.perf_counter() - started
                with self._lock:
                    self.seconds[name] += spent

        return run

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


class LaneClock:
    """Seconds each case spent keying in a kept session (``Lane.key``) and, from asking for
    a session to the receipt, with the wait for a free one (``SessionLanes.key``)."""

    def __init__(self) -> None:
        self.keying: list[tuple[str, float]] = []  # (document type, seconds)
        self.with_wait: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._originals: list[tuple[type, str, Any]] = []

    def __enter__(self) -> LaneClock:
        from connectors.backoffice.lanes import Lane, SessionLanes

        for owner, times in ((Lane, self.keying), (SessionLanes, self.with_wait)):
            original = owner.key
            self._originals.append((owner, "key", original))
            owner.key = self._timed(original, times)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in self._originals:
            setattr(owner, name, original)

    def _timed(self, method: Any, times: list[tuple[str, float]]) -> Any:
        def run(self_: Any, case: Case, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            receipt = method(self_, case, *args, **kwargs)
            with self._lock:
                times.append((case.doc_type or "", time.perf_counter() - started))
            return receipt

        return run


@dataclass
class BatchRun:
    """The whole corpus through the flow and through the direct stages, and what the flow's
    run left behind (scored on the documents ClaimBase keys: :func:`end_to_end` adds the
    Ledgerline run's)."""

    times: dict[str, list[float]]
    states: dict[str, list[str]]
    stage_seconds: dict[str, float]
    key_seconds: list[tuple[str, float]]  # each case keyed in the flow's batch: (type, s)
    key_with_wait: list[tuple[str, float]]  # the same, with the wait for a free session
    stp: dict[str, endtoend.RowStp]
    keyed: endtoend.KeyedScore
    api: str
    deployments: dict[str, dict[str, Any]]  # back office → documents scored, flow seconds


def deployments(settings: Settings) -> dict[str, frozenset[str]]:
    """The document types each demo back office routes: ClaimBase (the settings' screen
    maps, where the timed batch keys) first, then Ledgerline."""
    return {
        endtoend.CLAIMBASE: pipeline.keyable_types(settings.screens_dir),
        endtoend.LEDGERLINE: pipeline.keyable_types(spa_keying.SCREENS),
    }


def shares(ctx: Context) -> dict[str, list[CorpusDoc]]:
    """The corpus by the back office each document is keyed into."""
    return endtoend.split_by_route(ctx.documents, deployments(ctx.settings))


def template_types(settings: Settings) -> dict[str, dict[str, str]]:
    return {
        t.doc_type: {n: f.type for n, f in t.fields.items()}
        for t in load_templates(settings.templates_dir).values()
    }


def flow_scored(
    docs: list[CorpusDoc], settings: Settings, backoffice: str, read: endtoend.ReadRecord
) -> tuple[dict[str, endtoend.RowStp], endtoend.KeyedScore]:
    """A flow run's end states for ``docs``, scored: STP per row, and the values keyed into
    ``backoffice`` as ``read`` finds them in its own database."""
    store = pipeline.store_for(settings)
    cases, events = store.list(), store.events()
    routed = pipeline.keyable_types(settings.screens_dir)
    rows, through = endtoend.stp_by_row(docs, cases, events, routed, backoffice)
    keyed = endtoend.score_keyed(
        endtoend.keyed_cases(docs, cases, through),
        read,
        template_types(settings),
        endtoend.screen_formats(settings.screens_dir),
        backoffice,
    )
    return rows, keyed


def scored_run(
    docs: list[CorpusDoc], settings: Settings, clock: StageClock, lanes: LaneClock, wall: float
) -> dict[str, Any]:
    """The flow run into ClaimBase, its end states for ``docs`` scored: STP per row and the
    values keyed, read from ClaimBase's own database."""
    read = partial(endtoend.record_values, settings.data_path.parent / "backoffice.db")
    rows, keyed = flow_scored(docs, settings, endtoend.CLAIMBASE, read)
    return {
        "stage_seconds": {k: round(v, 1) for k, v in clock.seconds.items()},
        "key_seconds": list(lanes.keying),
        "key_with_wait": list(lanes.with_wait),
        "stp": rows,
        "keyed": keyed,
        "deployments": {endtoend.CLAIMBASE: {"documents_scored": len(docs), "flow_seconds": wall}},
    }


def second_deployment(ctx: Context, docs: list[CorpusDoc]) -> dict[str, Any]:
    """``docs`` (types only Ledgerline routes) through ``process_folder`` into a Ledgerline of
    their own (its own process on a free loopback port, a fresh database and data folder,
    rekey pointed at ``samples/screens_ledgerline``), scored from Ledgerline's ``records``
    table. For scoring only: its wall time is reported, never part of a ratio."""
    folder = copy_batch(docs, ctx.work / "ledgerline-inbox")
    with spa_keying.ledgerline(ctx, "ledgerline-flow") as settings:
        settings = settings.model_copy(update={"folder_workers": ctx.workers})
        seconds, _ = timing.timed(lambda: flow_states(folder, settings))
        read = partial(endtoend.ledgerline_values, settings.data_path.parent / "spa.db")
        rows, keyed = flow_scored(docs, settings, endtoend.LEDGERLINE, read)
    run = {"documents_scored": len(docs), "flow_seconds": seconds}
    return {"stp": rows, "keyed": keyed, "deployments": {endtoend.LEDGERLINE: run}}


def merged_runs(first: dict[str, Any], second: dict[str, Any] | None) -> dict[str, Any]:
    """The ClaimBase run with the Ledgerline run's scores merged in: the STP rows of both, the
    keyed values added up (and kept per back office), each run's documents and wall time."""
    runs = [first, second] if second else [first]
    by_backoffice = {name: run["keyed"] for run in runs for name in run["deployments"]}
    return first | {
        "stp": endtoend.merge_rows(*(run["stp"] for run in runs)),
        "keyed": endtoend.combined(by_backoffice),
        "keyed_by_backoffice": by_backoffice,
        "deployments": {
            name: d | {"flow_seconds": round(d["flow_seconds"], 1)}
            for run in runs
            for name, d in run["deployments"].items()
        },
    }


def both_deployments(
    ctx: Context, first: Callable[[list[CorpusDoc]], dict[str, Any]]
) -> dict[str, Any]:
    """``first(its documents)``: the run into ClaimBase; then the documents only Ledgerline
    routes through :func:`second_deployment`; the two merged (:func:`merged_runs`)."""
    docs = shares(ctx)
    run = first(docs[endtoend.CLAIMBASE])
    second = docs[endtoend.LEDGERLINE]
    return merged_runs(run, second_deployment(ctx, second) if second else None)


def ledgerline_run(ctx: Context) -> dict[str, Any] | None:
    """The development corpus's documents only Ledgerline routes, through
    :func:`second_deployment` once (first asked for inside :func:`batch_run`'s Prefect API,
    after its timed runs); None when there are none."""

    def compute() -> dict[str, Any] | None:
        docs = shares(ctx)[endtoend.LEDGERLINE]
        return second_deployment(ctx, docs) if docs else None

    return ctx.once("ledgerline_run", compute)


def batch_run(ctx: Context) -> BatchRun:
    def compute() -> BatchRun:
        require_chromium(ctx.settings)
        folder = copy_batch(ctx.documents, ctx.work / "batch-inbox")
        docs = shares(ctx)[endtoend.CLAIMBASE]
        kept: dict[str, Any] = {}
        with prefect_api() as api:
            warm_up(ctx)
            times, states = side_by_side(
                ctx,
                folder,
                "batch",
                1,
                lambda s, clock, lanes, wall: kept.update(scored_run(docs, s, clock, lanes, wall)),
            )
            # scoring only, untimed: a failure is kept (ctx.once) for the figures that use it
            with suppress(Exception):
                ledgerline_run(ctx)
        return BatchRun(times, states, api=api, **kept)

    return ctx.once("batch_run", compute)


def end_to_end(ctx: Context) -> dict[str, Any]:
    """The flow runs of the development corpus scored: ClaimBase's batch with the Ledgerline
    run merged in (:func:`merged_runs`)."""
    run = batch_run(ctx)
    first = {"stp": run.stp, "keyed": run.keyed, "deployments": run.deployments}
    return merged_runs(first, ledgerline_run(ctx))


@figure("speed.batch_overhead")
def batch_overhead(ctx: Context) -> timing.Measured:
    """The whole corpus as one batch through ``process_folder`` against the same stages
    called directly at the same parallelism (``--workers``), each keying into its own
    fresh back office (one run each: a run is several minutes)."""
    run = batch_run(ctx)
    detail = timing.summary(run.times) | {
        "documents": len(ctx.documents),
        "workers": ctx.workers,
        "stage_seconds": run.stage_seconds,
        "flow_states": dict(Counter(run.states.get("rekey", []))),
        "direct_states": dict(Counter(run.states.get("baseline", []))),
        "baseline": f"pipeline stages called directly, no Prefect, {ctx.workers} documents at "
        "a time, keying in the same kept browser sessions as the flow",
        "prefect_api": run.api,
    }
    ctx.extra.setdefault("speed_details", {})["batch_overhead"] = detail
    return timing.measured_ratio(detail)


@figure("stp")
def stp(ctx: Context) -> dict[str, Any]:
    """Documents keyed and done with no person touching them, per kind/rendition, over the
    documents that may go straight through (no planted error), from the flow run over the
    whole corpus into ClaimBase, and the types only Ledgerline routes from a second flow run
    into Ledgerline (each row's detail names its back office, and holds the share over
    every document, ``stp_all_documents``)."""
    rows = end_to_end(ctx)["stp"]
    ctx.extra["stp_detail"] = {row: totals.figures() for row, totals in rows.items()}
    rates = {row: totals.figures()["stp"] for row, totals in rows.items()}
    return rates | endtoend.summary(rows)


def holdout_flow(ctx: Context) -> dict[str, Any]:
    """The held-out corpus through ``process_folder`` once, into its own ClaimBase (and the
    types only Ledgerline routes into a Ledgerline of their own), scored as the development
    corpus's flow run is (no baseline: only end states count)."""

    def compute() -> dict[str, Any]:
        held = ctx.holdout
        if held is None:
            raise Missing("no held-out corpus")
        require_chromium(held.settings)

        def claimbase(docs: list[CorpusDoc]) -> dict[str, Any]:
            folder = copy_batch(held.documents, held.work / "batch-inbox")
            with backoffice(held, "holdout-flow") as settings:
                settings = settings.model_copy(update={"folder_workers": held.workers})
                with StageClock() as clock, LaneClock() as lanes:
                    seconds, _ = timing.timed(lambda: flow_states(folder, settings))
                return scored_run(docs, settings, clock, lanes, seconds)

        with prefect_api():
            return both_deployments(held, claimbase)

    return ctx.once("holdout_flow", compute)


def keyed_detail(
    keyed: endtoend.KeyedScore,
    by_backoffice: dict[str, endtoend.KeyedScore],
    runs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The keyed values' figures, in all and per back office, with the documents scored from
    it and its flow run's wall time (ClaimBase's: the timed batch of the whole corpus, as in
    ``speed.batch_overhead``; Ledgerline's: the second run, of its documents only, untimed in
    any ratio)."""
    return keyed.figures() | {
        "by_backoffice": {
            name: runs.get(name, {}) | score.figures() for name, score in by_backoffice.items()
        },
        "examples": keyed.examples,
        "source": "each back office's own database, read after its flow run: ClaimBase's "
        "claims and customers tables, Ledgerline's records table",
    }


@figure("holdout_stp")
def holdout_stp(ctx: Context) -> dict[str, Any]:
    """Straight-through on the held-out seed, per kind/rendition (as ``stp``: over the
    documents with no planted error), and the fields keyed there with a value other than
    the truth."""
    run = holdout_flow(ctx)
    keyed = run["keyed"]
    ctx.extra["holdout_stp_detail"] = {row: t.figures() for row, t in run["stp"].items()}
    ctx.extra["holdout_wrong_keyed_detail"] = keyed_detail(
        keyed, run["keyed_by_backoffice"], run["deployments"]
    )
    return {
        "rows": {row: t.figures()["stp"] for row, t in run["stp"].items()},
        **endtoend.summary(run["stp"]),
        "wrong_keyed": keyed.wrong,
        "records": keyed.records,
        "fields_compared": keyed.fields,
        "wrong_examples": keyed.examples,
    }


@figure("wrong_keyed")
def wrong_keyed(ctx: Context) -> int:
    """Fields that reached the back office with a value other than the truth, with no
    reviewer involved (the straight-through records of the flow runs, ClaimBase's and
    Ledgerline's)."""
    run = end_to_end(ctx)
    keyed = run["keyed"]
    ctx.extra["wrong_keyed_detail"] = keyed_detail(
        keyed, run["keyed_by_backoffice"], run["deployments"]
    )
    if keyed.records == 0:
        raise Missing("no document went straight through to the back office")
    return keyed.wrong


@figure("speed.keying_in_batch")
def keying_in_batch(ctx: Context) -> timing.Measured:
    """Seconds per claim keyed inside ``process_folder`` (in the batch's kept session) / the
    keying benchmark's seconds per claim (``speed.keying_vs_script``, one kept session on an
    otherwise idle machine): the same screens on both sides. Every document type's time and
    the wait for a free session are reported beside it."""
    from benchmarks import keying

    details = ctx.extra.setdefault("speed_details", {})
    if "keying_vs_script" not in details:
        keying.keying_vs_script(ctx)
    bench = details["keying_vs_script"]["rekey_seconds_per_case"]
    run = batch_run(ctx)
    claims = [s for doc_type, s in run.key_seconds if doc_type == "claim"]
    if not claims or not bench:
        raise Missing("no claim was keyed in the batch run")
    per_case = statistics.median(claims)
    value = round(per_case / bench, 3)
    by_type: dict[str, list[float]] = {}
    for doc_type, seconds in run.key_seconds:
        by_type.setdefault(doc_type, []).append(seconds)
    details["keying_in_batch"] = {
        "ratio": value,
        "rekey_seconds_per_case": round(per_case, 3),
        "baseline_seconds_per_case": bench,
        "cases": len(claims),
        "rekey_spread": timing.spread(claims),
        "seconds_per_case_by_type": {
            t: round(statistics.median(v), 3) for t, v in sorted(by_type.items())
        },
        "with_wait_seconds_per_case": round(
            statistics.median(s for t, s in run.key_with_wait if t == "claim"), 3
        ),
        "sessions": ctx.settings.keying_sessions,
        "baseline": "speed.keying_vs_script: rekey's seconds per claim, one kept session",
    }
    return timing.Measured(value, timing.spread([s / bench for s in claims], 3))
