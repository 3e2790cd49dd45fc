"""A back-office route for every document type rekey reads, keyed end to end with real
Chromium: ``w9``, ``cms1500`` and ``passport`` into Ledgerline (samples/spa; maps in
samples/screens_ledgerline), ``claim_cn`` and the English claim's claimant ID into ClaimBase
2000 (samples/backoffice; maps in samples/screens). Each case is built from the corpus
generator's values (fixed seeds), keyed once, checked in the back office's own database
(exactly one record, every mapped value right), then keyed again: nothing new is created.
Also the two value formats the maps need (``select`` with ``options``, ``mask``), without a
browser."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from connectors.backoffice import BackOfficeSession, case_values, load_screens
from connectors.backoffice.formats import ValueFormat
from connectors.backoffice.pages import line_items
from rekey.errors import BusinessRuleError
from rekey.models import Case, Document, Field
from rekey.settings import Settings
from samples.corpus.cn_claim_form import cn_claim_values
from samples.corpus.irs import cms1500_values, w9_values
from samples.corpus.passport import passport_values
from samples.corpus.values import claim_values
from tests.conftest_backoffice import RunningBackOffice
from tests.ledgerline import SCREENS, Ledgerline, running_ledgerline

ROOT = Path(__file__).resolve().parent.parent
CLAIMBASE_MAPS = ROOT / "samples" / "screens"
TODAY = date(2024, 6, 1)  # the corpus's "today": fixed, so the values are too


@pytest.fixture(scope="module")
def ledgerline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledgerline]:
    """One Ledgerline for the module, fields shuffled on every render."""
    with running_ledgerline(tmp_path_factory.mktemp("ledgerline")) as running:
        yield running


def make_case(doc_type: str, tag: str, truth: dict[str, Any]) -> Case:
    """A case of *doc_type* from a generator's truth: strings as they are, a list (of line
    items or of codes) as JSON (as extraction leaves it), anything else (ticks) left out."""
    values = {}
    for name, value in truth.items():
        if name.startswith("_"):
            continue
        if isinstance(value, list):  # line items, or plain values (diagnosis codes)
            values[name] = json.dumps(value)
        elif isinstance(value, str):
            values[name] = value
    digest = hashlib.sha256(f"routes-{doc_type}-{tag}".encode()).hexdigest()
    return Case(
        document=Document(original_name=f"{tag}.pdf", sha256=digest, size=1),
        doc_type=doc_type,
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in values.items()},
    )


def key_twice(settings: Settings, case: Case, folder: Path) -> tuple[str, str]:
    """Key *case*, then key it again in the same session; both references."""
    with BackOfficeSession(settings) as office:
        first = office.key_case(case, folder / "first")
        assert first.verified
        again = office.key_case(case, folder / "again")
    return first.reference, again.reference


# --- maps and formats, no browser ----------------------------------------------------------


def test_case_values_keep_codes_and_bracketed_text_and_lines_refuse_anything_else():
    case = make_case(
        "cms1500",
        "values",
        {"diagnoses": ["J06.9", "R05"], "remarks": "[sic] see page 2", "services": "[1, 2]"},
    )
    values = case_values(case)
    assert values["diagnoses"] == ["J06.9", "R05"]
    assert values["remarks"] == "[sic] see page 2"
    assert line_items({"expenses": [{"date": "2024-01-02"}]}, "expenses") == [
        {"date": "2024-01-02"}
    ]
    with pytest.raises(BusinessRuleError, match="services: not a list of line items"):
        line_items(values, "services")


def test_every_document_type_has_a_route_that_never_keys_twice():
    ledgerline = load_screens(SCREENS)
    for doc_type in ("w9", "cms1500", "passport"):
        route = ledgerline.route(doc_type)
        assert route.search is not None and route.ledger
    claimbase = load_screens(CLAIMBASE_MAPS)
    route = claimbase.route("claim_cn")
    assert route.search is not None and route.record is not None
    assert route.entry[1].file.endswith("claim_payout.yaml")  # the claim's own step 2


def test_select_options_map_case_values_to_option_texts():
    fmt = TypeAdapter(ValueFormat).validate_python(
        {"kind": "select", "options": {"F": "Female", "M": "Male"}}
    )
    assert fmt.to_screen("F") == "Female"
    assert fmt.canonical("Male") == "Male"  # already an option's text
    assert fmt.canonical("") == ""
    with pytest.raises(ValueError, match="not one of the mapped values"):
        fmt.canonical("Q")
    plain = TypeAdapter(ValueFormat).validate_python({"kind": "select"})
    assert plain.canonical("anything") == "anything"


def test_mask_puts_separators_in_and_refuses_a_wrong_length():
    fmt = TypeAdapter(ValueFormat).validate_python({"kind": "mask", "mask": "###-##-####"})
    assert fmt.to_screen("445040216") == "445-04-0216"
    assert fmt.canonical("445-04-0216") == "445-04-0216"
    assert fmt.from_screen(" 445 04 0216 ") == "445-04-0216"
    assert fmt.canonical("") == ""
    with pytest.raises(ValueError, match="does not fit"):
        fmt.canonical("4450402160")
    with pytest.raises(ValidationError):
        TypeAdapter(ValueFormat).validate_python({"kind": "mask", "mask": "---"})


# --- Ledgerline -------------------------------------------------------------------------------

TAX_CLASSES = {
    "individual": "Individual/sole proprietor",
    "c_corporation": "C corporation",
}


def test_w9_keyed_into_tax_details_once(ledgerline, tmp_path):
    """An individual (SSN) and a corporation (EIN); then, with rekey's ledger gone, the
    search alone still stops a second keying."""
    for seed in (0, 1):  # seed 0: individual with an SSN; seed 1: C corporation with an EIN
        truth = w9_values(seed)[1]
        case = make_case("w9", f"w9-{seed}", truth)
        settings = ledgerline.settings_for(tmp_path / str(seed))
        first, again = key_twice(settings, case, tmp_path / str(seed))
        records = ledgerline.saved(case.external_reference)
        assert [r["reference"] for r in records] == [first] and again == first
        ssn, ein = truth["ssn"], truth["ein"]
        assert records[0]["screen"] == "tax"
        assert records[0]["values"] == {
            "customer_name": truth["name"],
            "business_name": truth["business_name"],
            "tax_classification": TAX_CLASSES[truth["tax_classification"]],
            "ssn": f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}" if ssn else "",
            "ein": f"{ein[:2]}-{ein[2:]}" if ein else "",
            "address": truth["address"],
            "city_state_zip": truth["city_state_zip"],
            "external_ref": case.external_reference,
        }
    # a fresh data folder: no ledger, the "Find record" search finds the record
    with BackOfficeSession(ledgerline.settings_for(tmp_path / "fresh")) as office:
        receipt = office.key_case(case, tmp_path / "fresh-evidence")
    assert receipt.reference == first
    assert len(ledgerline.saved(case.external_reference)) == 1


def test_cms1500_keyed_into_medical_claim_with_its_service_lines(ledgerline, tmp_path):
    """Trusted input (Playwright fill and click): four service lines, three of them added
    with "Add line"."""
    truth = cms1500_values(4, TODAY)[1]
    assert len(truth["services"]) == 4 and truth["diagnoses"]  # codes: a list, not lines
    case = make_case("cms1500", "cms1500-4", truth)
    settings = ledgerline.settings_for(tmp_path, keying_mode="trusted")
    first, again = key_twice(settings, case, tmp_path)
    records = ledgerline.saved(case.external_reference)
    assert [r["reference"] for r in records] == [first] and again == first
    assert records[0]["screen"] == "medical"
    assert records[0]["values"] == {
        "patient_name": truth["patient_name"],
        "insured_id": truth["insured_id"],
        "date_of_birth": truth["date_of_birth"],
        "total_charge": truth["total_charge"],
        "external_ref": case.external_reference,
    }
    assert records[0]["lines"] == [
        {"date": s["date"], "code": s["cpt"], "charge": s["charge"]} for s in truth["services"]
    ]


def test_passport_keyed_into_identity_document(ledgerline, tmp_path):
    truth = passport_values(3, TODAY)  # German, accented names, issuing state "D"
    case = make_case("passport", "passport-3", truth)
    first, again = key_twice(ledgerline.settings_for(tmp_path), case, tmp_path)
    records = ledgerline.saved(case.external_reference)
    assert [r["reference"] for r in records] == [first] and again == first
    assert records[0]["screen"] == "identity"
    assert records[0]["values"] == {
        "document_number": truth["document_number"],
        "issuing_state": truth["issuing_state"],
        "surname": truth["surname"],
        "given_names": truth["given_names"],
        "nationality": truth["nationality"],
        "date_of_birth": truth["date_of_birth"],
        "sex": truth["sex"],  # stored as the code; keyed as "Female"/"Male"
        "date_of_expiry": truth["date_of_expiry"],
        "external_ref": case.external_reference,
    }


# --- ClaimBase 2000 ---------------------------------------------------------------------------


def test_claim_cn_keyed_into_claimbase_in_cny_with_the_resident_id(
    backoffice: RunningBackOffice, tmp_path
):
    truth = cn_claim_values(8, TODAY, policy_number="POL-482913").truth
    assert truth["id_number"].endswith("X") and truth["currency"] == "CNY"
    case = make_case("claim_cn", "claim_cn-8", truth)
    settings = backoffice.settings_for(tmp_path, screens_dir=CLAIMBASE_MAPS)
    first, again = key_twice(settings, case, tmp_path)
    rows = backoffice.claims(external_ref=case.external_reference)
    assert [r["reference"] for r in rows] == [first] and again == first
    row = rows[0]
    assert {k: row[k] for k in CN_COLUMNS} == {
        "policy_number": truth["policy_number"],
        "claimant_name": truth["claimant_name"],
        "date_of_loss": truth["date_of_loss"],
        "amount": truth["amount_claimed"],
        "currency": "CNY",
        "description": truth["loss_description"],
        "external_ref": case.external_reference,
        "payout_account": truth["bank_account"],
        "id_type": "Resident ID",
        "id_number": truth["id_number"],
    }
    assert backoffice.lines(first) == []  # a CN claim form has no expense lines


@pytest.mark.parametrize(
    ("on_form", "in_claimbase"),
    [("Passport", "Passport"), ("National identity card", "National ID card")],
)
def test_claim_keyed_into_claimbase_with_the_claimants_id(
    backoffice: RunningBackOffice, tmp_path, on_form, in_claimbase
):
    truth = claim_values(5, TODAY, policy_number="POL-482913").truth | {"id_type": on_form}
    case = make_case("claim", f"claim-{on_form}", truth)
    settings = backoffice.settings_for(tmp_path, screens_dir=CLAIMBASE_MAPS)
    first, again = key_twice(settings, case, tmp_path)
    rows = backoffice.claims(external_ref=case.external_reference)
    assert [r["reference"] for r in rows] == [first] and again == first
    assert (rows[0]["id_type"], rows[0]["id_number"]) == (in_claimbase, truth["id_number"])
    assert len(backoffice.lines(first)) == len(truth["expenses"])


CN_COLUMNS = (
    "policy_number",
    "claimant_name",
    "date_of_loss",
    "amount",
    "currency",
    "description",
    "external_ref",
    "payout_account",
    "id_type",
    "id_number",
)
