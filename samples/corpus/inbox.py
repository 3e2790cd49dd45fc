"""The demo inbox: a few digital claim forms with their truth beside them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rekey.models import Truth
from samples.corpus.claim_form import render_claim_pdf
from samples.corpus.values import claim_values

INBOX_SEEDS = (11, 12, 13)
INBOX_TODAY = date(2026, 11, 1)


def write_claim(out: Path, name: str, seed: int, today: date = INBOX_TODAY) -> Path:
    values = claim_values(seed, today)
    pdf = render_claim_pdf(
        out / f"{name}.pdf", values.display, values.ticks, values.expenses, values.expenses_total
    )
    truth = Truth(doc_type="claim", kind="claim", fields=values.truth, pages=2, seed=seed)
    (out / f"{name}.truth.json").write_text(
        json.dumps(truth.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    )
    return pdf


def write_inbox(out: Path) -> list[Path]:
    return [write_claim(out, f"claim-{seed}", seed) for seed in INBOX_SEEDS]
