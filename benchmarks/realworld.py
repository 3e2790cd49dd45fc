"""Real documents nobody on this project made: rekey's scan path on FUNSD vs plain Tesseract.

What is measured (figure ``realworld.funsd``): the scanned business forms of the FUNSD
training split (Jaume, Ekenel and Thiran, ICDAR-OST 2019; real RVL-CDIP tobacco-industry
scans), read from ``../shared/realworld/funsd-train`` (``images/*.png``, sorted by name, the
first ``--realworld-pages`` of them; ``annotations/<stem>.json`` holds every word's text).
Nothing is copied into the repository: the pages are read where they lie, and only the
figures land in the result file.

- rekey: exactly what rekey does with a scanned image file, :func:`benchmarks.speed.rekey_ocr`
  (``extractors.registry.read_document`` opens and prepares the page, then
  ``extractors.ocr.ocr_page`` reads each scanned page); its words are the layout's words.
- baseline: plain ``pytesseract.image_to_string`` on the raw PNG, words by ``str.split``.

Word recall: the share of the annotated words, as a multiset, found among the words a side
returns for that page (each annotated occurrence can be matched by one returned occurrence).
Both sides' words have their surrounding punctuation stripped (Unicode categories P*, so
``.,:;!?'"()-/&%#@*`` and curly quotes go, symbols such as ``$ + = |`` stay); words left
empty are dropped; the match is exact and case-sensitive. Matched
and annotated words are summed over all pages before dividing. A page whose reading raises
counts in ``crashes`` (the baseline's separately): its words count as not found and it stays
in the denominator.

Timing: both sides do the same work at the same parallelism, one page per job in one
``spawn`` process pool of ``ctx.workers`` with ``OMP_THREAD_LIMIT=1``. Each page is timed
inside its worker (``perf_counter`` around opening and reading it; a crashed page's seconds
count too); ``seconds_per_page`` is the summed per-page seconds / pages, i.e. per core. The
sides alternate ABBA for ``min(ctx.repeat, TIMING_REPEATS)`` passes each: on all 149 pages a
pass took 70-130 s for rekey and 45-90 s for Tesseract on 2 shared cores, so two each keep
the figure under ~6 min. ``time_ratio`` is rekey's median seconds
per page / the baseline's; its spread is over the ratios of the passes paired in each repeat.
Recall and crashes come from the first pass of each side (OCR is deterministic; the later
passes only time).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

from benchmarks import timing
from benchmarks.figures import Context, Missing, figure
from benchmarks.speed import rekey_ocr

# Loaded with this module by each worker, so no timed page pays for importing them.
from extractors import ocr, registry  # noqa: F401
from rekey.settings import PROJECT_ROOT

FUNSD = "funsd-train"
DEFAULT_REALWORLD = PROJECT_ROOT.parent / "shared" / "realworld"
TIMING_REPEATS = 2
DEFAULT_ENGINE = "pytesseract"
ENGINE_VARIABLE = "REKEY_OCR_ENGINE"
ERROR_CHARS = 160


def strip_punctuation(word: str) -> str:
    """``word`` without the punctuation around it (Unicode categories P*)."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(word[end - 1]).startswith("P"):
        end -= 1
    return word[start:end]


def words_of(text: str) -> list[str]:
    """The words of ``text`` as recall compares them: split on white space, surrounding
    punctuation stripped, empty ones dropped."""
    return [w for w in map(strip_punctuation, text.split()) if w]


def recall(truth_words: Iterable[str], found_words: Iterable[str]) -> tuple[int, int]:
    """(annotated occurrences matched by a found occurrence, annotated occurrences)."""
    truth = Counter(truth_words)
    return sum((truth & Counter(found_words)).values()), sum(truth.values())


def annotated_words(annotation: dict[str, Any]) -> list[str]:
    """The words of a FUNSD annotation (``form[*].words[*].text``), as :func:`words_of`."""
    return words_of(" ".join(w["text"] for entity in annotation["form"] for w in entity["words"]))


@dataclass(frozen=True)
class Reading:
    """One page read by one side in a worker: its words, seconds, and the crash if any."""

    page: str
    seconds: float
    words: list[str]
    error: str | None = None
    turned: bool = False  # the reading turned the page (every FUNSD page is upright)


def _read(path: Path, read: Callable[[Path], tuple[list[str], bool]]) -> Reading:
    started = time.perf_counter()
    try:
        words, turned = read(path)
    except Exception as exc:  # a crash is a figure too, never a stop
        message = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        return Reading(path.name, time.perf_counter() - started, [], message)
    return Reading(path.name, time.perf_counter() - started, words, turned=turned)


def rekey_words(path: Path) -> tuple[list[str], bool]:
    opened = rekey_ocr(path)
    pages = opened.pages if hasattr(opened, "pages") else opened
    words = [word.text for page in pages for word in page.words]
    return words, any(page.rotation for page in pages)


def tesseract_words(path: Path) -> tuple[list[str], bool]:
    with Image.open(path) as image:
        return pytesseract.image_to_string(image).split(), False


def read_rekey(path: Path) -> Reading:
    return _read(path, rekey_words)


def read_baseline(path: Path) -> Reading:
    return _read(path, tesseract_words)


def _ready(_: int) -> None:
    """A no-op job: starts the workers (and their imports) before the first timed pass."""


@dataclass(frozen=True)
class Pass:
    readings: list[Reading]
    wall_s: float

    @property
    def seconds_per_page(self) -> float:
        return sum(r.seconds for r in self.readings) / len(self.readings)

    @property
    def crashed(self) -> list[dict[str, str]]:
        return [{"page": r.page, "error": r.error} for r in self.readings if r.error]


def read_pass(pool: Executor, read: Callable[[Path], Reading], pages: Sequence[Path]) -> Pass:
    started = time.perf_counter()
    readings = list(pool.map(read, pages))
    return Pass(readings, time.perf_counter() - started)


def pooled_recall(truths: Sequence[list[str]], readings: Sequence[Reading]) -> tuple[int, int]:
    """Matched and annotated words summed over the pages (a crashed page found nothing)."""
    counts = [recall(t, words_of(" ".join(r.words))) for t, r in zip(truths, readings, strict=True)]
    return sum(m for m, _ in counts), sum(n for _, n in counts)


def funsd_pages(ctx: Context) -> list[Path]:
    folder = (ctx.realworld or DEFAULT_REALWORLD) / FUNSD
    if ctx.realworld is None or not folder.is_dir():
        raise Missing(f"{folder} not found (FUNSD pages)")
    pages = sorted((folder / "images").glob("*.png"))
    if not pages:
        raise Missing(f"no FUNSD page in {folder / 'images'}")
    return pages[: ctx.realworld_pages] if ctx.realworld_pages is not None else pages


def run_passes(
    pages: Sequence[Path], workers: int, repeats: int, engine: str = DEFAULT_ENGINE
) -> dict[str, list[Pass]]:
    """Each side's passes over ``pages``, interleaved ABBA in one warmed process pool whose
    workers read with rekey's OCR ``engine``."""
    os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by the workers and their tesseract runs
    passes: dict[str, list[Pass]] = {"rekey": [], "baseline": []}
    spawn = multiprocessing.get_context("spawn")
    before = os.environ.get(ENGINE_VARIABLE)
    os.environ[ENGINE_VARIABLE] = engine  # the workers' settings, read when they start
    try:
        pool = ProcessPoolExecutor(workers, mp_context=spawn)
        list(pool.map(_ready, range(workers)))
    finally:
        os.environ.pop(ENGINE_VARIABLE) if before is None else os.environ.update(
            {ENGINE_VARIABLE: before}
        )
    with pool:
        list(pool.map(_ready, range(workers)))
        timing.interleaved(
            lambda: passes["rekey"].append(read_pass(pool, read_rekey, pages)),
            lambda: passes["baseline"].append(read_pass(pool, read_baseline, pages)),
            repeats,
        )
    return passes


def _share(matched: int, total: int) -> float:
    return round(matched / total, 4) if total else 0.0


@figure("realworld.funsd")
def funsd(ctx: Context) -> dict[str, Any]:
    """Word recall and seconds per page of rekey's scan path vs plain Tesseract on FUNSD,
    rekey reading with its default OCR engine (pytesseract)."""
    return measure_funsd(ctx, DEFAULT_ENGINE)


@figure("realworld.funsd_inprocess")
def funsd_inprocess(ctx: Context) -> dict[str, Any]:
    """The same, rekey reading with the in-process engine (``REKEY_OCR_ENGINE=tesserocr``)."""
    try:
        import tesserocr  # noqa: F401
    except ImportError as exc:
        raise Missing("tesserocr is not installed (the inprocess extra)") from exc
    return measure_funsd(ctx, "tesserocr")


def measure_funsd(ctx: Context, engine: str) -> dict[str, Any]:
    pages = funsd_pages(ctx)
    annotations = pages[0].parent.parent / "annotations"
    truths = [
        annotated_words(json.loads((annotations / f"{p.stem}.json").read_text())) for p in pages
    ]
    repeats = min(max(1, ctx.repeat), TIMING_REPEATS)
    passes = run_passes(pages, ctx.workers, repeats, engine)
    rekey, baseline = passes["rekey"], passes["baseline"]
    matched, total = pooled_recall(truths, rekey[0].readings)
    base_matched, _ = pooled_recall(truths, baseline[0].readings)
    per_page = {side: [p.seconds_per_page for p in runs] for side, runs in passes.items()}
    rekey_s, base_s = (statistics.median(per_page[s]) for s in ("rekey", "baseline"))
    return {
        "pages": len(pages),
        "engine": engine,
        "annotated_words": total,
        "word_recall": _share(matched, total),
        "baseline_word_recall": _share(base_matched, total),
        "words_matched": matched,
        "baseline_words_matched": base_matched,
        "seconds_per_page": round(rekey_s, 4),
        "seconds_per_page_spread": timing.spread(per_page["rekey"]),
        "baseline_seconds_per_page": round(base_s, 4),
        "baseline_seconds_per_page_spread": timing.spread(per_page["baseline"]),
        "time_ratio": round(rekey_s / base_s, 3) if base_s > 0 else None,
        "time_ratio_spread": timing.spread(timing.paired_ratios(per_page), 3),
        "crashes": len(rekey[0].crashed),
        "turned": sum(r.turned for r in rekey[0].readings),
        "turned_pages": [r.page for r in rekey[0].readings if r.turned],
        "crashed_pages": rekey[0].crashed,
        "baseline_crashes": len(baseline[0].crashed),
        "baseline_crashed_pages": baseline[0].crashed,
        "wall_s_spread": timing.spread([p.wall_s for p in rekey], 2),
        "baseline_wall_s_spread": timing.spread([p.wall_s for p in baseline], 2),
        "workers": ctx.workers,
        "repeats": repeats,
        "source": f"../shared/realworld/{FUNSD} (FUNSD training split, read in place)",
    }
