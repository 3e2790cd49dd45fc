"""The Ledgerline keying benchmark's baseline, the hand-written Playwright script, really
keys account openings: in each input mode it leaves one record in Ledgerline (fields
shuffled on every render) with the case's values, and finds it instead of keying it again."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest

from benchmarks.spa_keying import SpaScriptKeyer
from rekey.settings import Settings
from samples.spa.server import running_spa

VALUES = {
    "full_name": "Siobhán O'Brien-Ångström",
    "date_of_birth": "1979-12-15",
    "nationality": "Ireland",
    "id_type": "Driving licence",
    "id_number": "D4471923",
    "address_line1": "Flat 11, 840 Robert Spurs",
    "address_line2": "Galway H91 X2Y3",
    "phone": "091 123 456",
    "email": "aoife@example.ie",
    "occupation": "Solicitor",
    "employer": "Byrne & Co",
    "income_band": "< 25,000",
    "source_of_funds": "",
    "tax_residency": "IE",
    "pep": "True",
}


@pytest.mark.parametrize("mode", ["fast", "trusted"])
def test_the_script_keys_an_account_opening_with_its_values(tmp_path: Path, mode: str):
    password = secrets.token_urlsafe(12)
    db_path = tmp_path / "spa.db"
    values = VALUES | {"external_reference": f"script-{mode}-{secrets.token_hex(4)}"}
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    with running_spa(db_path, {"clerk": password}, shuffle=True) as url:
        keyer = SpaScriptKeyer(
            url, "clerk", password, settings.chromium_path, settings.browser_timeout_ms, mode=mode
        )
        with keyer:
            reference = keyer.key(values)
            again = keyer.key(values)  # found by its external ref, not keyed twice

    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("SELECT reference, external_ref, payload FROM records").fetchall()
    finally:
        con.close()
    assert reference.startswith("LL-") and again == reference
    ((ref, ext_ref, payload),) = rows
    assert (ref, ext_ref) == (reference, values["external_reference"])
    stored = json.loads(payload)["values"]
    assert stored["address"] == "Flat 11, 840 Robert Spurs\nGalway H91 X2Y3"
    assert stored["date_of_birth"] == "1979-12-15" and stored["pep"] == "Yes"
    same = ("full_name", "nationality", "id_type", "income_band", "source_of_funds", "employer")
    assert {k: stored[k] for k in same} == {k: values[k] for k in same}
