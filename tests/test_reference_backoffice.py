"""The policy register read from the back office's policy inquiry screen, in real Chromium.

The demo back office loads ``samples/reference/policies.csv`` into its own register, so the
screen must give exactly what the CSV register gives, and the rules must decide the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.backoffice import load_screens
from connectors.backoffice.policies import BackOfficePolicyRegister
from rekey import pipeline
from rekey.errors import ConfigError
from rekey.models import Case, Document, Field
from rekey.settings import PROJECT_ROOT
from validators.reference import CsvPolicyRegister, PolicyRegister

POLICIES = PROJECT_ROOT / "samples" / "reference" / "policies.csv"


def claim(**values: str) -> Case:
    return Case(
        document=Document(original_name="claim.pdf", sha256="1" * 64, size=1),
        doc_type="claim",
        fields={
            name: Field(name=name, value=value, confidence=1.0, threshold=0.8)
            for name, value in values.items()
        },
    )


def test_the_screen_gives_what_the_csv_gives(backoffice, tmp_path: Path) -> None:
    csv_register = CsvPolicyRegister.from_csv(POLICIES)
    with BackOfficePolicyRegister(backoffice.settings_for(tmp_path)) as screen:
        assert isinstance(screen, PolicyRegister)
        for number, expected in csv_register.policies.items():
            assert screen.lookup(number) == expected
        assert screen.lookup(" pol-137384 ") == csv_register.lookup("POL-137384")
        assert screen.lookup("POL-000000") is None


def test_the_rules_decide_the_same_on_either_register(backoffice, tmp_path: Path) -> None:
    settings = backoffice.settings_for(tmp_path, policies_csv=POLICIES)
    cases = {
        "lapsed": claim(policy_number="POL-900000", claimant_name="Ada Lovelace"),
        "unknown": claim(policy_number="POL-999999", claimant_name="Ada Lovelace"),
        "not the holder": claim(policy_number="POL-137384", claimant_name="Bob Smith"),
        "over coverage": claim(
            policy_number="POL-137384", claimant_name="Leonard Baxter", amount_claimed="25000.01"
        ),
    }
    expected_rule = {
        "lapsed": "policy_active",
        "unknown": "policy_not_found",
        "not the holder": "claimant_matches_holder",
        "over coverage": "over_coverage",
    }
    on_screen = settings.model_copy(update={"policy_register": "backoffice"})
    for name, case in cases.items():
        from_csv, _ = pipeline.check(case, settings)
        from_screen, _ = pipeline.check(case, on_screen)
        assert expected_rule[name] in {f.rule for f in from_screen}, name
        assert [f.model_dump() for f in from_screen] == [f.model_dump() for f in from_csv], name


def test_an_unknown_lookup_names_the_file_and_key() -> None:
    screens = load_screens(PROJECT_ROOT / "samples" / "screens")
    with pytest.raises(ConfigError, match=r"backoffice\.yaml.*lookups\.customers"):
        screens.lookup("customers")


def test_a_lookup_screen_whose_key_is_not_a_column_fails_at_load(tmp_path: Path) -> None:
    shipped = PROJECT_ROOT / "samples" / "screens"
    for path in shipped.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    screen = tmp_path / "policy_inquiry.yaml"
    screen.write_text(screen.read_text().replace("key: policy_number", "key: policy_no"))
    with pytest.raises(ConfigError, match=r"policy_inquiry\.yaml.*policy_no"):
        load_screens(tmp_path)
