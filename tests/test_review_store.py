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
    assert version == "0003"
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
