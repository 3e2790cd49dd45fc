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

# a whole benchmark run, small: about 3 minutes here, more on a busy machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

N, SEED = 3, 49  # seed 49: a digital claim, a bad-fax TIFF and a bad-fax PDF
HOLDOUT = 11


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
            *("--cases", "1", "--flow-docs", "1", "--realworld-pages", "2"),
            *("--holdout-seed", str(HOLDOUT)),
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
        wrong_fields = values["fields"] - round(values["field_accuracy"] * values["fields"])
        assert 0 <= values["wrong_auto_keyed"] <= wrong_fields, row
        if values["stp_rate"] == 0:
            assert values["wrong_auto_keyed"] == 0, row


def test_holdout_is_another_corpus_scored_the_same_way(bench: tuple[dict[str, Any], Path]) -> None:
    result, _ = bench
    held = result["holdout"]
    assert held["seed"] == HOLDOUT == result["run"]["holdout_seed"]
    assert held["documents"] == N
    rows = held["accuracy"]
    assert sum(r["documents"] for r in rows.values()) + sum(held["unmeasured"].values()) == N
    for row, values in rows.items():
        assert set(values) == {
            "documents",
            "field_accuracy",
            "confident_precision",
            "classification",
            "fields",
            "confident_fields",
        }
        assert 0 <= values["field_accuracy"] <= 1, row
    assert f"held-out seed {HOLDOUT}" in (bench[1] / "latest.md").read_text(encoding="utf-8")


def test_straight_through_and_wrong_keyed_come_from_the_flow_run(
    bench: tuple[dict[str, Any], Path],
) -> None:
    result, _ = bench
    detail = result["stp_detail"]
    assert sum(d["documents"] for d in detail.values()) == N
    through = sum(d["straight_through"] for d in detail.values())
    assert result["stp"]["all_documents"] == round(through / N, 4)
    passed = through - result["stp"]["planted_through"]
    may_pass = sum(d["may_pass"] for d in detail.values())
    assert result["stp"]["all"] == (round(passed / may_pass, 4) if may_pass else 0.0)
    for rendition, share in result["stp"]["by_rendition"].items():
        rows = [d for r, d in detail.items() if r.endswith(f"/{rendition}") and "why" not in d]
        may = sum(d["may_pass"] for d in rows)
        passed = sum(d["straight_through"] - d["planted_through"] for d in rows)
        assert share == (round(passed / may, 4) if may else None), rendition
    for row, d in detail.items():
        assert result["stp"][row] == d["stp"]
        assert d["may_pass"] <= d["documents"], row
        assert sum(d["states"].values()) == d["documents"]
        assert d["straight_through"] <= d["states"].get("done", 0), row
        if "why" in d:  # no back-office route: never straight through
            assert not d["stp"] and "no back-office route" in d["why"]
        # every type keyed where a demo back office routes it: W-9, CMS-1500 and passports
        # into Ledgerline (a second run), the others into ClaimBase
        only_ledgerline = row.split("/")[0] in ("w9", "cms1500", "passport")
        assert d["backoffice"] == ("Ledgerline" if only_ledgerline else "ClaimBase"), row
        assert not (only_ledgerline and "why" in d), row
    keyed = result["wrong_keyed_detail"]
    assert keyed["records"] >= through > 0  # seed 49's digital claim goes straight through
    assert keyed["records_not_found"] == 0
    per_backoffice = keyed["by_backoffice"].values()
    for key in ("records", "fields_compared", "wrong", "records_not_found"):
        assert sum(b[key] for b in per_backoffice) == keyed[key], key
    assert 0 <= result["wrong_keyed"] == keyed["wrong"] <= keyed["fields_compared"]
    assert keyed["fields_compared"] >= 5 * keyed["records"]


def test_every_timed_figure_has_its_spread(bench: tuple[dict[str, Any], Path]) -> None:
    result, _ = bench
    timed = [k for k, v in result["speed"].items() if k in RATIOS and v is not None]
    assert {"keying_vs_script", "keying_in_batch", "batch_overhead"} <= set(timed)
    for name in timed:
        spread = result["speed"][f"{name}_spread"]
        assert spread["min"] <= spread["median"] <= spread["max"], name
        assert spread["repeats"] >= 1, name
    assert result["speed"]["keying_in_batch"] > 0


def test_held_out_corpus_goes_through_the_flow_too(bench: tuple[dict[str, Any], Path]) -> None:
    result, _ = bench
    held = result["holdout_stp"]
    detail = result["holdout_stp_detail"]
    assert sum(d["documents"] for d in detail.values()) == N
    through = sum(d["straight_through"] for d in detail.values())
    assert held["all_documents"] == round(through / N, 4)
    passed = through - held["planted_through"]
    may_pass = sum(d["may_pass"] for d in detail.values())
    assert held["all"] == (round(passed / may_pass, 4) if may_pass else 0.0)
    assert set(held["rows"]) == set(detail)
    assert 0 <= held["wrong_keyed"] <= held["fields_compared"]
    assert held["records"] >= sum(d["straight_through"] for d in detail.values())


def test_calibration_bins_cover_every_field_read(bench: tuple[dict[str, Any], Path]) -> None:
    result, out = bench
    for side in ("development", "holdout"):
        figures = result["calibration"][side]
        bins = figures["bins"]
        assert sum(b["readings"] for b in bins) == figures["readings"] > 0, side
        for b in bins:
            if b["readings"]:
                lo, hi = (float(x) for x in b["bin"].split("–"))
                assert lo <= b["predicted"] <= hi and 0 <= b["observed"] <= 1, b
                assert b["wrong"] == round(b["readings"] * (1 - b["observed"])), b
        assert 0 <= figures["brier"] <= 1
    assert "## Calibration" in (out / "latest.md").read_text(encoding="utf-8")
