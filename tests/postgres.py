"""A throwaway PostgreSQL server from Debian's binaries, on a free 127.0.0.1 port.

Used by the ``postgres_server`` fixture (tests/conftest_postgres.py) and by ``.ci/run``::

    eval "$(python -m tests.postgres start)"   # exports REKEY_TEST_POSTGRES_URL and _DIR
    python -m tests.postgres stop "$REKEY_TEST_POSTGRES_DIR"

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user
(``runuser``). The data folder, the unix socket and the log all live in one temp folder. The
server's time zone is deliberately not UTC, so a test notices a time read back in it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

BIN = Path(os.environ.get("REKEY_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
USER = "rekey"
SERVER_TIMEZONE = "Asia/Kolkata"  # +05:30, no daylight saving
OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # a throwaway cluster: durability buys nothing here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": SERVER_TIMEZONE,
    "max_connections": "100",
}


@dataclass(frozen=True)
class PostgresServer:
    url: str  # SQLAlchemy URL of its maintenance database
    folder: Path | None = None  # None: started by someone else (e.g. .ci/run)

    def database_url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_owner(args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")


def start(folder: Path | None = None) -> PostgresServer:
    if not (BIN / "initdb").is_file():
        raise RuntimeError(f"no PostgreSQL binaries in {BIN}: run scripts/bootstrap")
    folder = folder or Path(tempfile.mkdtemp(prefix="rekey-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    initdb = [str(BIN / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8"]
    _run([*initdb, "--no-sync", "--locale=C.UTF-8"])
    port = free_port()
    options = " ".join(f"-c {key}={value}" for key, value in OPTIONS.items())
    log = folder / "server.log"
    pg_ctl = [str(BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w"]
    try:
        _run([*pg_ctl, "-t", "60", "-o", f"-p {port} -k {folder} {options}", "start"])
    except RuntimeError as exc:
        said = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"{exc}\n{said}") from exc
    return PostgresServer(f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres", folder)


def stop(folder: Path) -> None:
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        _run([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> None:
    if argv[:1] == ["start"]:
        server = start()
        print(f"export REKEY_TEST_POSTGRES_URL={shlex.quote(server.url)}")
        print(f"export REKEY_TEST_POSTGRES_DIR={shlex.quote(str(server.folder))}")
    elif argv[:1] == ["stop"] and len(argv) == 2:
        stop(Path(argv[1]))
    else:
        raise SystemExit("usage: python -m tests.postgres start | stop FOLDER")


if __name__ == "__main__":
    main(sys.argv[1:])
