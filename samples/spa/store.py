"""Ledgerline's SQLite database: one ``records`` table for every screen, the values kept as a
JSON document, as the document-minded back ends of the 2010s did.

Each call opens its own connection and commits in one transaction, so the store is safe
to use from the server's threads (SQLite serialises the writers).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from samples.backoffice.store import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT UNIQUE,
    screen TEXT NOT NULL,
    external_ref TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_external_ref ON records (external_ref);
CREATE INDEX IF NOT EXISTS records_screen ON records (screen);
"""
PREFIX = "LL"


class SpaStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path)

    def add(
        self, screen: str, values: dict[str, str], user: str, lines: list[dict[str, str]] = ()
    ) -> str:
        """Save a record (with its lines, if any) in one transaction; return its reference."""
        payload = json.dumps({"values": values, "lines": list(lines)}, ensure_ascii=False)
        row = {
            "screen": screen,
            "external_ref": values.get("external_ref", ""),
            "payload": payload,
            "created_by": user,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO records (screen, external_ref, payload, created_by, created_at) "
                "VALUES (:screen, :external_ref, :payload, :created_by, :created_at)",
                row,
            )
            reference = f"{PREFIX}-{cur.lastrowid:06d}"
            con.execute("UPDATE records SET reference = ? WHERE id = ?", (reference, cur.lastrowid))
        return reference

    def search(self, screen: str = "", external_ref: str = "") -> list[dict]:
        """Records of *screen* with *external_ref* (either left blank: any), oldest first."""
        given = {k: v for k, v in {"screen": screen, "external_ref": external_ref}.items() if v}
        sql = "SELECT * FROM records"
        if given:
            sql += " WHERE " + " AND ".join(f"{k} = :{k}" for k in given)
        with self._connect() as con:
            rows = con.execute(sql + " ORDER BY id", given).fetchall()
        return [as_record(r) for r in rows]


def as_record(row: sqlite3.Row) -> dict:
    payload = json.loads(row["payload"])
    return {
        "reference": row["reference"],
        "screen": row["screen"],
        "external_ref": row["external_ref"],
        "values": payload["values"],
        "lines": payload["lines"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }
