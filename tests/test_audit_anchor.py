"""The audit trail anchored outside the database, on SQLite and PostgreSQL: whoever can
write to the database but holds no audit key cannot rewrite the trail, cut it short or
edit a case unseen; stores written before the key existed still verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rekey.audit import (
    Anchor,
    read_checkpoints,
    read_key,
    stored_links,
    verify_store,
)
from rekey.cli import app
from rekey.errors import ConfigError
from rekey.models import Case, CaseState, Document
from rekey.settings import Settings
from rekey.store import GENESIS, Store, audit_events, event_hash, event_of

KEY = b"k" * 64


def fill(store: Store, cases: int = 3, first: int = 0) -> list[Case]:
    made = []
    for number in range(first, first + cases):
        document = Document(original_name=f"f{number}.pdf", sha256=f"{number:064d}", size=1)
        case = store.add(Case(document=document))
        store.transition(case, CaseState.extracted)
        made.append(store.transition(case, CaseState.validated))
    return made


@pytest.fixture
def anchor(tmp_path: Path) -> Anchor:
    return Anchor(KEY, tmp_path / "audit" / "checkpoints.jsonl", every=1)


@pytest.fixture
def anchored(store_url: str, anchor: Anchor) -> Store:
    store = Store(store_url, key=KEY, checkpoint=anchor.after_append)
    fill(store)
    return store


def verdict(store: Store, anchor: Anchor):
    return verify_store(store, KEY, read_checkpoints(anchor.checkpoints))


def sql(store: Store, text: str, **params: object) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text(text), params)


def rechain_without_key(store: Store) -> None:
    """What someone with only the database can do: recompute every hash, plain SHA-256."""
    prev = GENESIS
    with store.engine.begin() as connection:
        for row in connection.execute(sa.select(audit_events).order_by(audit_events.c.id)).all():
            new = event_hash(prev, event_of(row))
            connection.execute(
                audit_events.update()
                .where(audit_events.c.id == row.id)
                .values(prev_hash=prev, hash=new)
            )
            prev = new


def test_an_anchored_trail_is_intact(anchored: Store, anchor: Anchor) -> None:
    found = verdict(anchored, anchor)
    assert found.intact and found.events == 9 and found.checkpoints == 10  # and the head


def test_an_edit_rechained_without_the_key_is_caught(anchored: Store, anchor: Anchor) -> None:
    sql(anchored, "UPDATE audit_events SET actor = 'mallory' WHERE id = 5")
    rechain_without_key(anchored)
    found = verdict(anchored, anchor)
    assert not found.intact  # the chain holds (plain SHA-256 throughout), the anchor does not
    assert "checkpoint 1 (event 1" in found.checkpoint and "rewritten" in found.checkpoint


def test_a_cut_off_tail_is_caught_by_the_checkpoint(anchored: Store, anchor: Anchor) -> None:
    sql(anchored, "DELETE FROM audit_events WHERE id > 7")
    found = verdict(anchored, anchor)
    assert found.broken is None  # what is left still chains
    assert "(event 8, 8 events)" in found.checkpoint and "7 events" in found.checkpoint
    assert "deleted" in found.checkpoint
    assert len(found.cases) == 1  # the case whose last events went no longer matches


def test_a_tail_cut_off_after_the_last_checkpoint_is_caught_by_the_head(
    store_url: str, tmp_path: Path
) -> None:
    anchor = Anchor(KEY, tmp_path / "audit" / "checkpoints.jsonl", every=100)
    store = Store(store_url, key=KEY, checkpoint=anchor.after_append)
    fill(store)
    assert not anchor.checkpoints.exists()  # 9 events: no checkpoint yet, only the head
    assert verdict(store, anchor).intact
    sql(store, "DELETE FROM audit_events WHERE id > 7")
    found = verdict(store, anchor)
    assert found.broken is None  # what is left still chains
    assert "head.json (event 9)" in found.checkpoint and "cut short" in found.checkpoint
    assert (tmp_path / "audit" / "head.json").stat().st_mode & 0o077 == 0


def test_a_forged_checkpoint_is_caught(anchored: Store, anchor: Anchor) -> None:
    line = json.loads(anchor.checkpoints.read_text().splitlines()[-1])
    line["count"] = 3
    with anchor.checkpoints.open("a") as out:
        out.write(json.dumps(line) + "\n")
    found = verdict(anchored, anchor)
    assert "not written with the audit key" in found.checkpoint


def test_an_edited_case_is_caught(anchored: Store, anchor: Anchor) -> None:
    case_id = anchored.list()[1].id
    sql(anchored, "UPDATE cases SET state = 'done', reference = 'CLM-X' WHERE id = :id", id=case_id)
    found = verdict(anchored, anchor)
    assert found.broken is None
    assert found.cases == [
        f"case {case_id} differs from its last audit event (edited outside rekey)"
    ]


def test_a_deleted_and_an_inserted_case_are_caught(anchored: Store, anchor: Anchor) -> None:
    gone = anchored.list()[0].id
    sql(anchored, "DELETE FROM cases WHERE id = :id", id=gone)
    sql(
        anchored,
        "INSERT INTO cases (id, sha256, state, original_name, data, created_at, updated_at) "
        "SELECT 'forged', :sha, state, original_name, data, created_at, updated_at "
        "FROM cases WHERE id = :id",
        sha="f" * 64,
        id=anchored.list()[0].id,
    )
    found = verdict(anchored, anchor)
    assert any("case forged has no audit event" in p for p in found.cases)
    assert any(f"case {gone} is gone" in p for p in found.cases)


def test_a_store_from_before_the_key_still_verifies(store_url: str, anchor: Anchor) -> None:
    fill(Store(store_url), 2)  # written with no key: plain SHA-256
    store = Store(store_url, key=KEY, checkpoint=anchor.after_append)
    anchor.checkpoint(store)  # anchors the old events
    fill(store, 1, first=5)
    found = verdict(store, anchor)
    assert found.intact, found
    links = stored_links(store)
    assert links[0].hash == event_hash(GENESIS, links[0].event)  # still plain
    assert links[-1].hash == event_hash(links[-2].hash, links[-1].event, KEY)


def test_a_cut_off_head_is_caught(anchored: Store, anchor: Anchor) -> None:
    """The last checkpoint counted events up to 9; event 9 gone and a stand-in appended."""
    sql(anchored, "DELETE FROM audit_events WHERE id = 9")
    fill(anchored, 1, first=8)
    assert "event 9" in verdict(anchored, anchor).checkpoint


def test_a_plain_event_after_keyed_ones_is_a_rewrite(anchored: Store, anchor: Anchor) -> None:
    fill(Store(str(anchored.engine.url.render_as_string(hide_password=False))), 1, first=7)
    found = verdict(anchored, anchor)
    assert found.broken is not None and "without the audit key" in found.broken.reason


# -- the key and the command ----------------------------------------------------------------
@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("REKEY_DATA_DIR", str(data))
    monkeypatch.setenv("REKEY_AUDIT_CHECKPOINT_EVERY", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return data


def test_the_key_file_is_made_once_and_private(data: Path) -> None:
    from rekey.pipeline import store_for

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    fill(store_for(settings), 1)
    key_file = data / "keys" / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "rekey.db").stat().st_mode) == 0o600
    assert read_key(settings) == key_file.read_text().strip().encode()
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        read_key(settings)


def test_verify_passes_then_catches_a_cut_off_tail(data: Path) -> None:
    from rekey.pipeline import store_for

    fill(store_for(Settings(_env_file=None)), 2)  # type: ignore[call-arg]
    runner = CliRunner()
    first = runner.invoke(app, ["audit", "verify"])
    assert first.exit_code == 0, first.output
    assert "intact" in first.output and "6 events" in first.output
    assert "checkpoint written" in first.output
    engine = sa.create_engine(f"sqlite:///{data / 'rekey.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_events WHERE id = 6"))
    engine.dispose()
    second = runner.invoke(app, ["audit", "verify"])
    assert second.exit_code == 1, second.output
    assert "(event 6, 6 events): the trail holds 5 events" in second.output


def test_verify_without_a_store_says_so(data: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "no case store in" in result.output and str(data) in result.output
    assert not (data / "rekey.db").exists()


def test_verify_on_postgresql_catches_an_edited_case(
    data: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rekey.pipeline import store_for

    monkeypatch.setenv("REKEY_DATABASE_URL", postgres_url)
    store = store_for(Settings(_env_file=None))  # type: ignore[call-arg]
    [case] = fill(store, 1)
    runner = CliRunner()
    first = runner.invoke(app, ["audit", "verify"])
    assert first.exit_code == 0, first.output
    sql(store, "UPDATE cases SET state = 'done' WHERE id = :id", id=case.id)
    second = runner.invoke(app, ["audit", "verify"])
    assert second.exit_code == 1, second.output
    assert f"case {case.id} differs from its last audit event" in second.output
