"""The FUNSD figure: word recall as defined in ../shared/realworld/README.md, and one small
run of the figure on real pages (skipped when the shared folder is not there)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from benchmarks.figures import Context, Missing
from benchmarks.realworld import funsd, recall, words_of
from rekey.settings import PROJECT_ROOT, Settings

REALWORLD = PROJECT_ROOT.parent / "shared" / "realworld"


def test_words_of_strips_surrounding_punctuation_only() -> None:
    assert words_of('"Date:  (12/03/94), R&D. - ... Smith’s') == [
        "Date",
        "12/03/94",
        "R&D",
        "Smith’s",
    ]


def test_words_of_drops_words_left_empty() -> None:
    assert words_of(" -- : ... \n") == []


def test_recall_counts_each_annotated_occurrence_once() -> None:
    assert recall(["the", "the", "form"], ["the", "form", "form"]) == (2, 3)
    assert recall(["the", "the"], ["the", "the", "the"]) == (2, 2)


def test_recall_missing_and_extra_words() -> None:
    assert recall(["claim", "number", "42"], ["claim", "42"]) == (2, 3)  # a word missing
    assert recall(["claim", "42"], ["claim", "42", "noise"]) == (2, 2)  # an extra word
    assert recall(["Claim"], ["claim"]) == (0, 1)  # exact, case-sensitive
    assert recall([], ["claim"]) == (0, 0)


def context(tmp_path: Path, realworld: Path | None) -> Context:
    return Context(
        settings=Settings(data_dir=tmp_path / "var"),
        corpus=tmp_path,
        documents=[],
        today=date.today(),
        out=tmp_path,
        work=tmp_path,
        repeat=1,
        realworld=realworld,
        realworld_pages=2,
    )


def test_figure_names_the_folder_it_misses(tmp_path: Path) -> None:
    with pytest.raises(Missing, match="realworld/funsd-train not found"):
        funsd(context(tmp_path, None))


def test_figure_on_two_funsd_pages(tmp_path: Path) -> None:
    if not (REALWORLD / "funsd-train").is_dir():
        pytest.skip("../shared/realworld not found (FUNSD pages)")
    ctx = context(tmp_path, REALWORLD)
    value = funsd(ctx)
    assert {
        "pages",
        "word_recall",
        "baseline_word_recall",
        "seconds_per_page",
        "baseline_seconds_per_page",
        "time_ratio",
        "crashes",
        "crashed_pages",
        "seconds_per_page_spread",
        "baseline_seconds_per_page_spread",
        "time_ratio_spread",
    } <= value.keys()
    assert value["pages"] == 2
    assert 0 <= value["word_recall"] <= 1
    assert 0 < value["baseline_word_recall"] <= 1
    assert isinstance(value["crashes"], int) and 0 <= value["crashes"] <= 2
    assert len(value["crashed_pages"]) == value["crashes"]
    assert value["seconds_per_page"] > 0 and value["baseline_seconds_per_page"] > 0
    for key in ("seconds_per_page_spread", "baseline_seconds_per_page_spread", "time_ratio_spread"):
        assert value[key]["repeats"] == 1
