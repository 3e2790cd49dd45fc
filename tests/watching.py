"""Helpers for the tests that run ``rekey watch`` as a real subprocess: a generated batch
with truth files, the watcher process (started, stopped, killed), and waiting on conditions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from rekey.settings import PROJECT_ROOT
from samples.corpus.generate import DocSpec, generate
from tests.conftest_backoffice import RunningBackOffice

# readable digital documents: fast to read, and all of them carry identifiers
DIGITAL = {"claim": 14, "account_opening": 8, "claim_cn": 3, "w9": 3}
IDENTIFIER_FIELDS = ("id_number", "bank_account", "ssn", "ein", "account_numbers")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def make_batch(folder: Path, counts: dict[str, int] = DIGITAL, seed: int = 11) -> Path:
    """Digital documents with truth files (and the corpus's policies.csv) in ``folder``."""
    specs = []
    for kind, n in counts.items():
        for _ in range(n):
            index = len(specs)
            specs.append(DocSpec(index, kind, "digital", "pdf", seed * 100_000 + index, None))
    return generate(folder, len(specs), seed, 0.0, workers=2, specs=specs)


def documents(batch: Path) -> list[Path]:
    return sorted(p for p in batch.glob("*.pdf"))


def unreadable(folder: Path, count: int) -> list[Path]:
    """Files that cannot be read: a letter saved as .pdf, and a PDF cut short."""
    made = []
    for number in range(count):
        path = folder / f"unreadable-{number:02d}.pdf"
        if number % 2:
            path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog" + bytes([number]))
        else:
            path.write_text(f"Dear Sir or Madam, letter {number}, my claim is attached.\n")
        made.append(path)
    return made


def identifiers(batch: Path) -> set[str]:
    """Every full identifier value in the batch's truth files, without separators."""
    found = set()
    for truth in batch.glob("*.truth.json"):
        fields = json.loads(truth.read_text())["fields"]
        for name in IDENTIFIER_FIELDS:
            value = "".join(ch for ch in str(fields.get(name) or "") if ch.isalnum())
            if len(value) >= 6:
                found.add(value)
    return found


@dataclass
class Watcher:
    """``rekey watch INBOX`` as an operator runs it, in its own process group."""

    inbox: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = field(default=None, init=False)
    runs_before: int = field(default=0, init=False)

    def start(self) -> Watcher:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.runs_before = self.output.count("watching ")
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rekey.cli", "watch", str(self.inbox)],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_started(self, timeout: float = 120) -> None:
        wait_until(
            lambda: self.output.count("watching ") > self.runs_before or self.died(),
            timeout,
            "start",
        )
        assert not self.died(), self.output[-3000:]

    def died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL the watcher and everything in its process group, as a crash would."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)

    def close(self) -> None:
        """Make sure nothing of this watcher is left running (after a failed test too)."""
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def stop(self) -> int:
        """SIGTERM: the watcher finishes the file in hand and exits."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        with suppress(ProcessLookupError):  # nothing it started may linger
            os.killpg(self.process.pid, signal.SIGKILL)
        return code


def prefect_api_url() -> str:
    """The API of the session's Prefect test harness, for watcher processes to share
    (each would otherwise start a server of its own, ~15 s)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the prefect_harness fixture is not active"
    return url


def watcher_env(backoffice: RunningBackOffice, data: Path, prefect_home: Path, **extra: str):
    """The environment of a watcher process: everything through REKEY_* settings; Prefect
    through the session's harness."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REKEY_", "PREFECT_"))}
    return (
        env
        | {
            "REKEY_DATA_DIR": str(data),
            "REKEY_BACKOFFICE_URL": backoffice.url,
            "REKEY_BACKOFFICE_USER": backoffice.user,
            "REKEY_BACKOFFICE_PASSWORD": backoffice.password,
            "REKEY_WATCH_STABLE_S": "0.3",
            "REKEY_WATCH_RETRY_S": "5",
            "REKEY_KEYING_RETRY_DELAY_S": "0.2",
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": prefect_api_url(),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "COLUMNS": "200",
            "PYTHONUNBUFFERED": "1",
        }
        | extra
    )


def audit_count(data: Path) -> int:
    db = data / "rekey.db"
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    finally:
        con.close()


def settled(inbox: Path) -> list[str]:
    """Names of the documents in done/ and quarantine/ (reason files left out)."""
    return sorted(
        p.name
        for folder in ("done", "quarantine")
        if (inbox / folder).is_dir()
        for p in (inbox / folder).iterdir()
        if not p.name.endswith(".reason.txt")
    )


def pending(inbox: Path) -> list[str]:
    """Documents still in the inbox or in processing/."""
    found = [p.name for p in inbox.iterdir() if p.is_file()]
    processing = inbox / "processing"
    if processing.is_dir():
        found += [p.name for p in processing.iterdir()]
    return found


def drop(files: list[Path], inbox: Path) -> None:
    """Copy each file in as a user would, some straight in (written in place), some via a
    temporary name renamed when complete."""
    for number, source in enumerate(files):
        if number % 2:
            part = inbox / f"{source.name}.part"
            shutil.copyfile(source, part)
            part.rename(inbox / source.name)
        else:
            shutil.copyfile(source, inbox / source.name)
