"""Corrections, four-eyes approval, rejection and history, over real HTTP against a served
review station, on cases read from real claim PDFs; approved cases keyed by the
``key_approved`` flow into the demo back office."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from rekey.models import CaseState
from rekey.pipeline import store_for
from rekey.review import actions
from rekey.review.server import running_review
from tests.review_support import add_user, post_form, review_case, signed_in


def test_four_eyes_needs_a_second_person_and_refuses_the_same_one(
    backoffice, tmp_path: Path, prefect_harness
):
    settings = backoffice.settings_for(tmp_path, review_four_eyes_amount=1000.0)
    case = review_case(settings, tmp_path / "docs", 13, currency="GBPX")
    assert case.state is CaseState.review
    assert float(case.fields["amount_claimed"].value) > 1000
    alice, bob = add_user(settings, "alice"), add_user(settings, "bob")
    page = f"/cases/{case.id}"
    with running_review(settings) as url, closing(signed_in(url, "alice", alice)) as a:
        early = post_form(a, page, f"{page}/approve")
        assert early.status_code == 409 and "correct the fields" in early.text
        fixed = post_form(a, page, f"{page}/fields/currency", value="GBP")
        assert fixed.status_code == 303
        assert "format" not in {f.rule for f in store_for(settings).get(case.id).findings}

        first = post_form(a, page, f"{page}/approve")
        assert first.status_code == 303 and "notice=approval" in first.headers["location"]
        assert "a second person must approve" in a.get(first.headers["location"]).text
        assert store_for(settings).get(case.id).state is CaseState.review

        again = post_form(a, page, f"{page}/approve")
        assert again.status_code == 409
        assert "you approved this case already" in again.text
        assert store_for(settings).get(case.id).state is CaseState.review

        with closing(signed_in(url, "bob", bob)) as b:
            second = post_form(b, page, f"{page}/approve")
            assert second.status_code == 303 and "notice=approved" in second.headers["location"]
            shown = b.get(page).text
        assert "approvals 2 of 2 (alice, bob)" in shown

    approved = store_for(settings).get(case.id)
    assert approved.state is CaseState.approved
    assert approved.decision.route == "auto"
    trail = [(e.actor, e.action) for e in store_for(settings).events(case.id)]
    assert ("alice", actions.CORRECTED) in trail
    assert [a for a, act in trail if act == actions.APPROVAL] == ["alice", "bob"]
    assert ("bob", "state:approved") in trail

    from flows.process import key_approved

    outcomes = key_approved(settings)
    assert [(o.case_id, o.state) for o in outcomes] == [(case.id, "done")]
    rows = backoffice.claims(external_ref=approved.external_reference)
    assert [r["reference"] for r in rows] == [outcomes[0].reference]
    assert rows[0]["currency"] == "GBP"


def test_below_the_amount_one_approval_is_enough(tmp_path: Path):
    from rekey.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    store = store_for(settings)
    case = actions.correct(store, settings, case, "currency", "GBP", "carol")
    assert actions.approvals_needed(case, settings) == 1
    done = actions.approve(store, settings, case, "carol")
    assert done.complete and store.get(case.id).state is CaseState.approved


def test_a_correction_after_an_approval_voids_it(tmp_path: Path):
    from rekey.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "var", review_four_eyes_amount=100.0
    )
    store = store_for(settings)
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    case = actions.correct(store, settings, case, "currency", "GBP", "dave")
    assert actions.approve(store, settings, case, "dave").approvers == ["dave"]
    case = actions.correct(store, settings, store.get(case.id), "place_of_loss", "Leeds", "erin")
    assert actions.approvers(store, case) == []
    assert not actions.approve(store, settings, case, "erin").complete
    assert actions.approve(store, settings, store.get(case.id), "dave").complete


def test_corrections_and_rejections_are_in_the_history(tmp_path: Path):
    from rekey.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 12, currency="GBPX")
    password = add_user(settings, "frank")
    page = f"/cases/{case.id}"
    with running_review(settings) as url, closing(signed_in(url, "frank", password)) as client:
        assert post_form(client, page, f"{page}/fields/currency", value="EUR").status_code == 303
        no_reason = post_form(client, page, f"{page}/reject", reason="  ")
        assert no_reason.status_code == 409 and "say why" in no_reason.text
        done = post_form(client, page, f"{page}/reject", reason="Policy lapsed before the loss")
        assert done.status_code == 303
        shown = client.get(page).text
        refused = post_form(client, page, f"{page}/approve")
    assert "Policy lapsed before the loss" in shown
    assert refused.status_code in (403, 409)  # a rejected case shows no approve form at all
    stored = store_for(settings).get(case.id)
    assert stored.state is CaseState.rejected and stored.reason == "Policy lapsed before the loss"
    events = store_for(settings).events(case.id)
    corrected = next(e for e in events if e.action == actions.CORRECTED)
    assert corrected.actor == "frank" and corrected.at is not None
    assert (corrected.detail["field"], corrected.detail["before"], corrected.detail["after"]) == (
        "currency",
        "GBPX",
        "EUR",
    )
    rejected = next(e for e in events if e.action == actions.REJECTED)
    assert rejected.actor == "frank" and rejected.detail["after"] == "Policy lapsed before the loss"
    assert "GBPX" in shown and "EUR" in shown and "frank" in shown


def test_the_queue_filters_masks_and_ages(tmp_path: Path):
    from datetime import timedelta

    from rekey.models import utcnow
    from rekey.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "var", review_sla_hours=2.0
    )
    old = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    new = review_case(settings, tmp_path / "docs", 12, claimant_name="Nobody Known")
    store = store_for(settings)
    old.created_at = utcnow() - timedelta(hours=5)
    store.save(old, action="backdated for the test")
    password = add_user(settings, "gina")
    with running_review(settings) as url, closing(signed_in(url, "gina", password)) as client:
        everything = client.get("/").text
        by_rule = client.get("/", params={"rule": "claimant_matches_holder"}).text
        by_age = client.get("/", params={"min_age": "3"}).text
        by_type = client.get("/", params={"doc_type": "passport"}).text
    assert everything.index(old.id) < everything.index(new.id)  # oldest first
    assert "overdue" in everything and "5.0 h / 2.0 h" in everything
    assert old.fields["policy_number"].value not in everything  # identifiers masked
    assert "******" + old.fields["bank_account"].value[-4:] in everything
    assert new.id in by_rule and old.id not in by_rule
    assert old.id in by_age and new.id not in by_age
    assert "Nothing is waiting for review" in by_type


@pytest.mark.parametrize("value", ["", "GBP"])
def test_a_correction_to_a_case_not_in_review_is_refused(tmp_path: Path, value: str):
    from rekey.errors import BusinessRuleError
    from rekey.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    store = store_for(settings)
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    actions.reject(store, case, "not ours", "hal")
    with pytest.raises(BusinessRuleError):
        actions.correct(store, settings, store.get(case.id), "currency", value, "hal")
    with pytest.raises(BusinessRuleError):
        actions.correct(store, settings, store.get(case.id), "no_such_field", value, "hal")
    assert store.get(case.id).fields["currency"].value == "GBPX"


def test_keying_at_once_against_a_dead_back_office_parks_the_case_for_key_approved(
    backoffice, tmp_path: Path, prefect_harness
):
    settings = backoffice.settings_for(
        tmp_path, backoffice_url="http://127.0.0.1:9", keying_retries=0, keying_retry_delay_s=0
    )
    store = store_for(settings)
    case = review_case(settings, tmp_path / "docs", 12, currency="GBPX", amount_claimed="99.00")
    case = actions.correct(store, settings, case, "currency", "GBP", "ivy")
    # page 2's total of expenses differs: the reviewer confirms the amount
    case = actions.correct(store, settings, case, "amount_claimed", "99.00", "ivy")
    approval = actions.approve(store, settings, case, "ivy")
    failed = actions.key_now(approval.case, settings)
    assert failed.state is CaseState.failed and "ApplicationError" in failed.reason

    from flows.process import key_approved

    live = settings.model_copy(update={"backoffice_url": backoffice.url})
    outcomes = key_approved(live)
    assert [(o.case_id, o.state) for o in outcomes] == [(case.id, "done")]
    assert [r["reference"] for r in backoffice.claims(external_ref=case.external_reference)] == [
        outcomes[0].reference
    ]
