"""The whole path under Prefect: dropped PDFs to back-office records, bad files to
quarantine, and no double keying."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.backoffice import BackOfficeSession
from connectors.inbox import sha256_of
from flows.process import process_folder
from rekey.models import CaseState, external_reference
from rekey.pipeline import store_for

pytestmark = pytest.mark.usefixtures("prefect_harness")


def external_ref(pdf: Path) -> str:
    return external_reference(sha256_of(pdf))


def test_folder_is_keyed_and_bad_files_quarantined(inbox: Path, backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path)
    outcomes = {o.file: o for o in process_folder(inbox, settings)}

    claims = [o for name, o in outcomes.items() if name.startswith("claim-")]
    assert len(claims) == 3
    for outcome in claims:
        assert outcome.state == "done", outcome
        rows = backoffice.claims(external_ref=external_ref(inbox / outcome.file))
        assert [row["reference"] for row in rows] == [outcome.reference]

    for bad, why in (("a-letter.pdf", "plain text"), ("empty.pdf", "empty")):
        assert outcomes[bad].state == "quarantined"
        kept = settings.quarantine_dir / f"{outcomes[bad].case_id}-{bad}"
        assert kept.is_file()
        reason = kept.with_name(kept.name + ".reason.txt").read_text()
        assert why in reason

    with BackOfficeSession(settings) as office:  # what a person sees on the claim list
        office.page.goto("claims")
        listed = office.page.locator("body").inner_text()
    assert all(o.reference in listed for o in claims)

    store = store_for(settings)
    assert {c.state for c in store.list()} == {CaseState.done, CaseState.quarantined}
    done = store.list([CaseState.done])[0]
    assert done.receipt.verified and Path(done.receipt.screenshots[0]).is_file()


def test_second_run_keys_nothing_twice(inbox: Path, backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path)
    first = process_folder(inbox, settings)
    count = len(backoffice.claims())
    second = process_folder(inbox, settings)
    assert len(backoffice.claims()) == count
    for pdf in inbox.glob("claim-*.pdf"):
        assert len(backoffice.claims(external_ref=external_ref(pdf))) == 1
    assert [o.case_id for o in second] == [o.case_id for o in first]
    assert all("already processed" in o.note for o in second)


def test_back_office_down_parks_the_case_as_failed(inbox: Path, backoffice, tmp_path: Path):
    settings = backoffice.settings_for(
        tmp_path,
        backoffice_url="http://127.0.0.1:9",
        keying_retries=1,
        keying_retry_delay_s=0.0,
    )
    pdf = next(inbox.glob("claim-*.pdf"))
    outcomes = process_folder(inbox, settings)
    failed = next(o for o in outcomes if o.file == pdf.name)
    assert failed.state == "failed"
    assert "ApplicationError" in failed.note or "back office" in failed.note.lower()
    # the next run picks it up again, this time against the live back office
    retry = process_folder(inbox, settings.model_copy(update={"backoffice_url": backoffice.url}))
    assert next(o for o in retry if o.file == pdf.name).state == "done"


def test_a_csv_batch_becomes_one_case_per_row(backoffice, tmp_path: Path):
    import csv

    from rekey.settings import PROJECT_ROOT

    source = PROJECT_ROOT / "samples" / "corpus" / "small" / "0013-batch_csv-csv.csv"
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    adults = [rows[0], *[r for r in rows[1:] if r[1] < "2000"][:3]]  # born before 2000
    inbox = tmp_path / "batch"
    inbox.mkdir()
    with (inbox / "applicants.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(adults)
    settings = backoffice.settings_for(tmp_path)

    outcomes = process_folder(inbox, settings)
    assert [o.file for o in outcomes] == [
        "applicants.csv row 1",
        "applicants.csv row 2",
        "applicants.csv row 3",
        "applicants.csv",
    ]
    assert all(o.state == "done" for o in outcomes), outcomes
    assert "batch of 3 rows" in outcomes[-1].note
    names = {row["full_name"] for row in backoffice.customers()}
    assert {r[0] for r in adults[1:]} <= names
    again = process_folder(inbox, settings)
    assert len(again) == 1 and "already processed" in again[0].note
