"""A submit whose outcome rekey never saw: the ledger writes it as pending just before the
click; the next attempt asks the search, or, with no search, sends the case to a person who
settles it with ``rekey ledger confirm`` or ``rekey ledger forget``. Never keyed twice.
Real Chromium against Ledgerline (samples/spa) on a free 127.0.0.1 port."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.backoffice import (
    BackOfficeRefused,
    BackOfficeSession,
    Ledger,
    SubmitUnconfirmed,
    load_screens,
)
from rekey.cli import app as cli
from rekey.errors import ApplicationError, BusinessRuleError
from rekey.models import Case, Document, Field
from rekey.settings import Settings
from rekey.store import Store
from samples.backoffice.chaos import Chaos
from tests.ledgerline import SCREENS, Ledgerline, running_ledgerline

VALUES = {
    "full_name": "Mara Quist",
    "date_of_birth": "1984-05-02",
    "nationality": "Germany",
    "id_type": "Passport",
    "id_number": "C01X00T47",
    "address_line1": "Hauptstrasse 5",
    "address_line2": "10115 Berlin",
    "phone": "+49 30 1234567",
    "email": "mara.quist@example.org",
    "occupation": "Architect",
    "employer": "",
    "income_band": "50,000 - 100,000",
    "source_of_funds": "Salary",
    "tax_residency": "DE",
    "pep": "False",
}


def case_of(tag: str, **overrides: str) -> Case:
    digest = hashlib.sha256(f"pending-{tag}".encode()).hexdigest()
    return Case(
        document=Document(original_name=f"{tag}.pdf", sha256=digest, size=1),
        doc_type="account_opening",
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in (VALUES | overrides).items()},
    )


def without_search(tmp_path: Path) -> Path:
    folder = tmp_path / "screens"
    shutil.copytree(SCREENS, folder)
    main = folder / "backoffice.yaml"
    main.write_text(main.read_text().replace("search: find_record.yaml", "# no search"))
    assert load_screens(folder).route("account_opening").search is None
    return folder


def ledger(settings: Settings) -> Ledger:
    return Ledger(settings, Store(settings.db_url))


def started(settings: Settings, case: Case) -> None:
    """A pending line for *case*, as a submit that was about to happen leaves it."""
    ledger(settings).submitting(
        case.external_reference,
        screen="account_entry.yaml",
        doc_type=case.doc_type,
        case_id=case.id,
    )


def settle(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """``rekey ledger ARGS`` as a person runs it, with these settings in the environment."""
    monkeypatch.setenv("REKEY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("REKEY_BACKOFFICE_URL", settings.backoffice_url)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli, ["ledger", *args])
    assert result.exit_code == 0, result.output
    return result.output


def actions(settings: Settings, case: Case) -> list[str]:
    return [e.action for e in Store(settings.db_url).events(case.id)]


def test_unconfirmed_submit_with_no_search_goes_to_a_person(tmp_path, monkeypatch):
    chaos = Chaos(commit_then_500=1.0)
    case = case_of("commit-then-500")
    with running_ledgerline(tmp_path / "ll", chaos=chaos) as app:
        settings = app.settings_for(tmp_path, screens_dir=without_search(tmp_path))
        with BackOfficeSession(settings) as office:
            with pytest.raises(ApplicationError, match="HTTP 500"):
                office.key_case(case, tmp_path / "first")
            (record,) = app.records(case.external_reference)  # committed all the same
            pending = ledger(settings).pending(case.external_reference)
            assert pending is not None and pending.case_id == case.id
            assert pending.screen.endswith("account_entry.yaml")

            chaos.commit_then_500 = 0.0
            with pytest.raises(SubmitUnconfirmed) as caught:  # not retried: a person looks
                office.key_case(case, tmp_path / "retry")
            assert isinstance(caught.value, BusinessRuleError)
            message = str(caught.value)
            assert case.external_reference in message and "account_entry.yaml" in message
            assert f"rekey ledger confirm {case.external_reference} REFERENCE" in message
            assert len(app.records(case.external_reference)) == 1

            listed = settle(settings, monkeypatch, "list")
            assert case.external_reference in listed and case.id in listed
            settle(settings, monkeypatch, "confirm", case.external_reference, record["reference"])
            again = office.key_case(case, tmp_path / "approved")
        assert again.reference == record["reference"] and again.screenshots == []
        assert len(app.records(case.external_reference)) == 1
    assert ledger(settings).pending(case.external_reference) is None
    assert "ledger:confirmed" in actions(settings, case)


def test_forgotten_submit_is_keyed_once(ledgerline: Ledgerline, tmp_path, monkeypatch):
    """The worker died just before its click reached the back office: a pending line and no
    record. A person finds none and forgets the submit; the case is then keyed, once."""
    settings = ledgerline.settings_for(tmp_path, screens_dir=without_search(tmp_path))
    case = case_of("died-before-click")
    started(settings, case)
    with BackOfficeSession(settings) as office:
        with pytest.raises(SubmitUnconfirmed):
            office.key_case(case, tmp_path / "first")
        assert ledgerline.records(case.external_reference) == []
        settle(settings, monkeypatch, "forget", case.external_reference)
        receipt = office.key_case(case, tmp_path / "approved")
    records = ledgerline.records(case.external_reference)
    assert [r["reference"] for r in records] == [receipt.reference]
    assert records[0]["full_name"] == VALUES["full_name"]
    assert "ledger:forgotten" in actions(settings, case)
    assert ledger(settings).pending(case.external_reference) is None


def test_search_settles_a_pending_submit(ledgerline: Ledgerline, tmp_path):
    """With a search, a pending submit whose record the search does not show did not take
    effect: the case is keyed, once, and the pending line is gone."""
    settings = ledgerline.settings_for(tmp_path)
    case = case_of("pending-searched")
    started(settings, case)
    with BackOfficeSession(settings) as office:
        receipt = office.key_case(case, tmp_path / "evidence")
    assert [r["reference"] for r in ledgerline.records(case.external_reference)] == [
        receipt.reference
    ]
    assert ledger(settings).pending(case.external_reference) is None
    assert ledger(settings).find(case.external_reference) is not None


def test_refused_submit_leaves_nothing_pending(ledgerline: Ledgerline, tmp_path):
    settings = ledgerline.settings_for(tmp_path, screens_dir=without_search(tmp_path))
    case = case_of("refused", date_of_birth="2999-01-01")
    with BackOfficeSession(settings) as office, pytest.raises(BackOfficeRefused):
        office.key_case(case, tmp_path / "evidence")
    assert ledger(settings).pending(case.external_reference) is None
    assert ledgerline.records(case.external_reference) == []


def test_settling_an_unknown_submit_names_the_next_step(tmp_path, monkeypatch):
    monkeypatch.setenv("REKEY_DATA_DIR", str(tmp_path / "var"))
    Store(f"sqlite:///{tmp_path / 'var' / 'rekey.db'}")  # a store, without that submit
    result = CliRunner().invoke(cli, ["ledger", "forget", "NOPE"])
    assert result.exit_code != 0
    assert "no unconfirmed submit of NOPE" in str(result.exception) + result.output


@pytest.fixture(scope="module")
def ledgerline(tmp_path_factory: pytest.TempPathFactory):
    with running_ledgerline(tmp_path_factory.mktemp("ledgerline")) as running:
        yield running
