"""The flows as operations run them: documents fanned out, back-office sessions capped by a
Prefect global concurrency limit, a table artifact per batch, and approved cases keyed."""

from __future__ import annotations

import json
import shutil
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.concurrency.sync import concurrency

from flows.limits import ensure_session_limit
from flows.process import key_approved, process_folder
from rekey.models import CaseState
from rekey.pipeline import store_for

pytestmark = pytest.mark.usefixtures("prefect_harness")


def claims_only(inbox: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "claims"
    folder.mkdir()
    for pdf in inbox.glob("claim-*.pdf"):
        shutil.copy2(pdf, folder / pdf.name)
    return folder


def keying_spans(settings) -> list[tuple]:
    """When each case held a back-office session: from entering keying to leaving it."""
    spans: dict[str, list] = {}
    for event in store_for(settings).events():
        if event.action == "state:keying":
            spans[event.case_id] = [event.at, None]
        elif event.action in ("state:keyed", "state:failed") and event.case_id in spans:
            spans[event.case_id][1] = event.at
    return sorted(tuple(span) for span in spans.values())


def overlapping(spans: list[tuple]) -> bool:
    return any(later[0] < earlier[1] for earlier, later in pairwise(spans))


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.2)  # poll interval


def test_keying_waits_for_a_free_session_slot(inbox, backoffice, tmp_path: Path):
    folder = claims_only(inbox, tmp_path)
    settings = backoffice.settings_for(
        tmp_path, folder_workers=3, backoffice_sessions=1, session_limit_name="test-one-session"
    )
    ensure_session_limit(settings)
    outcomes: list = []
    batch = threading.Thread(target=lambda: outcomes.extend(process_folder(folder, settings)))
    store = store_for(settings)
    with concurrency(settings.session_limit_name, occupy=1, strict=True):  # the only slot
        batch.start()
        wait_until(lambda: len(store.list([CaseState.validated])) == 3, 120, "three cases to wait")
        assert keying_spans(settings) == []  # all three ready, none may open a session
    batch.join(timeout=300)
    assert not batch.is_alive() and {o.state for o in outcomes} == {"done"}
    spans = keying_spans(settings)
    assert len(spans) == 3 and all(end is not None for _, end in spans)
    assert not overlapping(spans)  # one slot: one session at a time


def test_a_batch_publishes_a_table_artifact(inbox, backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path)
    state = process_folder(inbox, settings, return_state=True)
    outcomes = state.result()
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["rekey-batch"])),
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            ),
        )
    assert artifact.type == "table"
    rows = json.loads(artifact.data)  # a table artifact's data is its rows, as JSON
    assert sorted(r["file"] for r in rows) == sorted(o.file for o in outcomes)
    assert {r["state"] for r in rows} == {"done", "quarantined"}
    assert "3 done" in artifact.description and "2 quarantined" in artifact.description


def test_key_approved_keys_what_a_reviewer_approved(inbox, backoffice, tmp_path: Path):
    folder = claims_only(inbox, tmp_path)
    register = tmp_path / "policies.csv"
    register.write_text("policy_number,holder,status,coverage,currency\n")  # knows no policy
    settings = backoffice.settings_for(tmp_path, policies_csv=register)
    outcomes = process_folder(folder, settings)
    assert {o.state for o in outcomes} == {"review"}

    store = store_for(settings)
    first, *others = store.list([CaseState.review])
    store.transition(first, CaseState.approved, actor="reviewer:alice")

    (keyed,) = key_approved(settings)
    assert keyed.case_id == first.id and keyed.state == "done" and keyed.reference
    (row,) = backoffice.claims(external_ref=first.external_reference)
    assert row["reference"] == keyed.reference
    assert all(store.get(c.id).state is CaseState.review for c in others)
    assert key_approved(settings) == []  # nothing left to key
