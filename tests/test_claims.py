"""The watched folder's file handling on a real file system: when a file is complete, the
claim (flock + atomic rename), recovery of orphans only, and settling that never replaces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.claims import (
    Folders,
    Sighting,
    claim,
    held_for_writing,
    observe,
    orphans,
    settle,
    steady,
)


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Folders.of(inbox).make()


def test_a_file_is_steady_once_unchanged_for_the_interval(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    seen = observe({}, {a: (10, 1), b: (5, 1)}, now=100.0)
    assert steady(seen, 100.5, 1.0) == []
    seen = observe(seen, {a: (10, 1), b: (7, 2)}, now=100.6)  # b still being written
    assert seen[a] == Sighting(10, 1, 100.0) and seen[b].since == 100.6
    assert steady(seen, 101.0, 1.0) == [a]
    assert steady(observe(seen, {b: (7, 2)}, 102.0), 102.0, 1.0) == [b]  # a gone


def test_a_file_open_for_writing_is_held(folders: Folders) -> None:
    path = folders.inbox / "big.pdf"
    with path.open("wb") as fh:
        fh.write(b"%PDF-")
        assert path in held_for_writing(folders.inbox)
    assert path not in held_for_writing(folders.inbox)


def test_one_claim_per_file(folders: Folders) -> None:
    path = folders.inbox / "claim.pdf"
    path.write_bytes(b"%PDF-1.7")
    first = claim(path, folders)
    assert first is not None and first.path == folders.processing / "claim.pdf"
    assert not path.exists()
    assert claim(path, folders) is None
    path.write_bytes(b"another file of the same name")  # dropped again meanwhile
    second = claim(path, folders)
    assert second is not None and second.path == folders.processing / "claim~1.pdf"
    assert (folders.processing / "claim.pdf").read_bytes() == b"%PDF-1.7"


HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def test_recovery_takes_only_files_no_live_process_holds(folders: Folders) -> None:
    live, orphan = folders.processing / "live.pdf", folders.processing / "orphan.pdf"
    live.write_bytes(b"1")
    orphan.write_bytes(b"2")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(live)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        taken = list(orphans(folders))
        assert [c.path for c in taken] == [orphan]
        for c in taken:
            c.release()
        holder.kill()  # the watcher holding it dies: the kernel drops its lock
        holder.wait(timeout=30)
        assert sorted(c.path.name for c in orphans(folders)) == ["live.pdf", "orphan.pdf"]
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_settling_never_replaces_and_files_the_reason(folders: Folders) -> None:
    (folders.quarantine / "x.pdf").write_bytes(b"older")
    path = folders.inbox / "x.pdf"
    path.write_bytes(b"newer")
    held = claim(path, folders)
    target = settle(held, folders.quarantine, "the file is plain text")
    assert target == folders.quarantine / "x~1.pdf"
    assert target.read_bytes() == b"newer"
    assert (folders.quarantine / "x.pdf").read_bytes() == b"older"
    reason = (folders.quarantine / "x~1.pdf.reason.txt").read_text()
    assert reason.startswith("the file is plain text") and "x.pdf" in reason
    assert list(folders.processing.iterdir()) == []


def test_a_move_cut_short_by_a_crash_is_tidied_not_redone(folders: Folders) -> None:
    path = folders.processing / "done-already.pdf"
    path.write_bytes(b"%PDF-1.7")
    os.link(path, folders.done / path.name)  # the crash came before the unlink
    assert list(orphans(folders)) == []
    assert not path.exists()
    assert [p.name for p in folders.done.iterdir()] == ["done-already.pdf"]
