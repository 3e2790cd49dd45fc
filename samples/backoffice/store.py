"""The back office's own SQLite database: one ``claims`` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT UNIQUE,
    policy_number TEXT NOT NULL,
    claimant_name TEXT NOT NULL,
    date_of_loss TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    external_ref TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_external_ref ON claims (external_ref);
"""

COLUMNS = (
    "reference",
    "policy_number",
    "claimant_name",
    "date_of_loss",
    "amount",
    "currency",
    "description",
    "external_ref",
    "created_by",
    "created_at",
)


class ClaimStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as con:
            con.row_factory = sqlite3.Row
            with con:  # one transaction, committed on success
                yield con

    def add(self, claim: dict[str, str], user: str) -> str:
        """Insert a claim and return its new reference, ``CLM-000123``."""
        row = {key: claim.get(key, "") for key in COLUMNS[1:8]}
        row |= {"created_by": user, "created_at": datetime.now(UTC).isoformat()}
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._connect() as con:
            cur = con.execute(f"INSERT INTO claims ({names}) VALUES ({marks})", row)
            reference = f"CLM-{cur.lastrowid:06d}"
            con.execute("UPDATE claims SET reference = ? WHERE id = ?", (reference, cur.lastrowid))
        return reference

    def get(self, reference: str) -> dict[str, str] | None:
        with self._connect() as con:
            row = con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM claims WHERE reference = ?", (reference,)
            ).fetchone()
        return dict(row) if row else None

    def search(self, external_ref: str | None = None) -> list[dict[str, str]]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM claims"
        params: tuple[str, ...] = ()
        if external_ref:
            sql += " WHERE external_ref = ?"
            params = (external_ref,)
        with self._connect() as con:
            return [dict(r) for r in con.execute(sql + " ORDER BY id", params)]
