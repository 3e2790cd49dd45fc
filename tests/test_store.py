from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from rekey.errors import ConfigError, DuplicateDocument
from rekey.models import Case, CaseState, Document
from rekey.store import Store


def make_case(sha: str = "ab" * 32) -> Case:
    return Case(document=Document(original_name="claim.pdf", sha256=sha, size=10))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'store' / 'rekey.db'}")


def test_migrations_are_applied_on_open(store: Store) -> None:
    with store.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert {"cases", "audit_events", "users", "alembic_version"} <= tables
    assert version == "0002"


def test_case_round_trip_and_lookup_by_content(store: Store) -> None:
    case = store.add(make_case())
    store.transition(case, CaseState.extracted)
    again = store.by_sha256("ab" * 32)
    assert again is not None and again.id == case.id
    assert again.state is CaseState.extracted
    assert store.get(case.id) == again
    assert [c.id for c in store.list([CaseState.extracted])] == [case.id]
    assert store.list([CaseState.done]) == []


def test_same_content_is_refused(store: Store) -> None:
    store.add(make_case())
    with pytest.raises(DuplicateDocument):
        store.add(make_case())


def test_every_change_is_an_audit_event(store: Store) -> None:
    case = store.add(make_case())
    store.transition(case, CaseState.extracted)
    store.transition(case, CaseState.validated)
    actions = [e.action for e in store.events(case.id)]
    assert actions == ["received", "state:extracted", "state:validated"]
    assert store.events(case.id)[1].detail["before"] == "received"


def test_reopening_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rekey.db'}"
    case = Store(url).add(make_case())
    assert Store(url).get(case.id) is not None


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="database_url"):
        Store("not a url")
