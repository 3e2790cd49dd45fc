"""rekey's scan path on real office scans nobody here made (FUNSD, ../shared/realworld):
no page raises, no upright page is turned, and a handful of pages keep their word recall.
Skipped, with the reason, when the shared folder is not there."""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from benchmarks.realworld import annotated_words, recall, words_of
from rekey.settings import PROJECT_ROOT

FUNSD = PROJECT_ROOT.parent / "shared" / "realworld" / "funsd-train"
pytestmark = pytest.mark.skipif(
    not FUNSD.is_dir(), reason="../shared/realworld not found (FUNSD pages)"
)
# every 30th page: a spread of layouts, noise and handwriting
HANDFUL = [0, 30, 60, 90, 120]
# pooled exact word recall: 0.747 measured (pytesseract), 0.754 (in-process); plain
# Tesseract 0.605
FLOOR = 0.72


def read(path: Path, engine: str = "pytesseract") -> tuple[str, list[str], int, str | None]:
    """One page through rekey's scan path: its words, its turn, and the crash if any."""
    from extractors.ocr import ocr_page, using_engine
    from extractors.source import open_source

    try:
        with using_engine(engine):
            source = open_source(path)
            page = source.scanned[1]
            words = [w.text for w in ocr_page(1, page.gray).words]
    except Exception as exc:  # the test reports every crash, not the first
        return path.name, [], 0, f"{type(exc).__name__}: {exc}"
    return path.name, words, page.rotation, None


def read_all(
    paths: list[Path], engine: str = "pytesseract"
) -> list[tuple[str, list[str], int, str | None]]:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        return list(pool.map(read, paths, [engine] * len(paths)))


def pages() -> list[Path]:
    return sorted((FUNSD / "images").glob("*.png"))


def truth(name: str) -> list[str]:
    annotation = json.loads((FUNSD / "annotations" / f"{Path(name).stem}.json").read_text())
    return annotated_words(annotation)


@pytest.mark.parametrize("engine", ["pytesseract", "tesserocr"])
def test_a_handful_of_real_pages_keep_their_word_recall(engine: str) -> None:
    chosen = [pages()[i] for i in HANDFUL]
    matched = total = 0
    for name, words, _, error in read_all(chosen, engine):
        assert error is None, f"{name}: {error}"
        m, n = recall(truth(name), words_of(" ".join(words)))
        matched, total = matched + m, total + n
    assert matched / total >= FLOOR, f"word recall {matched / total:.3f} < {FLOOR}"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_real_page_is_read_without_a_crash_and_none_is_turned() -> None:
    results = read_all(pages())
    assert len(results) == 149
    crashed = [f"{name}: {error}" for name, _, _, error in results if error]
    assert crashed == []
    turned = [f"{name}: {turn}°" for name, _, turn, _ in results if turn]
    assert turned == []  # every FUNSD page is upright
    assert all(words for _, words, _, _ in results)
