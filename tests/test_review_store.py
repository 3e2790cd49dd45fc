"""The case store's part of the review station: migration 0002 on a store made by 0001,
the queue's page query, and users."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from rekey.errors import StoreError
from rekey.models import Case, CaseState, Document, Finding, utcnow
from rekey.store import MIGRATIONS, Store


def make_case(n: int, *rules: str, doc_type: str = "claim", age_h: float = 0) -> Case:
    return Case(
        id=f"case{n:04d}",
        state=CaseState.review,
        doc_type=doc_type,
        document=Document(original_name=f"{n}.pdf", sha256=f"{n:064x}", size=10),
        findings=[Finding(rule=r, message=f"{r} fired") for r in rules],
        created_at=utcnow() - timedelta(hours=age_h),
    )


def test_migration_0002_upgrades_a_0001_store_and_fills_in_finding_rules(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        case = make_case(1, "format", "policy_not_found")
        connection.execute(
            sa.text(
                "INSERT INTO cases (id, sha256, state, doc_type, original_name, data, "
                "created_at, updated_at) VALUES (:id, :sha, 'review', 'claim', '1.pdf', :data, "
                ":at, :at)"
            ),
            {
                "id": case.id,
                "sha": case.document.sha256,
                "data": case.model_dump_json(),
                "at": case.created_at,
            },
        )
    store = Store(url)
    with store.engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        rules = connection.execute(sa.text("SELECT finding_rules FROM cases")).scalar()
    assert version == "0005"
    assert rules == " format policy_not_found "
    total, found = store.page([CaseState.review], rule="policy_not_found")
    assert total == 1 and [c.id for c in found] == [case.id]


def test_page_filters_orders_oldest_first_and_counts(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'rekey.db'}")
    for n, (rules, doc_type, age) in enumerate(
        [
            (("format",), "claim", 1),
            (("format", "confidence"), "claim", 30),
            (("confidence",), "w9", 5),
            (("policy_not_found_x",), "claim", 50),
        ]
    ):
        store.add(make_case(n, *rules, doc_type=doc_type, age_h=age))
    done = make_case(9, "format", age_h=100)
    done.state = CaseState.done
    store.add(done)

    total, cases = store.page([CaseState.review], limit=2)
    assert total == 4 and [c.id for c in cases] == ["case0003", "case0001"]
    _, rest = store.page([CaseState.review], limit=2, offset=2)
    assert [c.id for c in rest] == ["case0002", "case0000"]
    assert [c.id for c in store.page([CaseState.review], rule="format")[1]] == [
        "case0001",
        "case0000",
    ]
    # a rule name is matched whole: policy_not_found does not match policy_not_found_x
    assert store.page([CaseState.review], rule="policy_not_found") == (0, [])
    assert [c.id for c in store.page([CaseState.review], doc_type="w9")[1]] == ["case0002"]
    older = store.page([CaseState.review], created_before=utcnow() - timedelta(hours=10))
    assert [c.id for c in older[1]] == ["case0003", "case0001"]


def test_users_are_unique_and_adding_one_is_audited(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'rekey.db'}")
    store.add_user("ann", "$argon2id$hash", "reviewer")
    with pytest.raises(StoreError, match="exists already"):
        store.add_user("ann", "$argon2id$other", "admin")
    assert store.user("ann").role == "reviewer"
    assert store.user("nobody") is None
    assert [u.username for u in store.users()] == ["ann"]
    assert [e.action for e in store.events()] == ["user:added"]


def test_migration_0005_keeps_users_enabled_and_adds_sessions(store_url: str):
    if store_url.startswith("sqlite:///"):
        Path(store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(
            sa.text(
                "INSERT INTO users (username, password_hash, role, created_at) "
                "VALUES ('old', 'h', 'admin', :at)"
            ),
            {"at": utcnow()},
        )
    engine.dispose()
    store = Store(store_url)
    assert store.user("old") == ("old", "h", "admin", False)
    store.open_session("old", "a" * 64, "csrf")
    assert store.session("a" * 64).username == "old"


def test_sessions_end_on_revoke_disable_and_password_change(store_url: str):
    store = Store(store_url)
    store.add_user("ann", "h1", "reviewer")
    for n in range(3):
        store.open_session("ann", str(n) * 64, f"csrf{n}")
    found = store.session("0" * 64)
    assert (found.username, found.role, found.disabled, found.csrf) == (
        "ann",
        "reviewer",
        False,
        "csrf0",
    )
    assert found.revoked_at is None and found.created_at.tzinfo is not None
    assert store.revoke_session("0" * 64) and not store.revoke_session("0" * 64)
    assert store.session("0" * 64).revoked_at is not None
    assert store.change_user("ann", "root", disabled=True).disabled
    assert store.session("1" * 64).revoked_at is not None and store.session("1" * 64).disabled
    store.change_user("ann", "root", disabled=False)
    store.open_session("ann", "9" * 64, "csrf9")
    assert store.change_user("ann", "root", password_hash="h2").password_hash == "h2"
    assert store.session("9" * 64).revoked_at is not None
    trail = [(e.actor, e.action, e.detail.get("sessions_ended")) for e in store.events()]
    assert trail[1:] == [
        ("root", "user:disabled", 2),
        ("root", "user:enabled", 0),
        ("root", "user:password", 1),
    ]
    with pytest.raises(StoreError, match="no user named"):
        store.change_user("nobody", "root", disabled=True)
    store.open_session("ann", "n" * 64, "csrfn", forget_before=utcnow())  # the rest: over
    assert store.session("n" * 64) is not None and store.session("9" * 64) is None


def test_sign_in_failures_count_block_and_are_forgotten(store_url: str):
    store = Store(store_url)
    now = utcnow()
    keys = ["user:ann", "address:10.0.0.1"]
    day = timedelta(days=1)
    block = [store.record_sign_in_failure(keys, now, lambda n: 10.0 * (n >= 3), day) for _ in "abc"]
    assert block[:2] == [None, None]
    assert block[2] == now + timedelta(seconds=10)
    assert store.sign_in_blocked_until(["address:10.0.0.1"], now) == block[2]
    assert store.sign_in_blocked_until(["user:bob"], now) is None
    assert store.sign_in_blocked_until(keys, now + timedelta(seconds=11)) is None
    store.clear_sign_in_failures("user:ann")
    assert store.sign_in_blocked_until(["user:ann"], now) is None
    later = now + 2 * day  # a failure a day after the last starts the count again
    assert store.record_sign_in_failure(keys, later, lambda n: 10.0 * (n >= 2), day) is None
