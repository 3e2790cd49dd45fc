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


# Claims the demo sends to the review station: (seed, printed values that differ, what a
# reviewer corrects them to). The amounts differ from the inbox's claims of the same policy,
# so neither is a duplicate of the other; they differ from the total of the expenses on page
# 2 too, and the reviewer confirms the amount claimed.
REVIEW_SAMPLES = (
    (
        11,
        {"currency": "GBPX", "amount_claimed": "812.40"},
        {"currency": "GBP", "amount_claimed": "812.40"},
    ),
    (
        13,
        {"claimant_name": "D. Richards", "amount_claimed": "14,250.00"},
        {"claimant_name": "Donna Richardson-Richardson", "amount_claimed": "14250.00"},
    ),
)


def write_review_inbox(out: Path, today: date = INBOX_TODAY) -> list[Path]:
    """Claims with a wrong value each, for the review station: a currency that is no
    currency, and a claimant name that does not match the policyholder (above the four-eyes
    amount). The truth files hold the values as printed; the corrections are in
    :data:`REVIEW_SAMPLES`."""
    written = []
    for seed, printed, _corrected in REVIEW_SAMPLES:
        values = claim_values(seed, today)
        values.display.update(printed)
        name = f"review-{seed}"
        written.append(
            render_claim_pdf(
                out / f"{name}.pdf",
                values.display,
                values.ticks,
                values.expenses,
                values.expenses_total,
            )
        )
        fields = {**values.truth, **{k: v.replace(",", "") for k, v in printed.items()}}
        truth = Truth(doc_type="claim", kind="claim", fields=fields, pages=2, seed=seed)
        (out / f"{name}.truth.json").write_text(
            json.dumps(truth.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        )
    return written
