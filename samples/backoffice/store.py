"""The back office's own SQLite database: ``claims`` with ``claim_lines``, ``customers``,
and the ``policies`` register (loaded from a CSV when the app starts)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
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
    payout_account TEXT NOT NULL DEFAULT '',
    id_type TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_external_ref ON claims (external_ref);
CREATE INDEX IF NOT EXISTS claims_policy_number ON claims (policy_number);
CREATE TABLE IF NOT EXISTS claim_lines (
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    line_no INTEGER NOT NULL,
    date TEXT NOT NULL,
    description TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (claim_id, line_no)
);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT UNIQUE,
    full_name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    nationality TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    occupation TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    income_band TEXT NOT NULL,
    source_of_funds TEXT NOT NULL DEFAULT '',
    tax_residency TEXT NOT NULL DEFAULT '',
    pep TEXT NOT NULL,
    external_ref TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_external_ref ON customers (external_ref);
CREATE TABLE IF NOT EXISTS policies (
    policy_number TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    status TEXT NOT NULL,
    coverage TEXT NOT NULL,
    currency TEXT NOT NULL
);
"""
POLICY_COLUMNS = ("policy_number", "holder", "status", "coverage", "currency")

PREFIX = {"claims": "CLM", "customers": "CUS"}
LINE_COLUMNS = ("date", "description", "amount")


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the SQLite database at *path* holding one transaction, committed
    when the block ends without an error, rows by column name."""
    with closing(sqlite3.connect(path, timeout=10)) as con:
        con.row_factory = sqlite3.Row
        with con:
            yield con


class BackOfficeStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)
            # a database made before claims had the claimant's ID: add the columns
            have = {r["name"] for r in con.execute("PRAGMA table_info(claims)")}
            for column in ("id_type", "id_number"):
                if column not in have:
                    con.execute(f"ALTER TABLE claims ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
            self.columns = {
                table: [r["name"] for r in con.execute(f"PRAGMA table_info({table})")][1:]
                for table in PREFIX
            }

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path)

    def add(
        self, table: str, record: dict[str, str], user: str, lines: list[dict[str, str]] = ()
    ) -> str:
        """Insert a record (and its line items) in one transaction; return its reference."""
        row = {k: record.get(k, "") for k in self.columns[table] if k not in ("reference",)}
        row |= {"created_by": user, "created_at": datetime.now(UTC).isoformat()}
        names, marks = ", ".join(row), ", ".join(f":{k}" for k in row)
        with self._connect() as con:
            cur = con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", row)
            record_id = cur.lastrowid
            reference = f"{PREFIX[table]}-{record_id:06d}"
            con.execute(f"UPDATE {table} SET reference = ? WHERE id = ?", (reference, record_id))
            for number, line in enumerate(lines, 1):
                con.execute(
                    "INSERT INTO claim_lines VALUES (?, ?, ?, ?, ?)",
                    (record_id, number, *(line[c] for c in LINE_COLUMNS)),
                )
        return reference

    def get(self, table: str, reference: str) -> dict | None:
        with self._connect() as con:
            row = con.execute(f"SELECT * FROM {table} WHERE reference = ?", (reference,)).fetchone()
            if row is None:
                return None
            record = dict(row)
            if table == "claims":
                record["lines"] = [
                    dict(r)
                    for r in con.execute(
                        "SELECT date, description, amount FROM claim_lines "
                        "WHERE claim_id = ? ORDER BY line_no",
                        (row["id"],),
                    )
                ]
        return record

    def load_policies(self, rows: list[dict[str, str]]) -> None:
        """Replace the policy register with *rows* (the corpus's policies.csv layout)."""
        with self._connect() as con:
            con.execute("DELETE FROM policies")
            con.executemany(
                "INSERT INTO policies VALUES (?, ?, ?, ?, ?)",
                [tuple(row[c].strip() for c in POLICY_COLUMNS) for row in rows],
            )

    def policy(self, policy_number: str) -> dict[str, str] | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM policies WHERE upper(policy_number) = upper(?)",
                ("".join(policy_number.split()),),
            ).fetchone()
        return dict(row) if row else None

    def search(self, table: str, **where: str) -> list[dict[str, str]]:
        """Records whose columns equal every non-empty value in *where*."""
        given = {k: v for k, v in where.items() if v}
        sql = f"SELECT * FROM {table}"
        if given:
            sql += " WHERE " + " AND ".join(f"{k} = :{k}" for k in given)
        with self._connect() as con:
            return [dict(r) for r in con.execute(sql + " ORDER BY id", given)]
