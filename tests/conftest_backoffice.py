"""Pytest plugin: a real back office (ClaimBase 2000) on a free 127.0.0.1 port.

Enable with ``pytest_plugins = ["tests.conftest_backoffice"]`` in ``tests/conftest.py``.

Fixtures:
    backoffice          (session) the running server: ``.url``, ``.user``, ``.password``,
                        ``.db_path``, ``.settings_for(tmp_path, **overrides)``, ``.claims()``
    backoffice_settings (function) a rekey Settings pointing at it, data under tmp_path
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rekey.settings import Settings
from samples.backoffice.server import running_backoffice


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
        sql = "SELECT * FROM claims"
        if where:
            sql += " WHERE " + " AND ".join(f"{k} = :{k}" for k in where)
        con = sqlite3.connect(self.db_path)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql + " ORDER BY id", where)]
        finally:
            con.close()


@pytest.fixture(scope="session")
def backoffice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBackOffice]:
    db_path = tmp_path_factory.mktemp("backoffice") / "backoffice.db"
    user, password = "clerk", secrets.token_urlsafe(16)
    with running_backoffice(db_path, {user: password}) as url:
        yield RunningBackOffice(url, user, password, db_path)


@pytest.fixture
def backoffice_settings(backoffice: RunningBackOffice, tmp_path: Path) -> Settings:
    return backoffice.settings_for(tmp_path)
