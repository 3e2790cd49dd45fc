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

Only regular files are claimed. Whatever else appears in the inbox is refused: moved into
``quarantine/`` as it is (never opened, never followed) with a reason file, once it has
stopped changing: a symbolic link, a folder (not accepted yet), a FIFO or other special
file, a hidden file, a name that is not valid UTF-8. Every name kept in ``processing/``,
``done/`` or ``quarantine/`` fits the file system with its ``~N`` and ``.reason.txt``.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psutil

from connectors.inbox import (
    REASON_SUFFIX,
    SUFFIX_MAX,
    is_utf8,
    list_documents,
    safe_name,
    shown_name,
)
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


def look(folder: Path, skip: Iterable[str] = ()) -> dict[Path, tuple[int, int]]:
    """Size and modification time of each entry of ``folder`` now (links, FIFOs and folders
    too, never followed), but for the names in ``skip``. Names are read as bytes: one that is
    not UTF-8 is kept as Python keeps it (surrogate escapes), never an error."""
    skipped = {os.fsencode(name) for name in skip}
    found = {}
    with os.scandir(os.fsencode(folder)) as entries:
        for entry in entries:
            if entry.name in skipped:
                continue
            with suppress(FileNotFoundError):  # claimed by another watcher meanwhile
                status = entry.stat(follow_symlinks=False)
                found[folder / os.fsdecode(entry.name)] = (status.st_size, status.st_mtime_ns)
    return found


def refusal(path: Path) -> str | None:
    """Why the entry at ``path`` is refused unread (``None``: a file to claim)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None  # gone meanwhile: claiming it finds nothing
    if stat.S_ISLNK(mode):
        target = shown_name(os.readlink(path))
        return (
            f"a symbolic link (to {target}): rekey never follows links, so nothing was "
            "read; copy the document itself into the inbox"
        )
    if stat.S_ISDIR(mode):
        return (
            "a folder: folders are not accepted yet (they will be read as the pack of one "
            "application); drop its documents one by one"
        )
    if not stat.S_ISREG(mode):
        return "not a file but a FIFO, socket or device: nothing was read from it"
    if not is_utf8(path.name):
        return (
            f"its name is not valid UTF-8 (shown with escapes: {shown_name(path.name)}); "
            "rename it and drop it again"
        )
    if path.name.startswith("."):
        return (
            "a hidden file (its name starts with a dot): rekey does not read hidden files; "
            "if it is a document, rename it without the dot and drop it again"
        )
    return None


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
    try:  # never through a link, never waiting on a FIFO
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # gone, a link, a folder, not ours to read
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status = os.fstat(fd)
        if stat.S_ISREG(status.st_mode) and os.lstat(path).st_ino == status.st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def numbered(name: str, number: int) -> str:
    """``name``, or ``stem~N.suffix`` for ``number`` N > 0 (``name`` fits already)."""
    if number == 0:
        return name
    path = Path(name)
    suffix = path.suffix if len(path.suffix.encode()) <= SUFFIX_MAX else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    return f"{stem}~{number}{suffix}"


def taken(target: Path) -> bool:
    return os.path.lexists(target) or os.path.lexists(f"{target}{REASON_SUFFIX}")


def free_name(folder: Path, name: str) -> Path:
    """``folder/name`` made safe and short enough, or ``folder/stem~N.suffix`` when that is
    taken."""
    name = safe_name(name)
    for number in count():
        target = folder / numbered(name, number)
        if not taken(target):
            return target
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
    name = safe_name(held.path.name)
    for number in count():
        target = folder / numbered(name, number)
        reason_file = target.with_name(target.name + REASON_SUFFIX)
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


def refuse(path: Path, folder: Path, reason: str) -> Path | None:
    """Move the inbox entry at ``path`` (whatever it is: it is not opened) into ``folder``
    under a free safe name, ``NAME.reason.txt`` beside it naming the entry as it was
    called; ``None`` when another watcher moved it first."""
    name = safe_name(path.name)
    for number in count():
        target = folder / numbered(name, number)
        reason_file = target.with_name(target.name + REASON_SUFFIX)
        if os.path.lexists(target) or not _write_new(reason_file, reason_text(path.name, reason)):
            continue
        try:
            os.rename(path, target)
        except FileNotFoundError:
            reason_file.unlink()
            return None
        return target
    raise AssertionError("unreachable")


def reason_text(name: str, reason: str) -> str:
    return f"{reason}\n\nfile: {shown_name(name)}\nat: {utcnow().isoformat()}\n"


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
