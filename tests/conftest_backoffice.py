"""Pytest plugin: a real back office (ClaimBase 2000) on a free 127.0.0.1 port.

Enable with ``pytest_plugins = ["tests.conftest_backoffice"]`` in ``tests/conftest.py``.

Fixtures:
    backoffice          (session) the running server: ``.url``, ``.user``, ``.password``,
                        ``.db_path``, ``.settings_for(tmp_path, **overrides)``, ``.claims()``,
                        ``.customers()``, ``.lines(claim_reference)``
    backoffice_settings (function) a rekey Settings pointing at it, data under tmp_path

:func:`start_backoffice` starts another one (e.g. with chaos knobs) for one test.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from rekey.settings import Settings
from samples.backoffice.chaos import Chaos
from samples.backoffice.server import backoffice_process, running_backoffice


@dataclass(frozen=True)
class RunningBackOffice:
    url: str
    user: str
    password: str
    db_path: Path

    def settings_for(self, tmp_path: Path, **overrides: object) -> Settings:
        """Settings for rekey against this back office, ignoring any REKEY_* env and .env."""
        values: dict[str, object] = {
            "data_dir": tmp_path / "var",
            "backoffice_url": self.url,
            "backoffice_user": self.user,
            "backoffice_password": self.password,
        }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    def claims(self, **where: str) -> list[dict[str, str]]:
        """Rows of the back office's claims table, straight from its SQLite database."""
        return self.rows("claims", **where)

    def customers(self, **where: str) -> list[dict[str, str]]:
        return self.rows("customers", **where)

    def lines(self, reference: str) -> list[dict[str, str]]:
        """A claim's expense line items, in order."""
        con = sqlite3.connect(self.db_path)
        try:
            con.row_factory = sqlite3.Row
            sql = (
                "SELECT l.date, l.description, l.amount FROM claim_lines l "
                "JOIN claims c ON c.id = l.claim_id WHERE c.reference = ? ORDER BY l.line_no"
            )
            return [dict(r) for r in con.execute(sql, (reference,))]
        finally:
            con.close()

    def rows(self, table: str, **where: str) -> list[dict[str, str]]:
        sql = f"SELECT * FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(f"{k} = :{k}" for k in where)
        con = sqlite3.connect(self.db_path)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql + " ORDER BY id", where)]
        finally:
            con.close()


@contextmanager
def start_backoffice(
    folder: Path,
    *,
    chaos: Chaos | None = None,
    idle_timeout_s: float = 900,
    own_process: bool = False,
) -> Iterator[RunningBackOffice]:
    """A back office of its own on a free loopback port, its database in *folder*; in a
    child process with *own_process* (for long runs: the server then has its own core)."""
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "backoffice.db"
    user, password = "clerk", secrets.token_urlsafe(16)
    if own_process:
        server = backoffice_process(
            db_path, user, password, chaos=chaos, idle_timeout_s=idle_timeout_s
        )
    else:
        server = running_backoffice(
            db_path, {user: password}, chaos=chaos, idle_timeout_s=idle_timeout_s
        )
    with server as url:
        yield RunningBackOffice(url, user, password, db_path)


@pytest.fixture(scope="session")
def backoffice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBackOffice]:
    with start_backoffice(tmp_path_factory.mktemp("backoffice")) as running:
        yield running


@pytest.fixture
def backoffice_settings(backoffice: RunningBackOffice, tmp_path: Path) -> Settings:
    return backoffice.settings_for(tmp_path)
