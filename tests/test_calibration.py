"""Confidence as a calibrated probability: the curves' file, their fit and their use."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.calibrate import Observation, brier, fit, fit_curve, reliability
from extractors.calibration import (
    CALIBRATION,
    DOUBT_CAP,
    Calibration,
    Curve,
    agreed,
    calibrated,
    curve_keys,
    evidence_of,
    load_calibration,
    probability,
)
from extractors.templates import FieldSpec
from rekey.errors import ConfigError
from rekey.models import Field


def spec(**kw) -> FieldSpec:
    return FieldSpec(locators=[{"kind": "label", "text": "Name"}], **kw)


def test_evidence_names_how_a_value_was_read_and_what_checks_it() -> None:
    assert evidence_of(spec(type="date"), scanned=True) == "scan/typed"
    assert evidence_of(spec(check_digits=["iban"]), scanned=True) == "scan/checked"
    assert evidence_of(spec(values=["a", "b"]), scanned=False) == "text/listed"
    assert evidence_of(spec(type="checkbox"), scanned=True) == "scan/mark"
    assert evidence_of(spec(), scanned=False) == "text/free"


def test_a_step_of_readings_all_right_is_shrunk_by_one_wrong_reading() -> None:
    ten = fit_curve([0.9] * 10, [True] * 10)
    assert ten.at(0.9) == pytest.approx(10 / 11, abs=1e-3)
    thousand = fit_curve([0.9] * 1000, [True] * 1000)
    assert thousand.at(0.9) == pytest.approx(1000 / 1001, abs=1e-3)


def test_the_fitted_curve_rises_with_raw_confidence_and_matches_the_shares() -> None:
    raw = [0.2] * 50 + [0.6] * 100 + [0.95] * 200
    right = [i < 10 for i in range(50)] + [i < 70 for i in range(100)] + [True] * 200
    curve = fit_curve(raw, right)
    assert curve.at(0.2) == pytest.approx(10 / 51, abs=0.01)
    assert curve.at(0.6) == pytest.approx(70 / 101, abs=0.01)
    assert curve.at(0.95) == pytest.approx(200 / 201, abs=0.01)
    assert curve.probability == sorted(curve.probability)


def test_fit_gives_curves_per_evidence_per_medium_and_overall() -> None:
    observed = [Observation("scan/typed", 0.9, 0.9, True)] * 30
    observed += [Observation("text/free", 1.0, 1.0, True)] * 30
    curves = fit(observed, "test").curves
    assert set(curves) == {"scan/typed", "scan", "text/free", "text", "*"}
    assert curves["*"].readings == 60
    # evidence the corpus never showed falls back to its medium's curve, then to all
    assert probability(Calibration(fitted_on="t", curves=curves), "scan/mark", 0.9) == (
        pytest.approx(curves["scan"].at(0.9))
    )


def test_a_doubted_reading_is_never_confident() -> None:
    curve = Curve(raw=[0, 1], probability=[0.6, 1.0], readings=9)
    curves = Calibration(fitted_on="t", curves={"*": curve})
    assert probability(curves, "scan/free", 0.2) == pytest.approx(0.68)  # calibrated, and
    assert probability(curves, "scan/free", 0.5) == DOUBT_CAP  # a named doubt is capped
    assert probability(curves, "scan/free", 0.8) == pytest.approx(0.92)


def test_calibrated_keeps_the_raw_confidence_and_says_so() -> None:
    curves = Calibration(
        fitted_on="t",
        curves={"scan/typed": Curve(raw=[0.7, 0.9], probability=[0.8, 0.99], readings=9)},
    )
    read = {
        "date": Field(name="date", value="2026-01-02", confidence=0.9, evidence="scan/typed"),
        "none": Field(name="none", value=None, confidence=0.0, evidence="scan/typed"),
    }
    out = calibrated(read, curves)
    assert out["date"].confidence == pytest.approx(0.99)
    assert out["date"].read_confidence == 0.9
    assert "calibrated from 0.90" in out["date"].how
    assert out["none"] == read["none"]
    assert calibrated(out, curves)["date"].confidence == pytest.approx(0.99)  # only once


def test_the_calibration_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "calibration.yaml"
    bad.write_text(
        "fitted_on: x\ncurves:\n  scan/typed: {raw: [0.1, 0.9], probability: [0.9, 0.2], "
        "readings: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"calibration\.yaml: curves\.scan/typed.*must not fall"):
        load_calibration(bad)
    bad.write_text("fitted_on: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read the calibration"):
        load_calibration(bad)


def test_the_shipped_calibration_covers_every_medium() -> None:
    shipped = load_calibration(CALIBRATION)
    assert {"*", "scan", "text"} <= set(shipped.curves)
    assert "corpus seed 7" in shipped.fitted_on  # fitted on the development seed only


def test_reliability_bins_compare_predicted_with_observed() -> None:
    observed = [Observation("scan/free", 0.9, 0.92, i < 9) for i in range(10)]
    observed += [Observation("text/free", 1.0, 1.0, True)] * 5
    rows = {r["bin"]: r for r in reliability(observed)}
    assert rows["0.9–0.95"] == {
        "bin": "0.9–0.95",
        "readings": 10,
        "predicted": 0.92,
        "observed": 0.9,
        "wrong": 1,
    }
    assert rows["0.995–1"]["readings"] == 5
    assert brier(observed) == pytest.approx((9 * 0.08**2 + 0.92**2) / 15, abs=1e-4)


def test_two_agreeing_readings_are_evidence_unless_a_stronger_check_vouches() -> None:
    read = Field(name="n", value="Anna", confidence=0.9, evidence="scan/free")
    assert agreed(read).evidence == "scan/agreed"
    assert agreed(read.model_copy(update={"evidence": "scan/typed"})).evidence == "scan/agreed"
    for stronger in ("scan/checked", "scan/mark"):
        kept = read.model_copy(update={"evidence": stronger})
        assert agreed(kept).evidence == stronger
    # an MRZ's check digits can pass for a misread number: the page's print agreeing counts
    assert agreed(read.model_copy(update={"evidence": "scan/mrz"})).evidence == "scan/agreed"
    assert curve_keys("scan/agreed") == ["scan/agreed", "scan", "*"]
