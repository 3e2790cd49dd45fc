"""The watched folder's files: when a dropped file is complete, claiming it, recovering what
a crashed watcher left behind, and settling each file where it belongs.

::

    INBOX/name ──claim: flock + atomic rename──▶ processing/name ──settle──▶ done/name
                                                                      └──▶ quarantine/name
                                                                           + name.reason.txt

A claim holds an exclusive ``flock`` on the file for as long as it is processed. The kernel
drops the lock when its process ends, however it ends, so a file in ``processing/`` that
nobody holds is an orphan of a crash and may be taken over; one that a live watcher holds is
never touched. Settling links the file under a free name in its last folder and then unlinks
it from ``processing/``: a crash between the two leaves a file with two links, which
recovery recognises as already settled.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psutil

from connectors.inbox import list_documents, safe_name
from rekey.models import utcnow


@dataclass(frozen=True)
class Folders:
    """The inbox and the folders beside its files (all inside the inbox)."""

    inbox: Path
    processing: Path
    done: Path
    quarantine: Path

    @classmethod
    def of(
        cls,
        inbox: Path,
        processing: str = "processing",
        done: str = "done",
        quarantine: str = "quarantine",
    ) -> Folders:
        inbox = inbox.resolve()
        return cls(inbox, inbox / processing, inbox / done, inbox / quarantine)

    def make(self) -> Folders:
        for folder in (self.processing, self.done, self.quarantine):
            folder.mkdir(parents=True, exist_ok=True)
        return self


# -- when a file is complete -------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    """A file's size and modification time, and since when they have not changed."""

    size: int
    mtime_ns: int
    since: float


def look(folder: Path, ignore: Iterable[str] = ()) -> dict[Path, tuple[int, int]]:
    """Size and modification time of each document in ``folder`` now."""
    found = {}
    for path in list_documents(folder, ignore):
        with suppress(FileNotFoundError):  # claimed by another watcher meanwhile
            stat = path.stat()
            found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def observe(
    seen: Mapping[Path, Sighting], now_seen: Mapping[Path, tuple[int, int]], now: float
) -> dict[Path, Sighting]:
    """The sightings brought up to date: an unchanged file keeps its ``since``; a new or
    changed one starts again from ``now``; a vanished one is forgotten."""
    updated = {}
    for path, (size, mtime_ns) in now_seen.items():
        before = seen.get(path)
        unchanged = before is not None and (before.size, before.mtime_ns) == (size, mtime_ns)
        updated[path] = before if unchanged else Sighting(size, mtime_ns, now)
    return updated


def steady(seen: Mapping[Path, Sighting], now: float, interval: float) -> list[Path]:
    """The files unchanged for at least ``interval`` seconds, in name order."""
    return sorted(path for path, s in seen.items() if now - s.since >= interval)


def held_for_writing(folder: Path) -> set[Path]:
    """The files in ``folder`` that some process has open for writing."""
    held = set()
    for process in psutil.process_iter():
        try:
            files = process.open_files()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for opened in files:
            path = Path(opened.path)
            if opened.mode != "r" and path.parent == folder:
                held.add(path)
    return held


# -- claiming ------------------------------------------------------------------------------


@dataclass
class Claim:
    """A file this process holds in ``processing/`` (the flock lives as long as ``fd``)."""

    path: Path
    fd: int

    def release(self) -> None:
        """Let go of the file where it is (it becomes an orphan for recovery to retry)."""
        with suppress(OSError):
            os.close(self.fd)


def lock(path: Path) -> int | None:
    """An open descriptor holding the exclusive flock of the file at ``path``; ``None`` when
    another process holds it or the file is gone (or is no longer the file locked)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem~N.suffix`` when that is taken."""
    target = folder / safe_name(name)
    for number in count(1):
        if not target.exists() and not target.with_name(target.name + ".reason.txt").exists():
            return target
        target = folder / f"{Path(name).stem}~{number}{Path(name).suffix}"
    raise AssertionError("unreachable")


def claim(path: Path, folders: Folders) -> Claim | None:
    """Take ``path`` out of the inbox into ``processing/``; ``None`` if another took it."""
    fd = lock(path)
    if fd is None:
        return None
    target = free_name(folders.processing, path.name)
    try:
        os.rename(path, target)
    except FileNotFoundError:
        os.close(fd)
        return None
    return Claim(target, fd)


def orphans(folders: Folders, ignore: Iterable[str] = ()) -> Iterator[Claim]:
    """The files in ``processing/`` no live process holds, each claimed in turn; files that
    were settled already (a crash stopped the move half-way) are tidied away."""
    for path in list_documents(folders.processing, ignore):
        fd = lock(path)
        if fd is None:
            continue
        if os.fstat(fd).st_nlink > 1:  # its link in done/ or quarantine/ is already made
            with suppress(FileNotFoundError):
                path.unlink()
            os.close(fd)
            continue
        yield Claim(path, fd)


# -- settling ------------------------------------------------------------------------------


def settle(held: Claim, folder: Path, reason: str | None = None) -> Path:
    """Move the claimed file into ``folder`` under a free name (never replacing a file),
    with ``NAME.reason.txt`` beside it when a reason is given; release the claim."""
    name = held.path.name
    for number in count():
        stem, suffix = Path(name).stem, Path(name).suffix
        target = folder / (name if number == 0 else f"{stem}~{number}{suffix}")
        reason_file = target.with_name(target.name + ".reason.txt")
        if reason is not None and not _write_new(reason_file, reason_text(name, reason)):
            continue
        try:
            os.link(held.path, target)
        except FileExistsError:
            if reason is not None:
                reason_file.unlink()
            continue
        break
    held.path.unlink()
    held.release()
    return target


def reason_text(name: str, reason: str) -> str:
    return f"{reason}\n\nfile: {name}\nat: {utcnow().isoformat()}\n"


def _write_new(path: Path, text: str) -> bool:
    """Write a file that must not exist yet; ``False`` when it does."""
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        return False
    return True


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_file`` (waiting for it) while the block runs."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
