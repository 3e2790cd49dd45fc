"""Plan and write a corpus: documents of every kind and rendition, each with its truth.

``plan`` turns (n, seed, error share) into :class:`DocSpec` rows without touching the disk;
``build`` writes one document and its truth and returns the policy-register rows it needs;
``generate`` runs ``build`` over a process pool and writes ``policies.csv`` and
``manifest.json`` (the manifest last, so its presence marks a complete set).
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
from PIL import Image

from rekey.models import Truth
from samples.corpus import degrade, irs
from samples.corpus.account_form import ACCOUNT_ERRORS, account_values, render_account_pdf
from samples.corpus.batches import batch_rows, write_csv, write_xlsx
from samples.corpus.claim_form import render_claim_pdf
from samples.corpus.cn_claim_form import CN_CLAIM_ERRORS, cn_claim_values, render_cn_claim_pdf
from samples.corpus.passport import DPI as PASSPORT_DPI
from samples.corpus.passport import PASSPORT_ERRORS, passport_values, render_passport
from samples.corpus.values import CLAIM_ERRORS, claim_values

TODAY = date(2026, 11, 1)
KIND_WEIGHTS = {
    "claim": 30, "account_opening": 20, "claim_cn": 14, "passport": 12, "w9": 9,
    "cms1500": 9, "batch_csv": 3, "batch_xlsx": 3,
}  # fmt: skip
ERRORS = {
    "claim": CLAIM_ERRORS,
    "claim_cn": CN_CLAIM_ERRORS,
    "account_opening": ACCOUNT_ERRORS,
    "passport": PASSPORT_ERRORS,
    "batch_csv": ("under_18",),
    "batch_xlsx": ("under_18",),
}
RENDITION_WEIGHTS = {
    "digital": 25, "clean_scan": 30, "office_scan": 25, "bad_fax": 20, "print_scan": 20,
}  # fmt: skip
PRINT_SCAN_CONTAINERS = ("png", "jpg", "pdf")  # one page; several pages go to a PDF
SEVERAL_PAGES = {"claim"}  # kinds whose scans have more than one page
# the generator's own version: a corpus written by another is written again
GENERATOR_VERSION = 3
FORM_RENDITION_WEIGHTS = {"digital": 15, "flattened": 15} | {
    k: v for k, v in RENDITION_WEIGHTS.items() if k != "digital"
}
STAMP_FIELDS = {
    "claim": ["amount_claimed", "date_of_loss", "policy_number"],
    "claim_cn": ["amount_claimed", "date_of_loss", "policy_number"],
    "account_opening": ["date_of_birth", "id_number", "email"],
    "w9": ["f1_1[0]", "f1_7[0]"],
    "cms1500": ["pt_name", "insurance_id"],
}
PASSPORT_STAMP_BOX = (0.34, 0.5, 0.7, 0.56)  # over the date of birth
BATCH_ROWS = 20
PRINT_DPI = 300  # pages are rendered at this before they are printed
MANIFEST = "manifest.json"
POLICIES = "policies.csv"


@dataclass(frozen=True)
class DocSpec:
    index: int
    kind: str
    rendition: str
    container: str  # pdf, tiff, png, csv, xlsx
    seed: int
    error: str | None

    @property
    def name(self) -> str:
        return f"{self.index:04d}-{self.kind}-{self.rendition}"

    @property
    def policy_number(self) -> str:
        return f"POL-{(self.index * 7919 + 104729) % 900000 + 100000}"


def plan(n: int, seed: int, error_share: float = 0.2) -> list[DocSpec]:
    """``n`` document specs spread over the kinds and renditions, reproducible from ``seed``."""
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    specs = []
    for index in range(n):
        # Cycle through every kind first so that even a small n covers them all.
        kind = (
            kinds[index]
            if index < len(kinds)
            else rng.choices(kinds, weights=list(KIND_WEIGHTS.values()))[0]
        )
        specs.append(_spec(index, kind, rng, seed, error_share))
    return specs


def _spec(index: int, kind: str, rng: random.Random, seed: int, error_share: float) -> DocSpec:
    if kind.startswith("batch_"):
        rendition = container = kind.removeprefix("batch_")
    else:
        weights = FORM_RENDITION_WEIGHTS if kind in ("w9", "cms1500") else RENDITION_WEIGHTS
        rendition = rng.choices(list(weights), weights=list(weights.values()))[0]
        if rendition in ("digital", "flattened"):
            container = "png" if kind == "passport" else "pdf"
        elif rendition == "print_scan":
            container = rng.choice(PRINT_SCAN_CONTAINERS)
            container = "pdf" if kind in SEVERAL_PAGES else container
        else:
            container = rng.choice(["pdf", "pdf", "tiff"])
    error = None
    draw = rng.random()
    choice = rng.random()
    if kind in ERRORS and draw < error_share and not kind.startswith("batch_"):
        rules = ERRORS[kind]
        error = rules[int(choice * len(rules))]
    return DocSpec(index, kind, rendition, container, seed * 100_000 + index, error)


# -- building one document -----------------------------------------------------------------


def _truth_json(truth: Truth) -> str:
    return json.dumps(truth.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _policy_row(spec: DocSpec, truth: dict[str, Any]) -> list[dict[str, str]]:
    if spec.error == "policy_not_found":
        return []
    amount = Decimal(truth["amount_claimed"])
    rng = random.Random(f"policy-{spec.seed}")
    if spec.error == "over_coverage":
        coverage = (amount * Decimal(rng.uniform(0.3, 0.9))).quantize(Decimal("1"))
    else:
        step = Decimal(5000)
        coverage = (amount / step).to_integral_value(ROUND_UP) * step + step * rng.randrange(0, 10)
    return [
        {
            "policy_number": truth["policy_number"],
            "holder": truth["claimant_name"],
            "status": "active",
            "coverage": f"{coverage:.2f}",
            "currency": truth["currency"],
        }
    ]


def _stamp_box(pdf: Path, text: str) -> tuple[float, float, float, float]:
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        hits = page.search(text, regex=False) if text else []
        if not hits:
            return (0.3, 0.3, 0.6, 0.33)
        hit = hits[0]
        return (
            hit["x0"] / page.width,
            hit["top"] / page.height,
            hit["x1"] / page.width,
            hit["bottom"] / page.height,
        )


def build(spec: DocSpec, out: Path, forms: Path | None = None) -> list[dict[str, str]]:
    """Write one document and its truth into ``out``; return its policy-register rows."""
    out.mkdir(parents=True, exist_ok=True)
    if spec.kind.startswith("batch_"):
        return _build_batch(spec, out)
    meta: dict[str, Any] = {"container": spec.container}
    policies: list[dict[str, str]] = []
    stamp_text = ""
    shown: dict[str, str] = {}
    digital = out / f"{spec.name}.digital.pdf"
    pages = 1
    if spec.kind == "claim":
        values = claim_values(
            spec.seed, TODAY, error=spec.error, policy_number=spec.policy_number, varied=True
        )
        render_claim_pdf(
            digital, values.display, values.ticks, values.expenses, values.expenses_total
        )
        shown = values.display
        fields, pages = values.truth, 2
        policies = _policy_row(spec, fields)
    elif spec.kind == "claim_cn":
        values = cn_claim_values(
            spec.seed, TODAY, error=spec.error, policy_number=spec.policy_number
        )
        render_cn_claim_pdf(digital, values.display, values.ticks)
        shown = values.display
        fields = values.truth
        policies = _policy_row(spec, fields)
    elif spec.kind == "account_opening":
        values = account_values(spec.seed, TODAY, error=spec.error)
        render_account_pdf(digital, values.display, values.ticks)
        shown = values.display
        fields = values.truth
    elif spec.kind in ("w9", "cms1500"):
        acro, fields = (
            irs.w9_values(spec.seed) if spec.kind == "w9" else irs.cms1500_values(spec.seed, TODAY)
        )
        shown = acro
        blank = irs.forms_dir(forms) / irs.BLANKS[spec.kind]
        if spec.rendition == "digital":
            irs.fill_form(blank, acro, digital)
        else:
            irs.flatten_form(blank, acro, digital)
        pages = 6 if spec.kind == "w9" and spec.rendition in ("digital", "flattened") else 1
    elif spec.kind == "passport":
        fields = passport_values(spec.seed, TODAY, error=spec.error)
        shown: dict[str, str] = {}
        image = np.asarray(render_passport(fields))
    else:
        raise ValueError(f"unknown kind {spec.kind!r}")

    rendition = degrade.RENDITIONS.get(spec.rendition)
    target = out / f"{spec.name}.{spec.container}"
    skews: list[float]
    rotations: list[int]
    dpi: int | None
    if spec.rendition == "print_scan":
        picture = image if spec.kind == "passport" else None
        plans, dpi, pages = _print_scan(spec, digital, picture, pages)
        skews, rotations = [p.skew for p in plans], [0] * pages
        meta["container"] = spec.container
    elif rendition is None:  # digital or flattened
        dpi = None
        if spec.kind == "passport":
            Image.fromarray(image).save(target, dpi=(PASSPORT_DPI, PASSPORT_DPI))
            dpi = PASSPORT_DPI
        else:
            digital.replace(target)
        skews, rotations = [0.0] * pages, [0] * pages
    else:
        rng = np.random.default_rng(spec.seed)
        box = None
        if spec.kind == "passport":
            images = [degrade.resample(image, PASSPORT_DPI, rendition.dpi)]
            if rendition.stamp:
                box, meta["stamp_over"] = PASSPORT_STAMP_BOX, "date_of_birth"
        else:
            if rendition.stamp and spec.kind in STAMP_FIELDS:
                field = STAMP_FIELDS[spec.kind][spec.seed % len(STAMP_FIELDS[spec.kind])]
                stamp_text = shown.get(field, "")
                meta["stamp_over"] = field
                box = _stamp_box(digital, stamp_text)
            images = degrade.rasterise(digital, rendition.dpi, pages=pages)
        digital.unlink(missing_ok=True)
        plans = degrade.plan_pages(rendition, len(images), rng)
        if box is not None:
            images[0] = degrade.stamp(images[0], box, "RECEIVED")
        images = [
            degrade.degrade(im, rendition, p, rng) for im, p in zip(images, plans, strict=True)
        ]
        writer = degrade.write_tiff if spec.container == "tiff" else degrade.write_pdf
        writer(images, rendition.dpi, target)
        dpi, pages = rendition.dpi, len(images)
        skews, rotations = [p.skew for p in plans], [p.rotation for p in plans]
    digital.unlink(missing_ok=True)
    truth = Truth(
        doc_type=spec.kind,
        kind=spec.kind,
        rendition=spec.rendition,
        fields={k: v for k, v in fields.items() if k != "_formats"},
        formats=fields.get("_formats", {}),
        container=meta["container"],
        stamp_over=meta.get("stamp_over"),
        planted_error=spec.error,
        pages=pages,
        dpi=dpi,
        skew_degrees=skews,
        rotation=rotations,
        seed=spec.seed,
    )
    (out / f"{spec.name}.truth.json").write_text(_truth_json(truth), encoding="utf-8")
    return policies


def _print_scan(
    spec: DocSpec, digital: Path, picture: np.ndarray | None, pages: int
) -> tuple[list[degrade.PrintScan], int | None, int]:
    """Print the document's pages and scan them (:func:`degrade.print_and_scan`) into
    ``spec``'s file; returns the plans, the DPI tag written (None: none) and the pages."""
    rng = np.random.default_rng(spec.seed)
    if picture is not None:
        images = [picture]
        source_dpi = PASSPORT_DPI
    else:
        images, source_dpi = degrade.rasterise(digital, PRINT_DPI, pages=pages), PRINT_DPI
    plan = degrade.plan_print_scan(rng)
    if spec.container == "pdf":  # an image-only PDF has a page size: it always says its DPI
        plan = replace(plan, tagged=True)
    scans = [degrade.print_and_scan(im, source_dpi, plan, rng) for im in images]
    target = digital.parent / f"{spec.name}.{spec.container}"
    if spec.container == "pdf":
        degrade.write_pdf(scans, plan.dpi, target)
    else:
        save = {"dpi": (plan.dpi, plan.dpi)} if plan.tagged else {}
        kind = "JPEG" if spec.container == "jpg" else "PNG"
        quality = {"quality": 80} if kind == "JPEG" else {}
        Image.fromarray(scans[0]).save(target, kind, **save, **quality)
    return [plan] * len(scans), plan.dpi if plan.tagged else None, len(scans)


def _build_batch(spec: DocSpec, out: Path) -> list[dict[str, str]]:
    shown, rows = batch_rows(spec.seed, TODAY, BATCH_ROWS, error_share=0.1)
    target = out / f"{spec.name}.{spec.container}"
    (write_csv if spec.container == "csv" else write_xlsx)(target, shown)
    errors = sorted({r["_planted_error"] for r in rows if "_planted_error" in r})
    truth = Truth(
        doc_type="account_opening_batch",
        kind=spec.kind,
        rendition=spec.rendition,
        fields={"rows": rows},
        container=spec.container,
        planted_error=errors[0] if errors else None,
        pages=1,
        seed=spec.seed,
    )
    (out / f"{spec.name}.truth.json").write_text(_truth_json(truth), encoding="utf-8")
    return []


# -- the whole set -------------------------------------------------------------------------


def _decoy_policies(seed: int) -> list[dict[str, str]]:
    """Lapsed and cancelled policies that no clean claim refers to."""
    rng = random.Random(f"decoys-{seed}")
    return [
        {
            "policy_number": f"POL-{900000 + i:06d}"[:10],
            "holder": holder,
            "status": status,
            "coverage": f"{rng.randrange(5, 100) * 1000}.00",
            "currency": rng.choice(["EUR", "GBP", "USD", "CNY"]),
        }
        for i, (holder, status) in enumerate(
            [("Ada Lovelace", "lapsed"), ("Grace Hopper", "cancelled"), ("张三", "lapsed")]
        )
    ]


def write_policies(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    ordered = sorted(rows, key=lambda r: r["policy_number"])
    numbers = [r["policy_number"] for r in ordered]
    if len(numbers) != len(set(numbers)):
        raise ValueError("duplicate policy numbers in the register")
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, ["policy_number", "holder", "status", "coverage", "currency"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(ordered)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _build_star(args: tuple[DocSpec, Path, Path | None]) -> list[dict[str, str]]:
    return build(*args)


def generate(
    out: Path,
    n: int,
    seed: int,
    error_share: float = 0.2,
    forms: Path | None = None,
    workers: int = 2,
    specs: list[DocSpec] | None = None,
) -> Path:
    """Write ``n`` documents, ``policies.csv`` and ``manifest.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    specs = specs if specs is not None else plan(n, seed, error_share)
    jobs = [(spec, out, forms) for spec in specs]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_build_star, jobs))
    else:
        results = [_build_star(job) for job in jobs]
    write_policies(out / POLICIES, [r for rows in results for r in rows] + _decoy_policies(seed))
    manifest = {
        "seed": seed,
        "n": len(specs),
        "generator": GENERATOR_VERSION,
        "error_share": error_share,
        "today": TODAY.isoformat(),
        "policies": POLICIES,
        "documents": [
            asdict(s) | {"file": f"{s.name}.{s.container}", "truth": f"{s.name}.truth.json"}
            for s in specs
        ],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def is_complete(folder: Path) -> bool:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    written = json.loads(manifest.read_text())
    if written.get("generator") != GENERATOR_VERSION:
        return False
    docs = written["documents"]
    return all((folder / d["file"]).is_file() and (folder / d["truth"]).is_file() for d in docs)


def ensure_corpus(
    n: int, seed: int, root: Path = Path("var/corpus"), error_share: float = 0.2,
    forms: Path | None = None,
) -> Path:  # fmt: skip
    """The corpus for (n, seed) under ``root``, generated only if no complete copy exists."""
    folder = root / f"{seed}-{n}"
    if not is_complete(folder):
        generate(folder, n, seed, error_share, forms)
    return folder


# The small committed set: one of each kind in a couple of renditions.
SMALL_SEED = 7
SMALL_PLAN = [
    ("claim", "digital", "pdf", None),
    ("claim", "office_scan", "pdf", "over_coverage"),
    ("claim", "bad_fax", "tiff", None),
    ("account_opening", "digital", "pdf", None),
    ("account_opening", "clean_scan", "pdf", "under_18"),
    ("claim_cn", "digital", "pdf", None),
    ("claim_cn", "clean_scan", "tiff", "id_checksum"),
    ("passport", "digital", "png", None),
    ("passport", "office_scan", "pdf", None),
    ("w9", "digital", "pdf", None),
    ("w9", "flattened", "pdf", None),
    ("cms1500", "digital", "pdf", None),
    ("cms1500", "bad_fax", "pdf", None),
    ("batch_csv", "csv", "csv", None),
    ("batch_xlsx", "xlsx", "xlsx", None),
]


def small_specs(seed: int = SMALL_SEED) -> list[DocSpec]:
    return [
        DocSpec(i, kind, rendition, container, seed * 100_000 + i, error)
        for i, (kind, rendition, container, error) in enumerate(SMALL_PLAN)
    ]


def write_small(out: Path, forms: Path | None = None, workers: int = 2) -> Path:
    """Regenerate the committed small set deterministically."""
    for old in out.glob("*"):
        if old.is_file():
            old.unlink()
    specs = small_specs()
    return generate(out, len(specs), SMALL_SEED, 0.0, forms, workers, specs=specs)
