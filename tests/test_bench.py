"""A small benchmark run (3 documents, one timing repeat) writes a complete, consistent
result: every required key, counts that add up, fractions in [0, 1], positive ratios, and
every figure that could not be measured named in ``missing``. Timings are not asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.report import FRACTIONS, RATIOS, REQUIRED, ROW_KEYS, covered, get_path, problems

N, SEED = 3, 3  # seed 3: a digital claim, an office-scan TIFF and a bad fax among the three


@pytest.fixture(scope="module")
def bench(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> tuple[dict[str, Any], Path]:
    """One in-process run; the flows use the session's Prefect harness."""
    root = tmp_path_factory.mktemp("bench")
    out = root / "results"
    code = main(
        [
            *("--n", str(N), "--seed", str(SEED), "--repeat", "1"),
            *("--cases", "1", "--flow-docs", "1"),
            *("--out", str(out), "--data", str(root / "data")),
            *("--corpus-root", str(root / "corpus")),
        ]
    )
    assert code == 0
    return json.loads((out / "latest.json").read_text(encoding="utf-8")), out


def test_writes_latest_and_dated_copies(bench: tuple[dict[str, Any], Path]) -> None:
    _, out = bench
    names = {p.name for p in out.iterdir()}
    assert {"latest.json", "latest.md"} <= names
    assert any(n.endswith("Z.json") for n in names) and any(n.endswith("Z.md") for n in names)
    assert "## Accuracy by kind / rendition" in (out / "latest.md").read_text(encoding="utf-8")
    crops = list((out / "crops").glob("*"))
    assert len(crops) <= 60 and all(p.suffix == ".png" for p in crops)


def test_result_is_complete_and_consistent(bench: tuple[dict[str, Any], Path]) -> None:
    result, _ = bench
    assert problems(result, N) == []
    for key in ("machine", "versions", "accuracy", "rules", "speed", "memory", "missing"):
        assert key in result
    assert result["machine"]["cores"] >= 1
    assert {"tesseract", "chromium", "prefect", "pdfplumber", "playwright", "rekey"} <= set(
        result["versions"]
    )
    missing = result["missing"]
    assert all(": " in entry for entry in missing)
    for path in REQUIRED:
        value = get_path(result, path)
        assert value is not None or covered(missing, path), path
        last = path.rsplit(".", 1)[-1]
        if value is not None and last in FRACTIONS:
            assert 0 <= value <= 1, path
        if value is not None and last in RATIOS:
            assert value > 0, path


def test_documents_add_up(bench: tuple[dict[str, Any], Path]) -> None:
    result, _ = bench
    rows = result["accuracy"]
    unmeasured = result["coverage"]["unmeasured"]
    assert sum(r["documents"] for r in rows.values()) + sum(unmeasured.values()) == N
    assert result["memory"]["batch_documents"] == N
    for kind in unmeasured:
        assert covered(result["missing"], f"accuracy.{kind}/*"), kind
    for row, values in rows.items():
        assert set(ROW_KEYS) <= set(values), row
        for key in ("field_accuracy", "confident_precision", "stp_rate", "classification"):
            value = values[key]
            assert (value is None and covered(result["missing"], f"accuracy.{row}.{key}")) or (
                0 <= value <= 1
            ), (row, key)
        assert values["wrong_auto_keyed"] >= 0
