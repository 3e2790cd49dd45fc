from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rekey.errors import ConfigError
from rekey.models import Case, Document, Field, Finding
from rekey.settings import PROJECT_ROOT
from validators.duplicates import InMemoryCaseHistory
from validators.engine import decide, run_rules
from validators.reference import Policy, PolicyRegister
from validators.registry import RULES, Params, RuleContext, rule
from validators.rulesets import RuleSet, load_ruleset, load_rulesets

RULES_DIR = PROJECT_ROOT / "samples" / "rules"
TODAY = date(2026, 11, 1)
GOOD = {
    "policy_number": "POL-123456",
    "claimant_name": "Ana O'Brien",
    "id_type": "Passport",
    "id_number": "N74603057",
    "date_of_birth": "1975-07-16",
    "email": "ana@example.org",
    "date_of_loss": "2026-10-01",
    "date_signed": "2026-10-03",
    "amount_claimed": "1234.56",
    "currency": "EUR",
    "bank_account": "DE12763296552537762124",
    "signature": "true",
}
APPLICANT = {
    "full_name": "Jason Schultz",
    "date_of_birth": "1990-11-14",
    "nationality": "United States",
    "id_type": "Passport",
    "id_number": "X14922293",
    "address_line1": "934 Donovan Mountains",
    "tax_residency": "US",
    "email": "zlee@example.net",
    "signature": "yes",
    "date_signed": "2026-09-04",
}


class Register:
    """A PolicyRegister in a dict: the Protocol needs only ``lookup``."""

    def __init__(self, *policies: Policy):
        self.policies = {p.policy_number: p for p in policies}

    def lookup(self, policy_number: str) -> Policy | None:
        return self.policies.get(policy_number)


REGISTER = Register(
    Policy("POL-123456", "Ana O'Brien", "active", Decimal("5000.00"), "EUR"),
    Policy("POL-900000", "Ada Lovelace", "lapsed", Decimal("33000.00"), "GBP"),
)


def make_case(doc_type: str, values: dict[str, str | None], **overrides: str | None) -> Case:
    merged = values | overrides
    return Case(
        document=Document(original_name=f"{doc_type}.pdf", sha256="0" * 64, size=1),
        doc_type=doc_type,
        created_at=datetime(2026, 10, 20, tzinfo=UTC),
        fields={
            name: Field(name=name, value=value, confidence=1.0, threshold=0.8)
            for name, value in merged.items()
        },
    )


def claim(**overrides: str | None) -> Case:
    return make_case("claim", GOOD, **overrides)


def applicant(**overrides: str | None) -> Case:
    return make_case("account_opening", APPLICANT, **overrides)


def context(**kw: object) -> RuleContext:
    return RuleContext(today=TODAY, reference={"policies": REGISTER}, **kw)  # type: ignore[arg-type]


def check(case: Case, ctx: RuleContext | None = None) -> list[Finding]:
    return run_rules(case, load_rulesets(RULES_DIR)[case.doc_type or ""], ctx or context())


def errors(case: Case, ctx: RuleContext | None = None) -> list[str]:
    return [f.rule for f in check(case, ctx) if f.severity == "error"]


def test_the_register_in_the_tests_is_a_policy_register() -> None:
    assert isinstance(REGISTER, PolicyRegister)


def test_a_clean_claim_raises_nothing_and_is_keyed_automatically() -> None:
    findings = check(claim())
    assert findings == []
    assert decide(findings, load_rulesets(RULES_DIR)["claim"]).route == "auto"


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"policy_number": None}, "required"),
        ({"date_of_loss": "07/10/2026"}, "format"),
        ({"email": "ana.example.org"}, "format"),
        ({"date_of_birth": "2027-01-01"}, "not_future"),
        ({"amount_claimed": "0.00"}, "amount_range"),
        ({"amount_claimed": "-5.00"}, "amount_range"),
        ({"signature": "false"}, "signature_missing"),
        ({"signature": None}, "signature_missing"),
        ({"date_signed": "2026-09-20"}, "loss_after_signature"),
        ({"date_signed": "2026-10-25"}, "signed_after_received"),
        ({"policy_number": "POL-000001"}, "policy_not_found"),
        ({"bank_account": "DE12763296552537762125"}, "bank_account"),
        ({"id_type": "居民身份证", "id_number": "36042619910102009X"}, "id_checksum"),
    ],
)
def test_each_rule_catches_its_error(values: dict, rule: str) -> None:
    case = claim(**values)
    assert errors(case) == [rule]
    assert decide(check(case), load_rulesets(RULES_DIR)["claim"]).route == "review"


def test_ticks_are_read_tolerantly() -> None:
    for tick in ("true", "Yes", "X", "1", "✓"):
        assert "signature_missing" not in errors(claim(signature=tick)), tick
    (finding,) = [f for f in check(claim(signature="maybe")) if f.rule == "signature_missing"]
    assert "Cannot tell" in finding.message


def test_a_template_that_never_reads_the_signature_is_not_flagged() -> None:
    case = claim()
    del case.fields["signature"]
    assert errors(case) == []


def test_the_policy_register_checks_status_holder_and_coverage() -> None:
    lapsed = claim(policy_number="POL-900000", claimant_name="Ada Lovelace", currency="GBP")
    assert "policy_active" in errors(lapsed)
    (finding,) = [f for f in check(claim(claimant_name="Bob Smith")) if f.severity == "error"]
    assert finding.rule == "claimant_matches_holder" and "score" in finding.message
    assert errors(claim(claimant_name="ana o'brien")) == []  # case and accents do not matter
    (over,) = check(claim(amount_claimed="5000.01"))
    assert over.rule == "over_coverage" and "5,000.00 EUR" in over.message
    assert check(claim(amount_claimed="5000.00")) == []


def test_no_register_is_an_error_not_a_silent_pass() -> None:
    ruleset = RuleSet.model_validate({"doc_type": "claim", "rules": [{"rule": "policy_not_found"}]})
    (finding,) = run_rules(claim(), ruleset, RuleContext(today=TODAY))
    assert finding.severity == "error" and "No policy register" in finding.message


def test_the_currency_of_the_payout_account_is_a_warning_on_claims() -> None:
    (finding,) = check(claim(bank_account="GB11OOXG52450924162344"))
    assert finding.rule == "currency_matches_account" and finding.severity == "warning"


def test_identifiers_are_masked_in_messages() -> None:
    (finding,) = check(claim(bank_account="DE12763296552537762125"))
    assert "DE12763296552537762125" not in finding.message
    assert "******************2125" in finding.message


def test_a_required_field_read_unsurely_goes_to_review() -> None:
    case = claim()
    case.fields["amount_claimed"] = case.fields["amount_claimed"].model_copy(
        update={"confidence": 0.42, "required": True}
    )
    findings = check(case)
    assert [f.rule for f in findings] == ["confidence"]
    assert decide(findings, None).route == "review"


def test_an_optional_field_read_unsurely_goes_to_review_but_not_one_left_empty() -> None:
    case = claim(place_of_loss="Leeds")
    case.fields["place_of_loss"] = case.fields["place_of_loss"].model_copy(
        update={"confidence": 0.42, "required": False}
    )
    findings = check(case)
    assert [(f.rule, f.fields) for f in findings] == [("confidence", ["place_of_loss"])]
    assert decide(findings, None).route == "review"
    case.fields["place_of_loss"] = case.fields["place_of_loss"].model_copy(
        update={"value": None, "confidence": 0.0}
    )
    assert check(case) == []
    # ... unless something is written where it belongs that no reading made out
    case.fields["place_of_loss"] = case.fields["place_of_loss"].model_copy(update={"unread_ink": 1})
    (finding,) = check(case)
    assert finding.fields == ["place_of_loss"] and "could not be read" in finding.message
    assert decide([finding], None).route == "review"


def test_confidence_runs_even_when_a_rule_set_forgets_it() -> None:
    case = claim()
    case.fields["policy_number"] = case.fields["policy_number"].model_copy(
        update={"confidence": 0.1, "required": True}
    )
    ruleset = RuleSet.model_validate(
        {"doc_type": "claim", "rules": [{"rule": "format", "params": {"fields": {}}}]}
    )
    assert [f.rule for f in run_rules(case, ruleset, context())] == ["confidence"]


def test_messages_name_the_field_for_a_reviewer() -> None:
    (finding, *_) = [f for f in check(claim(date_of_loss="2027-01-05")) if f.rule == "not_future"]
    assert finding.fields == ["date_of_loss"]
    assert "date of loss" in finding.message and "future" in finding.message


# -- account opening ----------------------------------------------------------------------------


def test_a_clean_application_is_keyed_automatically() -> None:
    assert check(applicant()) == []


def test_an_applicant_under_18_on_the_day_of_signing_is_caught() -> None:
    (finding,) = check(applicant(date_of_birth="2010-09-12"))
    assert finding.rule == "under_18" and "was 15" in finding.message
    assert errors(applicant(date_of_birth="2008-09-04")) == []  # 18 that very day


def test_a_sanctions_name_hit_goes_to_review_with_entry_and_score() -> None:
    case = applicant(full_name="Jonathon Quincy Doe-Fictive", date_of_birth="1965-01-01")
    (finding,) = check(case)
    assert finding.rule == "sanctions_screening" and finding.severity == "error"
    assert "9000002" in finding.message and "score" in finding.message
    assert decide([finding], load_rulesets(RULES_DIR)["account_opening"]).route == "review"


def test_an_exact_sanctions_hit_rejects_outright() -> None:
    case = applicant(full_name="Bartholomew Zanzibar Quixotron", date_of_birth="1970-03-12")
    findings = check(case)
    assert {f.rule for f in findings} == {"sanctions_screening", "sanctions_exact"}
    decision = decide(findings, load_rulesets(RULES_DIR)["account_opening"])
    assert decision.route == "reject" and "sanctions list" in decision.reasons[0]


def test_a_name_hit_with_another_birth_date_is_only_a_warning() -> None:
    case = applicant(full_name="Bartholomew Zanzibar Quixotron", date_of_birth="1981-03-12")
    (finding,) = check(case)
    assert finding.severity == "warning" and "date of birth differs" in finding.message


def test_duplicates_show_the_earlier_case() -> None:
    first = claim()
    history = InMemoryCaseHistory([first])
    again = claim(amount_claimed="1234.560")
    (finding,) = check(again, context(history=history))
    assert finding.rule == "duplicate_claim" and first.id in finding.message
    assert check(claim(amount_claimed="1234.57"), context(history=history)) == []
    history.add(applicant())
    (dupe,) = check(applicant(), context(history=history))
    assert dupe.rule == "duplicate_applicant" and "*****2293" in dupe.message


PASSPORT = {
    "passport.document_number": "X14922293",
    "passport.surname": "Schultz",
    "passport.given_names": "Jason",
    "passport.date_of_birth": "1990-11-14",
    "passport.mrz_line1": "P<USASCHULTZ<<JASON<<<<<<<<<<<<<<<<<<<<<<<<<",
    "passport.mrz_line2": "X149222933USA9011148M3401022<<<<<<<<<<<<<<<4",
}


def test_a_passport_riding_with_the_form_must_agree_with_it() -> None:
    from validators.mrz import check_digit

    line2 = PASSPORT["passport.mrz_line2"]
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    assert line2[9] == check_digit(line2[:9]) and line2[43] == check_digit(composite)
    assert check(applicant(**PASSPORT)) == []
    wrong = applicant(**PASSPORT, full_name="Jane Doe", date_of_birth="1991-11-14")
    rules = [f.rule for f in check(wrong) if f.severity == "error"]
    assert rules.count("passport_matches_form") == 2
    other = applicant(**PASSPORT, id_number="X14922294")
    assert errors(other) == ["passport_matches_form"]


def test_a_passport_with_a_wrong_check_digit_fails_id_checksum() -> None:
    values = {k.removeprefix("passport."): v for k, v in PASSPORT.items()}
    values |= {"date_of_expiry": "2034-01-02"}
    assert check(make_case("passport", values)) == []
    bad = values | {"mrz_line2": values["mrz_line2"][:9] + "6" + values["mrz_line2"][10:]}
    assert errors(make_case("passport", bad)) == ["id_checksum"]


# -- loading --------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "claim.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("rules:\n  - rule: requird\n", "rules.0.rule", "'required'"),
        (
            "rules:\n  - rule: required\n  - rule: format\n    params: {fields: [a]}\n",
            "rules.1.params.fields",
            "dictionary",
        ),
        (
            "rules:\n  - rule: over_coverage\n    params: {amuont: x}\n",
            "rules.0.params.amuont",
            "'amount'",
        ),
        (
            "rules:\n  - rule: required\n    params: {fields: [a], fieldz: []}\n",
            "fieldz",
            "'fields'",
        ),
        ("rules:\n  - rule: not_future\n", "rules.0.params.fields", "needs the parameter"),
        ("rules:\n  - rule: id_checksum\n    params: {scheme: cn_rc}\n", "params.scheme", "cn_ric"),
        ("rules:\n  - rule: policy_not_found\n", "rules.0.params.policies", "no reference source"),
        ("rules:\n  - rule: required\nfatal: [requird]\n", "fatal.0", "'required'"),
        (
            "reference:\n  policies: {kind: policies_csv, path: nowhere.csv}\nrules: []\n",
            "reference.policies.path",
            "nowhere.csv",
        ),
        ("rules:\n  - rule: required\n    severity: fatal\n", "rules.0.severity", "error"),
    ],
)
def test_a_bad_rule_set_fails_at_load_naming_file_key_and_nearest(
    tmp_path: Path, text: str, key: str, hint: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_ruleset(path, "claim")
    message = str(err.value)
    assert str(path) in message and key in message and hint in message, message


def test_load_rulesets_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "doc_type: claim\nrules:\n  - rule: requird\n")
    load_rulesets.cache_clear()
    with pytest.raises(ConfigError) as err:
        load_rulesets(tmp_path)
    assert "claim.yaml" in str(err.value) and "'required'" in str(err.value)


def test_every_shipped_rule_set_loads_for_every_document_type() -> None:
    assert set(load_rulesets(RULES_DIR)) >= {
        "claim", "claim_cn", "account_opening", "account_opening_batch", "passport", "w9",
        "cms1500",
    }  # fmt: skip


# -- the registry -------------------------------------------------------------------------------


def test_every_registered_rule_honours_the_contract() -> None:
    """Each rule is used by a shipped rule set and returns findings under its own name."""
    used = {
        use.rule: (use, params)
        for ruleset in load_rulesets(RULES_DIR).values()
        for use, params in ruleset.uses()
    }
    assert set(RULES) <= set(used), set(RULES) - set(used)
    empty = make_case("claim", {name: None for name in GOOD})
    for name, fn in RULES.items():
        _, params = used[name]
        for case in (claim(), applicant(), empty):
            found = fn(case, params, context())
            assert isinstance(found, list), name
            assert all(isinstance(f, Finding) and f.rule == name for f in found), name
        assert fn.doc, f"rule {name} needs a docstring"


class WeekendParams(Params):
    field: str = "date_of_loss"


@pytest.fixture
def weekend_rule():
    @rule("loss_on_weekend", WeekendParams)
    def loss_on_weekend(case: Case, params: WeekendParams, ctx: RuleContext) -> list[Finding]:
        """A loss on a weekend is worth a second look."""
        day = date.fromisoformat(case.fields[params.field].value or "")
        if day.weekday() < 5:
            return []
        return [ctx.finding([params.field], f"The loss happened on a {day:%A}.", warning=True)]

    yield
    del RULES["loss_on_weekend"]


def test_adding_a_rule_is_one_function_and_one_yaml_line(tmp_path: Path, weekend_rule) -> None:
    path = write(tmp_path, "rules:\n  - rule: loss_on_weekend\n")
    (finding,) = run_rules(claim(date_of_loss="2026-10-03"), load_ruleset(path, "claim"), context())
    assert finding.rule == "loss_on_weekend" and finding.severity == "warning"


def test_a_document_type_with_no_rule_set_still_sends_missing_and_unsure_values_to_review(
    tmp_path: Path,
) -> None:
    from rekey.pipeline import check as check_case
    from rekey.settings import Settings

    settings = Settings(rules_dir=tmp_path, data_dir=tmp_path / "data")  # no rule set at all
    sure = make_case("survey", {"name": "Ada Lovelace", "city": "London"})
    findings, decision = check_case(sure, settings)
    assert (findings, decision.route) == ([], "auto")
    unsure = make_case("survey", {"name": "Ada Lovelace", "city": "Lnodon"})
    unsure.fields["city"] = unsure.fields["city"].model_copy(update={"confidence": 0.41})
    findings, decision = check_case(unsure, settings)
    assert [(f.rule, f.fields) for f in findings] == [("confidence", ["city"])]
    assert decision.route == "review"
    missing = make_case("survey", {"name": None, "city": "London"})
    missing.fields["name"] = missing.fields["name"].model_copy(update={"required": True})
    findings, decision = check_case(missing, settings)
    assert [(f.rule, f.fields) for f in findings] == [("required", ["name"])]
    assert decision.route == "review"


def unsure(case: Case, name: str, confidence: float) -> Case:
    field = case.fields[name].model_copy(update={"confidence": confidence, "threshold": 0.99})
    return case.model_copy(update={"fields": case.fields | {name: field}})


def test_the_register_vouches_for_a_policy_number_just_under_its_threshold() -> None:
    """On the register, active, held by the claimant whose name was read with confidence
    or spells the holder's exactly: a warning the case keeps, not a stop. Anything less is
    the usual stop."""
    vouched = [f for f in check(unsure(claim(), "policy_number", 0.97)) if f.rule == "confidence"]
    (finding,) = vouched
    assert finding.severity == "warning" and finding.fields == ["policy_number"]
    assert "97% confidence" in finding.message
    assert "POL-123456 is on the register, held by the claimant" in finding.message
    assert decide(vouched, None).route == "auto"
    # a name that spells the holder's exactly is vouched for too, however unsure its reading
    both = unsure(unsure(claim(), "policy_number", 0.97), "claimant_name", 0.6)
    found = [f for f in check(both) if f.rule == "confidence"]
    assert {(f.fields[0], f.severity) for f in found} == {
        ("policy_number", "warning"),
        ("claimant_name", "warning"),
    }
    near = unsure(
        unsure(claim(claimant_name="Ana OBrien"), "policy_number", 0.97), "claimant_name", 0.6
    )
    assert {f.severity for f in check(near) if f.rule == "confidence"} == {"error"}
    stops = {
        "too unsure": unsure(claim(), "policy_number", 0.9),
        "another holder": unsure(claim(claimant_name="Anna Brien"), "policy_number", 0.97),
        "not on it": unsure(claim(policy_number="POL-123465"), "policy_number", 0.97),
        "lapsed": unsure(
            claim(policy_number="POL-900000", claimant_name="Ada Lovelace"), "policy_number", 0.97
        ),
    }
    for why, case in stops.items():
        severities = {f.severity for f in check(case) if f.rule == "confidence"}
        assert "error" in severities, why
    ruleset = RuleSet.model_validate({"doc_type": "claim", "rules": []})  # no register named
    found = run_rules(unsure(claim(), "policy_number", 0.97), ruleset, context())
    assert [(f.rule, f.severity) for f in found] == [("confidence", "error")]
