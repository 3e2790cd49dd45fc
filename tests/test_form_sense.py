"""Values typed into a fillable form are checked like any other: a real W-9 filled with
junk, with two tax classifications ticked, or with both an SSN and an EIN, is never keyed
automatically; each says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from rekey import pipeline
from rekey.models import Case
from rekey.settings import Settings
from samples.corpus.irs import W9_BLANK, fill_form, forms_dir, w9_values

SEED = 3


def w9_case(tmp_path: Path, **changed: str) -> Case:
    values, _ = w9_values(SEED)
    values = {k: v for k, v in values.items() if not k.startswith("c1_1")} | changed
    values.setdefault("c1_1[0]", "/1")
    pdf = fill_form(forms_dir() / W9_BLANK, values, tmp_path / "docs" / "w9.pdf")
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case, _ = pipeline.intake(pdf, settings)
    return pipeline.understand(case, settings)


def rules_of(case: Case) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in case.findings:
        found.setdefault(finding.rule, []).extend(finding.fields)
    return found


def test_a_plausible_w9_passes_its_checks(tmp_path: Path) -> None:
    case = w9_case(tmp_path)
    assert case.doc_type == "w9"
    assert case.fields["tax_classification"].value == "individual"
    assert case.findings == [] and case.decision.route == "auto"


def test_junk_typed_into_a_w9_is_not_trusted(tmp_path: Path) -> None:
    junk = {"f1_1[0]": "sdsaddad", "f1_2[0]": "38472398dxkj", "f1_7[0]": "sdsaddad"}
    case = w9_case(tmp_path, **junk)
    assert case.decision.route != "auto"
    unsure = rules_of(case)["confidence"]
    assert {"business_name", "address"} <= set(unsure)
    assert "one word, for an address" in case.fields["address"].how


def test_two_tax_classifications_ticked_is_a_conflict_not_a_joined_value(tmp_path: Path) -> None:
    case = w9_case(tmp_path, **{"c1_1[5]": "/6"})
    field = case.fields["tax_classification"]
    assert field.value is None and field.several_ticked == ["individual", "llc"]
    assert rules_of(case)["several_ticked"] == ["tax_classification"]
    assert "confidence" not in rules_of(case)  # said once, as the conflict it is
    assert case.decision.route == "review"


def test_a_w9_with_both_an_ssn_and_an_ein_is_a_finding(tmp_path: Path) -> None:
    ssn = {"f1_11[0]": "123", "f1_12[0]": "45", "f1_13[0]": "6789"}
    case = w9_case(tmp_path, **ssn, **{"f1_14[0]": "12", "f1_15[0]": "3456789"})
    assert case.fields["ssn"].value and case.fields["ein"].value
    assert rules_of(case)["required"] == ["ssn", "ein"]
    assert case.decision.route == "review"


@pytest.fixture(autouse=True)
def _blank_is_there() -> None:
    assert (forms_dir() / W9_BLANK).is_file(), "samples/forms holds the W-9 blank"
