"""``rekey audit verify`` on a real SQLite store: intact, then edited, deleted and inserted
events are each caught and named."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rekey.audit import first_break, stored_links
from rekey.cli import app
from rekey.models import Case, CaseState, Document
from rekey.settings import Settings
from rekey.store import Store


def fill(store: Store, cases: int = 3) -> None:
    for number in range(cases):
        case = store.add(
            Case(document=Document(original_name=f"f{number}.pdf", sha256=f"{number:064d}", size=1))
        )
        store.transition(case, CaseState.extracted)
        store.transition(case, CaseState.validated)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("REKEY_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")
    fill(Store(Settings(_env_file=None).db_url))  # type: ignore[call-arg]
    return data


def run_sql(data: Path, sql: str, **params: object) -> None:
    engine = sa.create_engine(f"sqlite:///{data / 'rekey.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)
    engine.dispose()


def verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


def test_an_intact_trail_passes(data: Path) -> None:
    code, output = verify()
    assert code == 0, output
    assert "intact" in output and "9 events" in output


def test_an_edited_event_is_named(data: Path) -> None:
    run_sql(data, "UPDATE audit_events SET action = 'state:done' WHERE id = 5")
    code, output = verify()
    assert code == 1
    assert "audit event 5" in output and "edited" in output


def test_an_edited_detail_is_named(data: Path) -> None:
    run_sql(data, 'UPDATE audit_events SET detail = \'{"file": "other.pdf"}\' WHERE id = 4')
    code, output = verify()
    assert code == 1 and "audit event 4" in output


def test_a_deleted_event_is_caught_at_its_successor(data: Path) -> None:
    run_sql(data, "DELETE FROM audit_events WHERE id = 7")
    code, output = verify()
    assert code == 1
    assert "audit event 8" in output and "deleted or inserted" in output


def test_an_inserted_event_is_named(data: Path) -> None:
    store = Store(f"sqlite:///{data / 'rekey.db'}")
    links = stored_links(store)
    forged = links[5]  # a copy of a real event, its hashes as they were, slipped in later
    run_sql(
        data,
        "INSERT INTO audit_events (id, case_id, at, actor, action, detail, prev_hash, hash) "
        "VALUES (100, :case_id, :at, 'rekey', 'state:done', '{}', :prev, :hash)",
        case_id=forged.event.case_id,
        at=forged.event.at,
        prev=links[-1].hash,
        hash=forged.hash,
    )
    code, output = verify()
    assert code == 1
    assert "audit event 100" in output and "edited" in output


def test_first_break_is_a_pure_check_over_links(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'rekey.db'}")
    fill(store, 2)
    links = stored_links(store)
    assert len(links) == 6 and first_break(links) is None
    assert first_break(links[1:]).id == links[1].id  # the first one missing
    swapped = [links[0], links[2], links[1], *links[3:]]
    broken = first_break(swapped)
    assert broken is not None and broken.id == links[2].id
