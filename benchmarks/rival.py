"""rekey vs invoice2data on the digital claim forms: time and field accuracy.

invoice2data runs with its pdfplumber input module and the template kept in
``benchmarks/invoice2data/claim.yml``. Accuracy is over the fields both templates extract,
scored with the same :func:`benchmarks.scoring.same` as the accuracy pass.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from benchmarks import timing
from benchmarks.figures import Context, Missing, figure
from benchmarks.scoring import kind_of, ratio, same
from extractors.templates import load_templates
from rekey import pipeline

TEMPLATES = Path(__file__).parent / "invoice2data"
DOCS = 10
DOC_TYPE = "claim"
NOT_FIELDS = {"issuer", "template_name", "desc", "currency_code", "lines"}


def their_value(value: Any) -> str | None:
    """invoice2data's typed output as the canonical text the truth uses."""
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def forget_text() -> None:
    """Empty invoice2data's per-file text cache (``input._cached_to_text``), if it has one."""
    import invoice2data.input as inputs

    cached = getattr(inputs, "_cached_to_text", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def _invoice2data() -> tuple[Any, Any, Any]:
    try:
        from invoice2data import extract_data
        from invoice2data.extract.loader import read_templates
        from invoice2data.input import pdfplumber as pdfplumber_input
    except ImportError as exc:
        raise Missing(
            f"invoice2data is not installed ({exc}); run scripts/bootstrap --bench"
        ) from exc
    logging.getLogger("invoice2data").setLevel(logging.CRITICAL)
    return extract_data, read_templates, pdfplumber_input


@figure("speed.vs_invoice2data")
def vs_invoice2data(ctx: Context) -> dict[str, Any]:
    extract_data, read_templates, pdfplumber_input = _invoice2data()
    docs = ctx.pick(
        lambda d: (
            d.truth.doc_type == DOC_TYPE
            and d.truth.rendition == "digital"
            and d.truth.container == "pdf"
        ),
        DOCS,
    )
    if not docs:
        raise Missing("no digital claim form in the corpus")
    ours = {t.doc_type: t for t in load_templates(ctx.settings.templates_dir).values()}
    if DOC_TYPE not in ours:
        raise Missing(f"rekey has no template for doc_type {DOC_TYPE!r}")
    templates = read_templates(str(TEMPLATES))
    theirs_fields = {
        name for t in templates for name in t["fields"] if not name.startswith("static_")
    }
    types = {name: spec.type for name, spec in ours[DOC_TYPE].fields.items()}
    shared = sorted((set(types) & theirs_fields) - NOT_FIELDS)

    results: dict[str, list[Any]] = {"rekey": [], "baseline": []}

    def rekey() -> None:
        results["rekey"] = [
            pipeline.extract(pipeline.read(d.path)[1], ctx.settings)[1] for d in docs
        ]

    def baseline() -> None:
        forget_text()  # invoice2data memoizes each file's text; every run reads afresh
        results["baseline"] = [
            extract_data(str(d.path), templates=templates, input_module=pdfplumber_input)
            for d in docs
        ]

    times = timing.interleaved(rekey, baseline, ctx.repeat)
    detail = timing.summary(times)
    if detail["ratio"] is None:
        raise Missing("invoice2data took no measurable time")

    total = our_correct = their_correct = 0
    for doc, our_fields, their_output in zip(
        docs, results["rekey"], results["baseline"], strict=True
    ):
        for name in shared:
            truth = doc.truth.fields.get(name)
            kind = kind_of(truth, types.get(name))
            ours_value = our_fields[name].value if name in our_fields else None
            total += 1
            our_correct += same(truth, ours_value, kind)
            their_correct += same(truth, their_value(their_output.get(name)), kind)
    ctx.extra.setdefault("speed_details", {})["vs_invoice2data"] = detail | {
        "documents": len(docs),
        "fields_compared": shared,
        "input_module": "invoice2data.input.pdfplumber",
        "template": "benchmarks/invoice2data/claim.yml",
    }
    return {
        "time_ratio": detail["ratio"],
        "time_ratio_spread": detail["ratio_spread"],
        "our_field_accuracy": ratio(our_correct, total),
        "their_field_accuracy": ratio(their_correct, total),
        "documents": len(docs),
        "fields": len(shared),
    }
