from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rekey.errors import ConfigError
from rekey.models import Case, Document, Field
from rekey.settings import PROJECT_ROOT
from validators.engine import decide, run_rules
from validators.registry import RULES, RuleContext
from validators.rulesets import load_rulesets

RULES_DIR = PROJECT_ROOT / "samples" / "rules"
TODAY = date(2026, 11, 1)
GOOD = {
    "policy_number": "POL-123456",
    "claimant_name": "Ana O'Brien",
    "date_of_loss": "2026-10-01",
    "date_signed": "2026-10-03",
    "amount_claimed": "1234.56",
    "currency": "EUR",
}


def case_with(**values: str | None) -> Case:
    merged = GOOD | values
    return Case(
        document=Document(original_name="c.pdf", sha256="0" * 64, size=1),
        fields={
            name: Field(name=name, value=value, confidence=1.0, threshold=0.8, required=True)
            for name, value in merged.items()
        },
    )


def findings_for(case: Case) -> list[str]:
    ruleset = load_rulesets(RULES_DIR)["claim"]
    return [f.rule for f in run_rules(case, ruleset, RuleContext(today=TODAY))]


def test_a_clean_claim_raises_nothing_and_is_keyed_automatically() -> None:
    assert findings_for(case_with()) == []
    assert decide([], load_rulesets(RULES_DIR)["claim"]).route == "auto"


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"policy_number": None}, "required"),
        ({"date_of_loss": "2026-12-24"}, "not_future"),
        ({"amount_claimed": "0.00"}, "positive"),
        ({"amount_claimed": "-5.00"}, "positive"),
    ],
)
def test_each_basic_rule_catches_its_error(values: dict, rule: str) -> None:
    case = case_with(**values)
    found = findings_for(case)
    assert found == [rule]
    assert (
        decide(
            run_rules(case, load_rulesets(RULES_DIR)["claim"], RuleContext(today=TODAY)), None
        ).route
        == "review"
    )


def test_a_required_field_read_unsurely_goes_to_review() -> None:
    case = case_with()
    case.fields["amount_claimed"] = case.fields["amount_claimed"].model_copy(
        update={"confidence": 0.42}
    )
    assert findings_for(case) == ["confidence"]


def test_messages_name_the_field_for_a_reviewer() -> None:
    ruleset = load_rulesets(RULES_DIR)["claim"]
    finding = run_rules(case_with(date_of_loss="2027-01-05"), ruleset, RuleContext(today=TODAY))[0]
    assert finding.fields == ["date_of_loss"]
    assert "date of loss" in finding.message and "future" in finding.message


def test_unknown_rule_names_file_key_and_nearest_rule(tmp_path: Path) -> None:
    (tmp_path / "claim.yaml").write_text("doc_type: claim\nrules:\n  - rule: requird\n")
    load_rulesets.cache_clear()
    with pytest.raises(ConfigError) as err:
        load_rulesets(tmp_path)
    message = str(err.value)
    assert "claim.yaml" in message and "rules.0.rule" in message and "'required'" in message


def test_every_registered_rule_honours_the_contract() -> None:
    case = case_with()
    for name, fn in RULES.items():
        params = {"fields": list(GOOD)}
        assert isinstance(fn(case, params, RuleContext(today=TODAY)), list), name
