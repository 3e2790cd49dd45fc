"""``make calibrate``: fit the curves that make a field's confidence a probability.

python -m benchmarks.calibrate                  # the development corpus (seed 7, 600 documents)
python -m benchmarks.calibrate --seed 7 --n 600 --out extractors/calibration.yaml

Every document of the development corpus is read, extracted and checked as the accuracy
pass does (:func:`benchmarks.accuracy.run_pass`); each field that was read becomes one
observation: its evidence (:func:`extractors.calibration.evidence_of`), its raw confidence
and whether it was right against the truth. Per evidence, and pooled per medium (``scan``,
``text``) and overall (``*``) for evidence the corpus lacks, an isotonic regression gives
the share right as raw confidence rises; each of its steps is then shrunk towards doubt by
one wrong reading added to its count (``right / (readings + 1)``: a step of ten readings all
right is 0.91, of a thousand 0.999); a narrower curve's steps towards the wider curve
(worth 20 readings, so a kind of evidence seldom seen borrows from its medium) and above it
only as far as one wrong reading added to their own count allows; then made monotone
again. Six hundred documents give the steps enough readings that a kind of evidence
right every time can reach 0.99 (a step of n readings all right is n/(n+1)). Only the
development seed is ever fitted on: ``make bench`` judges the curves on its held-out seed (figure
``calibration``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.figures import CorpusDoc
from benchmarks.machine import git_commit
from benchmarks.scoring import score_fields
from extractors.calibration import CALIBRATION, Calibration, Curve, curve_keys
from rekey.settings import PROJECT_ROOT

CORPUS_ROOT = PROJECT_ROOT / "var" / "corpus"
BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)


@dataclass(frozen=True)
class Observation:
    evidence: str
    raw: float  # the confidence before calibration
    confidence: float  # as the field came out (calibrated when a curve applied)
    right: bool
    document: str = ""
    field: str = ""
    value: str | None = None
    truth: Any = None
    doubt: str = ""  # a doubt rekey named: never calibrated above the cap


def observations(docs: Sequence[CorpusDoc], runs: Sequence[dict[str, Any]]) -> list[Observation]:
    """One per field read (a value extracted) on a document whose template matched."""
    out = []
    for doc, run in zip(docs, runs, strict=True):
        fields = run.get("fields") or {}
        scores = score_fields(doc.truth.fields, fields, run.get("template_types"))
        for s in scores:
            got = fields.get(s.name)
            if not got or got.get("value") is None or not s.in_template:
                continue
            raw = got.get("read_confidence")
            raw = got["confidence"] if raw is None else raw
            evidence = got.get("evidence") or ""
            confidence = float(got["confidence"])
            out.append(
                Observation(
                    evidence,
                    float(raw),
                    confidence,
                    s.correct,
                    doc.name,
                    s.name,
                    s.extracted,
                    s.truth,
                    got.get("doubt") or "",
                )
            )
    return out


PRIOR_READINGS = 20  # a step of a narrower curve counts its wider curve as this many readings


def fit_curve(raw: Sequence[float], right: Sequence[bool], prior: Curve | None = None) -> Curve:
    """Isotonic share right by raw confidence, each step shrunk towards doubt. Without
    ``prior`` (the widest curve): one wrong reading added to its count. With it (the wider
    curve, at the step's raw confidence): the wider curve counts as :data:`PRIOR_READINGS`
    more readings, and the step rises above it only as far as one wrong reading added to
    its own count allows."""
    from sklearn.isotonic import IsotonicRegression

    x, y = np.asarray(raw, float), np.asarray(right, float)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(x, y)
    fitted = iso.predict(x)
    steps: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for xi, yi, fi in zip(x, y, fitted, strict=True):
        steps[round(float(fi), 9)].append((xi, yi))
    middles, shares, weights = [], [], []
    for points in steps.values():
        xs, ys = zip(*points, strict=True)
        middle = float(np.mean(xs))
        if prior is None:
            share, weight = sum(ys) / (len(ys) + 1), len(ys) + 1
        else:
            weight = len(ys) + PRIOR_READINGS
            wider = prior.at(middle)
            share = (sum(ys) + PRIOR_READINGS * wider) / weight
            # above the wider curve only as far as its own readings allow
            share = min(share, max(wider, len(ys) / (len(ys) + 1)))
        middles.append(middle)
        shares.append(share)
        weights.append(weight)
    order = np.argsort(middles)
    middles = np.asarray(middles)[order]
    smooth = IsotonicRegression(y_min=0, y_max=1).fit(
        middles, np.asarray(shares)[order], sample_weight=np.asarray(weights)[order]
    )
    probability = smooth.predict(middles)
    keep = np.concatenate([[True], np.diff(middles) > 0])
    return Curve(
        raw=[round(float(v), 4) for v in middles[keep]],
        probability=[round(float(v), 4) for v in probability[keep]],
        readings=len(x),
    )


def fit(observed: Iterable[Observation], fitted_on: str) -> Calibration:
    """A curve overall (``*``), per medium (shrunk towards the overall one) and per
    evidence (shrunk towards its medium's)."""
    groups: dict[str, list[Observation]] = defaultdict(list)
    for o in observed:
        for key in curve_keys(o.evidence):
            groups[key].append(o)
    curves: dict[str, Curve] = {}
    for key in sorted(groups, key=lambda k: (k != "*", "/" in k, k)):  # wider curves first
        wider = curve_keys(key)[1:2] if key != "*" else []
        prior = curves.get(wider[0]) if wider else None
        group = groups[key]
        curves[key] = fit_curve([o.raw for o in group], [o.right for o in group], prior)
    return Calibration(fitted_on=fitted_on, curves=dict(sorted(curves.items())))


def reliability(observed: Iterable[Observation], bins: Sequence[float] = BINS) -> list[dict]:
    """Predicted (mean confidence) against observed (share right), per confidence bin."""
    rows = []
    observed = list(observed)
    for lo, hi in itertools.pairwise(bins):
        inside = [o for o in observed if lo <= o.confidence < hi or o.confidence == hi == 1.0]
        if not inside:
            rows.append({"bin": f"{lo:.3g}–{hi:.3g}", "readings": 0})
            continue
        predicted = float(np.mean([o.confidence for o in inside]))
        right = float(np.mean([o.right for o in inside]))
        rows.append(
            {
                "bin": f"{lo:.3g}–{hi:.3g}",
                "readings": len(inside),
                "predicted": round(predicted, 4),
                "observed": round(right, 4),
                "wrong": sum(not o.right for o in inside),
            }
        )
    return rows


def brier(observed: Iterable[Observation]) -> float | None:
    pairs = [(o.confidence, float(o.right)) for o in observed]
    return round(float(np.mean([(p - r) ** 2 for p, r in pairs])), 4) if pairs else None


def commit() -> str:
    """The commit the curves are fitted at, as the calibration file names it."""
    return str(git_commit()["commit"] or "unknown commit")[:12]


def read_corpus(n: int, seed: int, root: Path, workers: int) -> tuple[list, list]:
    """The accuracy pass over corpus ``seed`` of ``n`` documents: its documents and runs."""
    from benchmarks.accuracy import run_pass
    from benchmarks.corpus import corpus_today, ensure, load_documents
    from benchmarks.figures import Context, with_overrides
    from rekey.settings import Settings

    folder = ensure(n, seed, root)
    with tempfile.TemporaryDirectory(prefix="rekey-calibrate-") as work:
        settings = with_overrides(Settings(), data_dir=Path(work) / "var")
        documents = load_documents(folder)
        ctx = Context(
            settings=settings,
            corpus=folder,
            documents=documents,
            today=corpus_today(folder),
            out=Path(work),
            work=Path(work),
            workers=workers,
            seed=seed,
        )
        return documents, run_pass(ctx).runs


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__)
    p.add_argument("--n", type=int, default=600, help="corpus size (default 600)")
    p.add_argument("--seed", type=int, default=7, help="development corpus seed (default 7)")
    p.add_argument("--corpus-root", type=Path, default=CORPUS_ROOT)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=CALIBRATION)
    p.add_argument("--dump", type=Path, help="also write the observations here (JSON lines)")
    args = p.parse_args(argv)
    documents, runs = read_corpus(args.n, args.seed, args.corpus_root, args.workers)
    observed = observations(documents, runs)
    if args.dump:
        lines = (json.dumps(o.__dict__) for o in observed)
        args.dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    what = f"corpus seed {args.seed}, {args.n} documents, {len(observed)} readings, {commit()}"
    calibration = fit(observed, what)
    args.out.write_text(
        "# make calibrate writes this file (benchmarks/calibrate.py); do not edit by hand\n"
        + yaml.safe_dump(calibration.model_dump(), sort_keys=False, width=100),
        encoding="utf-8",
    )
    print(f"{args.out}: {len(calibration.curves)} curves from {what}")
    for row in reliability(replace(o, confidence=_p(calibration, o)) for o in observed):
        print(row)


def _p(calibration: Calibration, o: Observation) -> float:
    from extractors.calibration import probability

    p = probability(calibration, o.evidence, o.raw, o.doubt)
    return o.raw if p is None else p


if __name__ == "__main__":
    main()
