"""The keying benchmark's baseline, the hand-written Playwright script, really keys claims:
in each input mode it leaves one record in the back office with the claim's values."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from benchmarks.keying_script import ScriptKeyer

EXPENSES = [
    {"date": "2024-03-01", "description": "Taxi to hospital", "amount": "48.5"},
    {"date": "2024-03-02", "description": "Hotel stay (2 nights)", "amount": "1894.12"},
    {"date": "2024-03-04", "description": "Prescription medicine", "amount": "12.00"},
]


def claim(external_ref: str) -> dict[str, str]:
    return {
        "policy_number": "POL-2024-00042",
        "claimant_name": "Ana de la Cruz",
        "date_of_loss": "2024-02-29",
        "amount_claimed": "12345.5",
        "currency": "GBP",
        "loss_description": "Water damage to the kitchen ceiling.",
        "bank_account": "GB29NWBK60161331926819",
        "expenses": json.dumps(EXPENSES),
        "external_reference": external_ref,
    }


@pytest.mark.parametrize("mode", ["fast", "trusted"])
def test_the_script_keys_a_claim_with_its_values(backoffice, tmp_path: Path, mode: str):
    settings = backoffice.settings_for(tmp_path)
    values = claim(f"script-{mode}-{secrets.token_hex(4)}")
    keyer = ScriptKeyer(
        backoffice.url,
        backoffice.user,
        backoffice.password,
        settings.chromium_path,
        settings.browser_timeout_ms,
        mode=mode,  # type: ignore[arg-type]
    )
    with keyer:
        reference = keyer.key(values)
        again = keyer.key(values)  # found by its external ref, not keyed twice

    assert reference.startswith("CLM-") and again == reference
    (row,) = backoffice.claims(external_ref=values["external_reference"])
    assert row["reference"] == reference
    assert {k: row[k] for k in ("policy_number", "claimant_name", "date_of_loss")} == {
        "policy_number": "POL-2024-00042",
        "claimant_name": "Ana de la Cruz",
        "date_of_loss": "2024-02-29",
    }
    assert (row["amount"], row["currency"]) == ("12345.50", "GBP")
    assert row["description"] == "Water damage to the kitchen ceiling."
    assert row["payout_account"] == "GB29NWBK60161331926819"
    assert row["created_by"] == backoffice.user
    assert backoffice.lines(reference) == [
        {"date": "2024-03-01", "description": "Taxi to hospital", "amount": "48.50"},
        {"date": "2024-03-02", "description": "Hotel stay (2 nights)", "amount": "1894.12"},
        {"date": "2024-03-04", "description": "Prescription medicine", "amount": "12.00"},
    ]


def test_the_script_has_no_other_modes():
    with pytest.raises(ValueError, match="mode"):
        ScriptKeyer("http://127.0.0.1:9", "clerk", "pw", Path("/nowhere"), mode="type")  # type: ignore[arg-type]
