"""Pytest plugin: the case store's back ends, SQLite and a real PostgreSQL server.

Fixtures:
    postgres_server  (session) a PostgreSQL server on a free 127.0.0.1 port (tests.postgres),
                     or the one named by REKEY_TEST_POSTGRES_URL (``.ci/run`` starts one)
    postgres_url     (function) a fresh, empty database on it, dropped afterwards
                     (``fresh_database(server)`` makes one for wider scopes)
    store_url        (function) parametrised: a SQLite file under tmp_path, then a fresh
                     PostgreSQL database; test ids end in ``[sqlite]`` / ``[postgresql]``
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import postgres

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    given = os.environ.get("REKEY_TEST_POSTGRES_URL")
    if given:
        yield postgres.PostgresServer(given)
        return
    server = postgres.start()
    try:
        yield server
    finally:
        postgres.stop(server.folder)


@contextmanager
def fresh_database(server: postgres.PostgresServer) -> Iterator[str]:
    """A new, empty database on ``server`` (its URL), dropped afterwards."""
    name = f"rekey_{secrets.token_hex(6)}"
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.database_url(name)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: postgres.PostgresServer) -> Iterator[str]:
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'rekey.db'}"
    return request.getfixturevalue("postgres_url")
