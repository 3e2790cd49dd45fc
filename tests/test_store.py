"""The case store on both of its back ends: SQLite (the embedded default) and a real
PostgreSQL server (tests.conftest_postgres). Every test taking ``store_url`` runs on each."""

from __future__ import annotations

import multiprocessing
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
import sqlalchemy as sa

from rekey.errors import ConfigError, DuplicateDocument, StoreError
from rekey.models import Case, CaseState, Document, Field, Finding
from rekey.store import GENESIS, Store, event_hash


def make_case(sha: str = "ab" * 32, **changes: object) -> Case:
    document = Document(original_name="claim.pdf", sha256=sha, size=10)
    return Case(document=document).model_copy(update=changes)


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


def stored_links(url: str) -> list[sa.Row]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT prev_hash, hash FROM audit_events ORDER BY id")
            ).all()
    finally:
        engine.dispose()


def assert_one_chain(links: list[sa.Row]) -> None:
    assert links[0].prev_hash == GENESIS
    assert all(link.prev_hash == before.hash for before, link in pairwise(links))
    assert len({link.hash for link in links}) == len(links)


def test_migrations_are_applied_on_open(store: Store) -> None:
    with store.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert {"cases", "audit_events", "users", "keyed_cases", "pending_submits"} <= tables
    assert version == "0005"


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
    assert len(store.list()) == 1 and len(store.events()) == 1  # the refused one left nothing


def test_every_change_is_an_audit_event(store: Store) -> None:
    case = store.add(make_case())
    store.transition(case, CaseState.extracted)
    store.transition(case, CaseState.validated)
    actions = [e.action for e in store.events(case.id)]
    assert actions == ["received", "state:extracted", "state:validated"]
    assert store.events(case.id)[1].detail["before"] == "received"


def test_reopening_keeps_data(store_url: str) -> None:
    case = Store(store_url).add(make_case())
    assert Store(store_url).get(case.id) == case


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="database_url"):
        Store("not a url")


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with socket.socket() as closed:  # bound, never listening: nothing answers on it
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(StoreError, match="cannot open the case store") as caught:
            Store(f"postgresql+psycopg://rekey:s3cret-pw@127.0.0.1:{port}/rekey")
    assert "s3cret-pw" not in str(caught.value)


def test_connections_the_server_cut_are_replaced(postgres_url: str) -> None:
    store = Store(postgres_url)
    first = store.add(make_case())
    outsider = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    with outsider.connect() as connection:  # the store's pooled connection is cut off
        ended = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert ended >= 1
    assert store.get(first.id) == first
    store.transition(first, CaseState.extracted)
    assert [e.action for e in store.events(first.id)] == ["received", "state:extracted"]


def test_text_longer_than_its_column_is_refused_on_both(store: Store) -> None:
    with pytest.raises(StoreError, match=r"cases\.doc_type holds at most 40 characters"):
        store.add(make_case(doc_type="d" * 41))
    case = store.add(make_case())
    with pytest.raises(StoreError, match=r"audit_events\.actor holds at most 80"):
        store.transition(case, CaseState.extracted, actor="a" * 81)
    assert [e.action for e in store.events()] == ["received"]  # nothing half-written
    assert store.get(case.id).state is CaseState.received


def test_json_columns_keep_every_value(store: Store) -> None:
    case = make_case(
        doc_type="claim_cn",
        fields={
            "name": Field(name="name", value="张伟 Łukasz Müller", confidence=0.875),
            "amount": Field(name="amount", value="1234.50", confidence=1.0, required=True),
            "empty": Field(name="empty"),
        },
        findings=[Finding(rule="dup", fields=["name", "amount"], message='quote " and \\ ok')],
    )
    store.add(case, note={"nested": [1, 2.5, None, True, "ü"]})
    again = store.get(case.id)
    assert again == case
    assert again.model_dump(mode="json") == case.model_dump(mode="json")
    detail = store.events(case.id)[0].detail
    assert len(detail.pop("case_digest")) == 64
    assert detail == {
        "file": "claim.pdf",
        "note": {"nested": [1, 2.5, None, True, "ü"]},
    }


def test_times_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    """The PostgreSQL test server runs in +05:30: times read back must still be UTC."""
    written = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    case = store.add(make_case(created_at=written, updated_at=written))
    store.transition(case, CaseState.extracted)
    events = store.events(case.id)
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in events)
    assert store.get(case.id).created_at == written  # kept whole, as JSON
    assert store.list(since=written)[0].id == case.id
    assert store.list(since=written + timedelta(seconds=1)) == []


def test_times_in_different_zones_compare_as_instants(store: Store) -> None:
    """SQLite keeps no zone: the store must write every time as UTC for ``since`` and the
    order to mean the same on both back ends."""
    new_york = timezone(timedelta(hours=-5))
    early = datetime(2026, 3, 1, 23, 30, tzinfo=new_york)  # 04:30 UTC on the 2nd
    late = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    store.add(make_case("1" * 64, id="late", created_at=late, updated_at=late))
    store.add(make_case("2" * 64, id="early", created_at=early, updated_at=early))
    assert [c.id for c in store.list()] == ["early", "late"]
    assert [c.id for c in store.list(since=datetime(2026, 3, 2, 5, 0, tzinfo=UTC))] == ["late"]
    assert [c.id for c in store.list(since=datetime(2026, 3, 2, 4, 30, tzinfo=UTC))] == [
        "early",
        "late",
    ]
    moment = store.events()[0].at
    assert len(store.events(since=moment.astimezone(new_york))) == 2
    assert store.events(since=moment + timedelta(hours=1)) == []


def test_the_chain_verifies_from_what_is_read_back(store: Store, store_url: str) -> None:
    case = store.add(make_case())
    for state in (CaseState.extracted, CaseState.validated, CaseState.keying):
        store.transition(case, state, note="ü")
    links = stored_links(store_url)
    prev = GENESIS
    for event, link in zip(store.events(), links, strict=True):
        assert link.hash == event_hash(prev, event)
        prev = link.hash


def test_cases_are_listed_oldest_first(store: Store) -> None:
    base = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    order = [3, 0, 2, 1]
    for n in order:
        moment = base + timedelta(minutes=n)
        store.add(make_case(f"{n:064d}", id=f"case{n}", created_at=moment, updated_at=moment))
    tie = make_case("f" * 64, id="case0b", created_at=base, updated_at=base)  # same instant
    store.add(tie)
    assert [c.id for c in store.list()] == ["case0", "case0b", "case1", "case2", "case3"]
    later = store.list(since=base + timedelta(minutes=2))
    assert [c.id for c in later] == ["case2", "case3"]
    assert [e.case_id for e in store.events()] == [f"case{n}" for n in order] + ["case0b"]


def _write_cases(url: str, count: int) -> None:
    store = Store(url)
    for _ in range(count):
        store.save(store.add(make_case(secrets.token_hex(32))), "touched")


def run_writers(url: str, processes: int, count: int) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_cases, args=(url, count)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * processes


def test_writers_in_several_processes_keep_one_unbroken_chain(store_url: str) -> None:
    Store(store_url)  # migrate once up front, as a deployment does
    run_writers(store_url, processes=3, count=15)
    links = stored_links(store_url)
    assert len(links) == 3 * 15 * 2
    assert_one_chain(links)


def test_workers_starting_together_on_an_empty_database(store_url: str) -> None:
    """No migration up front: every worker opens the store at once, one migrates."""
    run_writers(store_url, processes=3, count=5)
    links = stored_links(store_url)
    assert len(links) == 3 * 5 * 2
    assert_one_chain(links)


def open_together(url: str, threads: int) -> list[BaseException]:
    """What went wrong when ``threads`` threads open a store on ``url`` at one moment and
    each adds a case."""
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Store(url).add(make_case(secrets.token_hex(32)))
        except BaseException as exc:
            failures.append(exc)

    started = [threading.Thread(target=open_it) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return failures


def test_threads_opening_a_new_sqlite_file_together(tmp_path) -> None:
    """Each thread's first connection switches the new file to WAL at the same moment;
    SQLite refuses one of two such switches at once, and none may fail for it."""
    for round_ in range(30):
        url = f"sqlite:///{tmp_path}/round{round_}.db"
        assert open_together(url, threads=6) == []
        assert len(Store(url).list()) == 6
        with sa.create_engine(url).connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
