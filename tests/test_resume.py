"""A case a crash left mid-way is carried on when its file is seen again, not reported as
already processed; keying it again finds the record saved before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.process import key_approved, process_document
from rekey import pipeline
from rekey.models import CaseState
from rekey.pipeline import DONE_ALREADY, store_for

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_a_received_case_is_resumed(sample_pdfs: list[Path], backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path)
    case, new = pipeline.intake(sample_pdfs[0], settings)  # the crash came right after
    assert new and case.state is CaseState.received
    [outcome] = process_document(sample_pdfs[0], settings)
    assert outcome.case_id == case.id
    assert outcome.state == "done" and DONE_ALREADY not in outcome.note
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
    [again] = process_document(sample_pdfs[0], settings)
    assert again.state == "done" and DONE_ALREADY in again.note


def test_a_case_stopped_while_keying_is_keyed_once(
    sample_pdfs: list[Path], backoffice, tmp_path: Path
):
    settings = backoffice.settings_for(tmp_path)
    [first] = process_document(sample_pdfs[1], settings)
    assert first.state == "done"
    store = store_for(settings)
    case = store.get(first.case_id)
    # as if the crash came after the back office saved, before rekey recorded it
    case.receipt = None
    store.transition(case, CaseState.keying)
    [resumed] = process_document(sample_pdfs[1], settings)
    assert resumed.state == "done" and resumed.reference == first.reference
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
    actions = [e.action for e in store.events(case.id)]
    assert actions[-3:] == ["state:keying", "state:keyed", "state:done"]


def test_a_case_stopped_after_keying_files_its_receipt_and_ends(
    sample_pdfs: list[Path], backoffice, tmp_path: Path
):
    settings = backoffice.settings_for(tmp_path)
    [first] = process_document(sample_pdfs[1], settings)
    store = store_for(settings)
    case = store.get(first.case_id)
    receipt = pipeline.case_dir(settings, case) / "receipt.json"
    receipt.unlink()  # as if the crash came after rekey recorded the keying
    store.transition(case, CaseState.keyed)
    [resumed] = process_document(sample_pdfs[1], settings)
    assert resumed.state == "done" and DONE_ALREADY not in resumed.note
    assert json.loads(receipt.read_text())["reference"] == first.reference
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
    assert [e.action for e in store.events(case.id)][-2:] == ["state:keyed", "state:done"]
    receipt.unlink()  # the same crash under the flow that keys approved cases
    store.transition(store.get(case.id), CaseState.keyed)
    [ended] = key_approved(settings)
    assert ended.case_id == case.id and ended.state == "done" and receipt.is_file()
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1


def test_a_case_stopped_after_extraction_is_checked_and_keyed(
    sample_pdfs: list[Path], backoffice, tmp_path: Path
):
    settings = backoffice.settings_for(tmp_path)
    store = store_for(settings)
    case, _ = pipeline.intake(sample_pdfs[2], settings)
    case = pipeline.understand(case, settings)
    case.decision, case.findings = None, []  # the crash came before the rules ran
    store.transition(case, CaseState.extracted)
    [outcome] = process_document(sample_pdfs[2], settings)
    assert outcome.state == "done" and outcome.case_id == case.id
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
    actions = [e.action for e in store.events(case.id)]
    assert actions.count("state:validated") == 2 and actions[-1] == "state:done"


def test_a_batch_is_seen_again_while_a_row_is_unfinished(tmp_path: Path) -> None:
    from rekey.models import Case, Document
    from rekey.store import Store

    store = Store(f"sqlite:///{tmp_path / 'rekey.db'}")
    batch = store.add(
        Case(document=Document(original_name="rows.csv", sha256="c" * 64, size=9, page_count=2))
    )
    store.transition(batch, CaseState.done)
    rows = [
        store.add(
            Case(
                document=Document(
                    original_name=f"rows.csv row {n}",
                    sha256=pipeline.row_sha256(batch.document.sha256, n),
                    size=9,
                    row=n,
                )
            )
        )
        for n in (1, 2)
    ]
    store.transition(rows[0], CaseState.done)
    assert pipeline.unfinished_rows(batch, store)  # row 2 still received
    store.transition(rows[1], CaseState.review)
    assert not pipeline.unfinished_rows(batch, store)
    assert not pipeline.unfinished_rows(rows[0], store)  # a row is no batch
