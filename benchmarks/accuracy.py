"""The accuracy pass: every corpus document through rekey's pure stages, scored on its truth.

``read → extract → check`` (:mod:`rekey.pipeline`) runs over the corpus in a process pool of
``ctx.workers`` with ``OMP_THREAD_LIMIT=1``; the same pass gives the rules figures, the
pages-per-minute figures and the batch's peak memory. Document kinds whose ``doc_type`` has
no template are reported under ``missing``, never as zero.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import resource
import secrets
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import crops
from benchmarks.corpus import corpus_today, load_documents
from benchmarks.figures import Context, CorpusDoc, Missing, figure, with_overrides
from benchmarks.memory import PeakRss
from benchmarks.scoring import FieldScore, RowTotals, RulesTotals, ratio, score_fields
from extractors.templates import load_templates
from rekey import pipeline
from rekey.errors import BadDocument
from rekey.models import Case, Document, Field
from rekey.settings import Settings
from samples.corpus import generate
from samples.corpus.generate import SMALL_SEED

EXAMPLES_PER_ERROR = 3


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page_kinds(source: Any) -> list[str]:
    """``"ocr"`` or ``"text"`` per page: how rekey gets the page's words."""
    return ["ocr" if n in source.scanned else "text" for n in range(1, source.page_count + 1)]


_worker_settings: dict[Path, Settings] = {}


def worker_settings(settings: Settings, policies: Path) -> Settings:
    """This worker's settings: its own data folder (so two workers never migrate one case
    store at once) and the corpus's policy register."""
    if policies not in _worker_settings:
        _worker_settings[policies] = with_overrides(
            settings, data_dir=settings.data_path / f"worker-{os.getpid()}", policies_csv=policies
        )
    return _worker_settings[policies]


def read_batch(path: Path, settings: Settings, today: date) -> dict[str, Any]:
    """A CSV/XLSX batch: every row extracted and checked as the case it becomes; scored as
    one table field ``rows`` (the truth's layout), routed auto only if every row is."""
    from extractors.engine import extract_row
    from extractors.sniff import media_type
    from extractors.tabular import read_rows
    from extractors.templates import load_templates

    media = media_type(path)
    templates = load_templates(settings.templates_dir).values()
    values, findings, routes, confidences, confident, doc_type = [], [], [], [], True, None
    for number, row in enumerate(read_rows(path, media), start=1):
        template, fields = extract_row(row, templates)
        doc_type = template.doc_type if template else None
        case = Case(
            document=Document(
                original_name=f"{path.name} row {number}",
                sha256=f"{number:064d}",
                size=0,
                media_type=media,
                row=number,
            ),
            doc_type=doc_type,
            fields=fields,
        )
        row_findings, decision = pipeline.check(case, settings, today=today)
        values.append({name: f.value for name, f in fields.items()})
        findings.extend({"rule": f.rule, "severity": f.severity} for f in row_findings)
        routes.append(decision.route)
        confidences.extend(f.confidence for f in fields.values())
        confident = confident and all(f.confident for f in fields.values() if f.value)
    route = "auto" if routes and all(r == "auto" for r in routes) else "review"
    return {
        "read": True,
        "media": media,
        "read_seconds": 0.0,
        "pages": ["text"],
        "doc_type": doc_type,
        "template_types": {"rows": "table"},
        "fields": {
            "rows": {
                "value": json.dumps(values),
                "confidence": min(confidences or [0]),
                "confident": confident,
                "page": None,
                "box": None,
            }
        },
        "findings": findings,
        "route": route,
    }


def read_one(job: tuple[Path, Settings, date, Path]) -> dict[str, Any]:
    """One document through read, extract and check (runs in a pool worker)."""
    path, settings, today, policies = job
    settings = worker_settings(settings, policies)
    run: dict[str, Any] = {"file": path.name, "read": False, "route": "quarantine"}
    started = time.perf_counter()
    if path.suffix.lower() in (".csv", ".xlsx"):
        try:
            return (
                run | read_batch(path, settings, today) | {"seconds": time.perf_counter() - started}
            )
        except BadDocument as exc:
            return run | {"error": str(exc), "seconds": time.perf_counter() - started}
    try:
        media, opened = pipeline.read(path)
    except BadDocument as exc:
        return run | {"error": str(exc), "seconds": time.perf_counter() - started}
    except Exception as exc:  # a crash in a stage is a finding of the benchmark too
        return run | {"error": f"crashed: {type(exc).__name__}: {exc}"}
    read_s = time.perf_counter() - started
    pages = page_kinds(opened)
    try:
        template, fields = pipeline.extract(opened, settings)
    except Exception as exc:
        return run | {"error": f"extract crashed: {type(exc).__name__}: {exc}"}
    case = Case(
        document=Document(
            original_name=path.name,
            sha256=_sha256(path),
            size=path.stat().st_size,
            media_type=media,
            page_count=len(pages),
        ),
        doc_type=template.doc_type if template else None,
        template=template.name if template else None,
        fields=fields,
    )
    findings, decision = pipeline.check(case, settings, today=today)
    return run | {
        "read": True,
        "media": media,
        "seconds": time.perf_counter() - started,
        "read_seconds": read_s,
        "pages": pages,
        "doc_type": case.doc_type,
        "template_types": {n: s.type for n, s in template.fields.items()} if template else None,
        "fields": {
            name: {
                "value": f.value,
                "confidence": f.confidence,
                "confident": f.confident,
                "evidence": f.evidence,
                "read_confidence": f.read_confidence,
                "doubt": f.doubt,
                "how": f.how,
                "page": f.page,
                "box": [f.box.x0, f.box.y0, f.box.x1, f.box.y1] if f.box else None,
            }
            for name, f in fields.items()
        },
        "findings": [{"rule": f.rule, "severity": f.severity} for f in findings],
        "route": decision.route,
    }


@dataclass
class PassResult:
    runs: list[dict[str, Any]]
    wall_s: float
    peak_rss_mb: float
    samples: int
    workers: int
    cpu_s: float  # user+system seconds of the workers and their tesseract runs
    child_max_rss_mb: float  # ru_maxrss of the largest single descendant process
    templated: set[str]  # doc types with a template when the pass started


def run_pass(ctx: Context) -> PassResult:
    templated = templated_doc_types(ctx.settings)  # before the pass: a broken template fails fast
    os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by the workers and their tesseract runs
    policies = ctx.corpus / "policies.csv"
    jobs = [(doc.path, ctx.settings, ctx.today, policies) for doc in ctx.documents]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # no threads forked with the sampler running
    with PeakRss() as peak, ProcessPoolExecutor(ctx.workers, mp_context=spawn) as pool:
        runs = list(pool.map(read_one, jobs))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    child_max = round(after.ru_maxrss / 1024, 1)  # kB on Linux
    return PassResult(runs, wall, peak.mb, peak.samples, ctx.workers, cpu, child_max, templated)


def the_pass(ctx: Context) -> PassResult:
    return ctx.once("accuracy_pass", lambda: run_pass(ctx))


def templated_doc_types(settings: Settings) -> set[str]:
    return {t.doc_type for t in load_templates(settings.templates_dir).values()}


def registered_rules() -> set[str]:
    import validators.rulesets  # noqa: F401  (registers the built-in rules)
    from validators.registry import RULES

    return set(RULES)


# -- pure aggregation ------------------------------------------------------------------------


@dataclass
class Example:
    document: str
    path: Path
    truth: Any
    extracted: str | None
    confidence: float
    page: int | None
    box: tuple[float, float, float, float] | None
    crop: str | None = None


@dataclass
class ErrorGroup:
    field: str
    row: str
    errors: int = 0
    total: int = 0
    extracted: bool = False  # the template extracts this field at all
    examples: list[Example] = field(default_factory=list)


@dataclass
class Scored:
    rows: dict[str, RowTotals]
    overall: RowTotals
    rules: RulesTotals
    errors: list[ErrorGroup]
    unmeasured: dict[str, dict[str, Any]]  # kind → {"doc_type", "documents"}


def score(
    docs: list[CorpusDoc], runs: list[dict[str, Any]], templated: set[str], registered: set[str]
) -> Scored:
    rows: dict[str, RowTotals] = defaultdict(RowTotals)
    overall = RowTotals()
    rules = RulesTotals()
    groups: dict[tuple[str, str], ErrorGroup] = {}
    unmeasured: dict[str, dict[str, Any]] = {}
    for doc, run in zip(docs, runs, strict=True):
        truth = doc.truth
        has_template = truth.doc_type in templated
        fired = {f["rule"] for f in run.get("findings", [])}
        errors = {f["rule"] for f in run.get("findings", []) if f["severity"] == "error"}
        rules.add(truth.planted_error, fired, errors, registered, has_template and run["read"])
        if not has_template:
            entry = unmeasured.setdefault(truth.kind, {"doc_type": truth.doc_type, "documents": 0})
            entry["documents"] += 1
            continue
        scores = score_fields(truth.fields, run.get("fields", {}), run.get("template_types"))
        classified = run.get("doc_type") == truth.doc_type
        for totals in (rows[doc.row], overall):
            totals.add(scores, run["route"], classified, run["read"])
        for s in scores:
            group = groups.setdefault((s.name, doc.row), ErrorGroup(s.name, doc.row))
            group.total += 1
            group.extracted |= s.in_template
            if not s.correct:
                group.errors += 1
                if len(group.examples) < EXAMPLES_PER_ERROR:
                    group.examples.append(_example(doc, s))
    errors = sorted(
        (g for g in groups.values() if g.errors),
        key=lambda g: (not g.extracted, -g.errors / g.total, -g.errors, g.field, g.row),
    )
    return Scored(dict(sorted(rows.items())), overall, rules, errors, unmeasured)


def _example(doc: CorpusDoc, s: FieldScore) -> Example:
    return Example(doc.name, doc.path, s.truth, s.extracted, s.confidence, s.page, s.box)


def scored(ctx: Context) -> Scored:
    def compute() -> Scored:
        result = the_pass(ctx)
        return score(ctx.documents, result.runs, result.templated, registered_rules())

    return ctx.once("scored", compute)


# -- figures ----------------------------------------------------------------------------------


@figure("accuracy")
def accuracy(ctx: Context) -> dict[str, Any]:
    result = scored(ctx)
    for kind, entry in sorted(result.unmeasured.items()):
        ctx.note(
            f"accuracy.{kind}/*",
            f"no template for doc_type {entry['doc_type']!r} ({entry['documents']} documents)",
        )
    rows = {}
    for key, totals in result.rows.items():
        rows[key] = totals.figures()
        if rows[key]["confident_precision"] is None:
            ctx.note(f"accuracy.{key}.confident_precision", "no field was marked confident")
    overall = result.overall.figures() if result.overall.documents else None
    ctx.extra["accuracy_overall"] = overall
    ctx.extra["coverage"] = {
        "corpus_documents": len(ctx.documents),
        "measured_documents": sum(r["documents"] for r in rows.values()),
        "unmeasured": {k: v["documents"] for k, v in sorted(result.unmeasured.items())},
    }
    not_read = [r for r in the_pass(ctx).runs if not r["read"]]
    ctx.extra["not_read"] = [{"file": r["file"], "error": r.get("error")} for r in not_read]
    ctx.extra["field_errors"] = crops.write_examples(result.errors, ctx.out / "crops")
    if not rows:
        raise Missing("no document kind in the corpus has a template")
    return rows


def as_field_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def truth_cases(doc: Any) -> list[Case]:
    """The case(s) a document's true values make: what the rules see when reading is perfect."""
    truth = doc.truth
    rows = truth.fields.get("rows") if truth.doc_type.endswith("_batch") else None
    values_list = rows if isinstance(rows, list) else [truth.fields]
    cases = []
    for number, values in enumerate(values_list, start=1):
        fields = {
            name: Field(name=name, value=as_field_value(value), confidence=1.0)
            for name, value in values.items()
            if not name.startswith("_")
        }
        document = Document(
            original_name=f"{doc.path.name} {number}", sha256=f"{number:064d}", size=0
        )
        cases.append(Case(document=document, doc_type=truth.doc_type, fields=fields))
    return cases


def rules_on_truth(ctx: Context, templated: set[str]) -> RulesTotals:
    """The rule engine on its own: every document's true values, through the same rule sets."""
    settings = with_overrides(
        ctx.settings,
        data_dir=ctx.settings.data_path / "truth-rules",
        policies_csv=ctx.corpus / "policies.csv",
    )
    totals = RulesTotals()
    registered = set(registered_rules())
    for doc in ctx.documents:
        if doc.truth.doc_type not in templated:
            continue
        fired: set[str] = set()
        errors: set[str] = set()
        for case in truth_cases(doc):
            findings, _ = pipeline.check(case, settings, today=ctx.today)
            fired |= {f.rule for f in findings}
            errors |= {f.rule for f in findings if f.severity == "error"}
        totals.add(doc.truth.planted_error, fired, errors, registered, True)
    return totals


def rules_summary(totals: RulesTotals) -> dict[str, Any]:
    return {
        "planted_errors": totals.planted,
        "planted_errors_measured": totals.planted_measured,
        "caught": totals.caught,
        "recall": ratio(totals.caught, totals.planted_measured),
        "clean_documents": totals.clean,
        "false_alarms": totals.false_alarms,
        "false_alarm_rate": ratio(totals.false_alarms, totals.clean),
        "false_alarms_by_rule": [
            {"rule": rule, "documents": count}
            for rule, count in sorted(totals.alarm_rules.items(), key=lambda kv: -kv[1])
        ],
        "missed_by_rule": [{"rule": r, "documents": n} for r, n in sorted(totals.missed.items())],
    }


HOLDOUT_KEYS = ("documents", "field_accuracy", "confident_precision", "classification")
HOLDOUT_KEYS += ("fields", "confident_fields")  # so renditions can be pooled across kinds


def pick(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: values.get(k) for k in keys}


def new_seed(development: int) -> int:
    """A seed nobody has tuned on: new each run, never the development seed."""
    seed = development
    while seed in (development, SMALL_SEED):
        seed = secrets.randbelow(1_000_000) + 1000
    return seed


def holdout_context(ctx: Context, n: int, seed: int) -> Context:
    """The accuracy pass's context on a corpus of the same size generated with ``seed``, in
    this run's scratch folder (each run's held-out corpus is new, so none is kept)."""
    folder = generate.ensure_corpus(n, seed, root=ctx.work / "holdout-corpus")
    return Context(
        settings=with_overrides(ctx.settings, data_dir=ctx.work / "holdout" / "var"),
        corpus=folder,
        documents=load_documents(folder),
        today=corpus_today(folder),
        out=ctx.out,
        work=ctx.work / "holdout",
        repeat=ctx.repeat,
        workers=ctx.workers,
        seed=seed,
    )


@figure("holdout")
def holdout(ctx: Context) -> dict[str, Any]:
    """The accuracy figures on the held-out corpus: the figures a template or heuristic
    change is judged by, since nothing was tuned on that seed."""
    if ctx.holdout is None:
        raise Missing("no held-out corpus")
    held = ctx.holdout
    result = scored(held)
    rows = {
        key: {k: totals.figures()[k] for k in HOLDOUT_KEYS} for key, totals in result.rows.items()
    }
    overall = result.overall.figures() if result.overall.documents else {}
    return {
        "seed": held.seed,
        "documents": len(held.documents),
        "accuracy": rows,
        "overall": pick(overall, HOLDOUT_KEYS),
        "unmeasured": {k: v["documents"] for k, v in sorted(result.unmeasured.items())},
        "not_read": [r["file"] for r in the_pass(held).runs if not r["read"]],
    }


@figure("rules")
def rules(ctx: Context) -> dict[str, Any]:
    """The rule engine judged on true values (its own recall and false alarms), and end to
    end on what extraction read (``end_to_end``: a misread field also fires rules there)."""
    totals = rules_on_truth(ctx, the_pass(ctx).templated)
    for name, count in sorted(totals.unregistered.items()):
        ctx.note("rules.recall", f"rule {name} not implemented ({count} planted)")
    summary = rules_summary(totals)
    if summary["recall"] is None:
        ctx.note("rules.recall", "no planted error in the corpus, or none whose rule exists")
    if summary["false_alarm_rate"] is None:
        ctx.note("rules.false_alarm_rate", "no clean document of a kind with a template")
    return summary | {"end_to_end": rules_summary(scored(ctx).rules)}


@figure("memory")
def memory(ctx: Context) -> dict[str, Any]:
    result = the_pass(ctx)
    return {
        "batch_peak_rss_mb": result.peak_rss_mb,
        "batch_documents": len(result.runs),
        "batch_wall_s": round(result.wall_s, 2),
        "batch_cpu_s": round(result.cpu_s, 1),
        "largest_child_max_rss_mb": result.child_max_rss_mb,
        "workers": result.workers,
        "method": "peak of summed RSS of the bench process and all its descendants "
        f"(pool workers, tesseract), psutil, sampled every 50 ms ({result.samples} samples)",
    }


def pages_per_minute(runs: list[dict[str, Any]], source: str) -> tuple[float | None, int]:
    """Pages per minute of one worker over the documents whose pages all came from ``source``.

    Time is each document's read+extract+check wall time inside its pool worker (one
    worker = one core), summed; so the figure is per core, not per machine.
    """
    pages = seconds = 0.0
    for run in runs:
        if run["read"] and run["pages"] and set(run["pages"]) == {source}:
            pages += len(run["pages"])
            seconds += run["seconds"]
    return (round(pages / seconds * 60, 1) if seconds else None), int(pages)


def basis(ctx: Context) -> dict[str, Any]:
    return ctx.extra.setdefault(
        "pages_per_minute_basis",
        {
            "source": "the accuracy pass",
            "method": "pages / summed per-document read+extract+check seconds inside a pool "
            "worker (one worker = one core); documents whose pages all came from OCR (scan) "
            "or all from the text layer (digital)",
        },
    )


def pages_figure(ctx: Context, source: str, what: str, key: str) -> float:
    value, pages = pages_per_minute(the_pass(ctx).runs, source)
    if value is None:
        raise Missing(f"no {what} page was read in the accuracy pass")
    basis(ctx)[key] = pages
    return value


@figure("speed.scan_pages_per_minute")
def scan_pages_per_minute(ctx: Context) -> float:
    return pages_figure(ctx, "ocr", "scanned (OCR)", "scan_pages")


@figure("speed.digital_pages_per_minute")
def digital_pages_per_minute(ctx: Context) -> float:
    return pages_figure(ctx, "text", "digital (text-layer)", "digital_pages")


def calibration_of(ctx: Context) -> dict[str, Any]:
    from benchmarks.calibrate import brier, observations, reliability

    observed = observations(ctx.documents, the_pass(ctx).runs)
    return {"readings": len(observed), "brier": brier(observed), "bins": reliability(observed)}


@figure("calibration")
def calibration(ctx: Context) -> dict[str, Any]:
    """Fields' confidence against how often they were right, per confidence bin, on the
    development seed (the curves were fitted there) and the held-out one (the check)."""
    figures = {"development": calibration_of(ctx)}
    if ctx.holdout is None:
        ctx.note("calibration.holdout", "no held-out corpus")
    else:
        figures["holdout"] = calibration_of(ctx.holdout)
    return figures
