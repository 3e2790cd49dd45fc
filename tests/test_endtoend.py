"""benchmarks.endtoend: documents split between the two demo back offices, Ledgerline's stored
records read back under the template's field names, and the two runs' figures merged."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

from benchmarks import endtoend
from benchmarks.figures import CorpusDoc
from benchmarks.spa_keying import SCREENS as LEDGERLINE_SCREENS
from rekey.models import Case, Document, Receipt, Truth
from rekey.pipeline import keyable_types
from rekey.settings import PROJECT_ROOT
from samples.spa.store import SpaStore

CLAIMBASE_SCREENS = PROJECT_ROOT / "samples" / "screens"

W9 = {
    "name": "Connie Whitehead",
    "business_name": "George, Winters and Nichols",
    "tax_classification": "partnership",
    "llc_classification": "",
    "address": "9189 Walker Fort",
    "city_state_zip": "Anthonyville, MA 65880",
    "account_numbers": "2066624062",
    "ssn": "",
    "ein": "484269068",
}
CMS1500 = {
    "patient_name": "Brandon Hale",
    "insured_id": "C842826620",
    "date_of_birth": "1940-02-01",
    "services": [{"date": "2026-10-21", "cpt": "73110", "charge": "888.55"}],
    "total_charge": "888.55",
}


def doc(doc_type: str, fields: dict | None = None, name: str | None = None) -> CorpusDoc:
    truth = Truth(doc_type=doc_type, kind=doc_type, fields=fields or {})
    return CorpusDoc(Path(name or f"{doc_type}.pdf"), truth)


def keyed(d: CorpusDoc, reference: str) -> tuple[CorpusDoc, Case]:
    case = Case(
        document=Document(original_name=d.name, sha256="0" * 64, size=0),
        doc_type=d.truth.doc_type,
        receipt=Receipt(reference=reference),
    )
    return d, case


def test_each_type_goes_to_the_back_office_that_routes_it_claimbase_first() -> None:
    routes = {
        endtoend.CLAIMBASE: keyable_types(CLAIMBASE_SCREENS),
        endtoend.LEDGERLINE: keyable_types(LEDGERLINE_SCREENS),
    }
    types = ["claim", "account_opening", "w9", "cms1500", "passport", "unknown"]
    shares = endtoend.split_by_route([doc(t) for t in types], routes)
    assert [d.truth.doc_type for d in shares[endtoend.LEDGERLINE]] == ["w9", "cms1500", "passport"]
    # Ledgerline routes account openings too, but ClaimBase keys them; a type nobody
    # routes stays with ClaimBase, where it ends in review
    assert [d.truth.doc_type for d in shares[endtoend.CLAIMBASE]] == [
        "claim",
        "account_opening",
        "unknown",
    ]


def test_ledgerline_records_read_back_as_the_template_writes_them(tmp_path: Path) -> None:
    """Renamed keys, service lines as the template's list, and the values Ledgerline keeps
    in its screen's shape (an option's text, a masked EIN) scored against the truth."""
    store = SpaStore(tmp_path / "spa.db")
    tax = store.add(
        "tax",
        {
            "customer_name": "Connie Whitehead",
            "business_name": "George, Winters and Nichols",
            "tax_classification": "Partnership",
            "ssn": "",
            "ein": "48-4269068",
            "address": "9189 Walker Fort",
            "city_state_zip": "Anthonyville, MA 65880",
            "external_ref": "RK-1",
        },
        "clerk",
    )
    medical = store.add(
        "medical",
        {
            "patient_name": "Brandon Hale",
            "insured_id": "C842826620",
            "date_of_birth": "1940-02-01",
            "total_charge": "888.55",
            "external_ref": "RK-2",
        },
        "clerk",
        [{"date": "2026-10-21", "code": "73110", "charge": "888.55"}],
    )
    read = partial(endtoend.ledgerline_values, tmp_path / "spa.db")
    assert read(medical) == CMS1500
    assert read("LL-999999") is None
    formats = endtoend.screen_formats(LEDGERLINE_SCREENS)
    types = {"w9": {"ssn": "identifier", "ein": "identifier"}, "cms1500": {}}
    wrong_patient = doc("cms1500", CMS1500 | {"patient_name": "Brandon Hall"}, "c.pdf")
    runs = [keyed(doc("w9", W9), tax), keyed(wrong_patient, medical), keyed(doc("w9"), "LL-0")]
    score = endtoend.score_keyed(runs, read, types, formats, endtoend.LEDGERLINE)
    assert (score.records, score.missing_records) == (2, 1)
    assert score.fields == 7 + 5  # the W-9 fields on its screen, the CMS-1500 fields keyed
    assert score.wrong == 1
    assert score.examples == [
        {
            "document": "c.pdf",
            "backoffice": endtoend.LEDGERLINE,
            "field": "patient_name",
            "truth": "Brandon Hall",
            "keyed": "Brandon Hale",
        }
    ]


def test_two_runs_merge_into_one_table_naming_each_back_office() -> None:
    """Straight-through counts over the documents with no planted error; a planted error
    keyed anyway stays in sight."""
    states = Counter(done=1, review=1)
    first = {"claim/digital": endtoend.RowStp(2, 1, states, None, "ClaimBase", 1, 0)}
    second = {"w9/digital": endtoend.RowStp(1, 1, Counter(done=1), None, "Ledgerline", 1, 1)}
    merged = endtoend.merge_rows(first, second)
    assert list(merged) == ["claim/digital", "w9/digital"]
    assert merged["w9/digital"].figures()["backoffice"] == "Ledgerline"
    assert endtoend.stp_all(merged) == 0.5  # of the two that may pass, one did
    assert endtoend.stp_all_documents(merged) == round(2 / 3, 4)
    assert endtoend.planted_through(merged) == 1  # claim/digital's planted error, keyed
    both = endtoend.merge_rows(first, {"claim/digital": second["w9/digital"]})
    assert both["claim/digital"].figures() == {
        "documents": 3,
        "straight_through": 2,
        "may_pass": 2,
        "stp": 0.5,
        "stp_all_documents": round(2 / 3, 4),
        "planted_through": 1,
        "states": {"done": 2, "review": 1},
        "backoffice": "ClaimBase + Ledgerline",
    }
    every_one_planted = endtoend.RowStp(2, 0, Counter(review=2), None, "ClaimBase", 0, 0)
    assert every_one_planted.figures()["stp"] is None  # nothing here may go straight through
    unrouted = endtoend.RowStp(1, 0, Counter(review=1), "no back-office route", None, 1, 0)
    rows = merged | {"claim/clean_scan": every_one_planted, "x/digital": unrouted}
    assert endtoend.by_rendition(rows) == {"clean_scan": None, "digital": 0.5}
    scores = {"ClaimBase": endtoend.KeyedScore(3, 30, 1), "Ledgerline": endtoend.KeyedScore(2, 13)}
    assert endtoend.combined(scores).figures() == {
        "records": 5,
        "fields_compared": 43,
        "wrong": 1,
        "records_not_found": 0,
    }
