"""The watched folder as a service (``rekey watch INBOX``).

New files wake the watcher (watchfiles); each file is taken once it is complete (size and
time unchanged for ``watch_stable_s`` and no process holds it open for writing), claimed
into ``processing/`` (:mod:`connectors.claims`), run through the ``process_document`` flow,
and settled into ``done/``, or into ``quarantine/`` with a reason file. A file whose case
failed (the back office stayed down through the retries) stays in ``processing/``, released,
and is taken up again every ``watch_retry_s``, as are files a crashed watcher left there.

Several watchers may share one inbox: a claim is an flock plus an atomic rename, and the
documents of one content (the same sha256 under two names) are processed one at a time.

Nothing stays in the inbox or ``processing/`` for ever: what is not a document file (a link,
a folder, a FIFO, a hidden file, a name that is not UTF-8) is moved to ``quarantine/`` with
its reason once it stops changing; a document whose processing raises anything but an
application, store, configuration or disk error (those are retried) is quarantined with the
exception. Names
matching ``ignore_patterns`` (files in flight, such as ``*.part``) are logged once and left.
Should watchfiles fail on a name it cannot decode, the watcher starts it again: every
wake-up rescans the folder itself, reading names as bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path

from watchfiles import watch
from watchfiles._rust_notify import WatchfilesRustInternalError

from connectors.backoffice.lanes import keeping_sessions
from connectors.claims import (
    Claim,
    Folders,
    claim,
    exclusive,
    held_for_writing,
    look,
    observe,
    orphans,
    refusal,
    refuse,
    settle,
    steady,
)
from connectors.inbox import is_ignored, sha256_of, shown_name
from flows.process import process_document
from rekey.errors import (
    ApplicationError,
    ConfigError,
    ReadingCrashed,
    RekeyError,
    StoreError,
)
from rekey.pipeline import Outcome
from rekey.settings import Settings

log = logging.getLogger(__name__)

# what happened to one file: its name in processing/, where it went (None: left to retry),
# and the outcomes of its cases
Report = Callable[[str, Path | None, list[Outcome]], None]


def folders_for(inbox: Path, settings: Settings) -> Folders:
    return Folders.of(
        inbox,
        settings.watch_processing_dir,
        settings.watch_done_dir,
        settings.watch_quarantine_dir,
    )


def destination(outcomes: list[Outcome], folders: Folders) -> tuple[Path | None, str | None]:
    """Where a processed file goes, and the reason to file beside it: quarantine when its
    own case (listed last for a batch) was quarantined; nowhere yet when a case failed (it
    is retried); otherwise done."""
    own = outcomes[-1]
    if own.state == "quarantined":
        return folders.quarantine, own.note or "quarantined"
    if any(o.state == "failed" for o in outcomes):
        return None, None
    return folders.done, None


# the back office, the case store, a setting or the disk failed: worth trying again
RETRIED = (ApplicationError, StoreError, ConfigError, OSError)


def handle(held: Claim, folders: Folders, settings: Settings, report: Report) -> None:
    """Process one claimed file and settle it. When the back office, the case store, a
    setting or the disk failed, the file stays claimable and is retried; anything else that
    escapes is the document's doing (or a bug it sets off): it is quarantined with the
    exception, since retrying would raise it again."""
    name = held.path.name
    try:
        sha256 = sha256_of(held.path)
        with exclusive(settings.data_path / "locks" / f"{sha256}.lock"):
            outcomes = process_document(held.path, settings)
    except RETRIED as exc:  # the file stays in processing/ and is retried
        log.error(
            "%s: %s: %s; it stays in processing/ and is retried", name, type(exc).__name__, exc
        )
        held.release()
        report(name, None, [])
        return
    except Exception as exc:
        # rekey's own messages mask identifiers; others are logged by their type only
        shown = (
            f"{type(exc).__name__}: {exc}" if isinstance(exc, RekeyError) else type(exc).__name__
        )
        log.error("%s: %s; quarantined", name, shown)
        why = exc if isinstance(exc, RekeyError) else ReadingCrashed("processing", name, exc)
        report(name, settle(held, folders.quarantine, str(why)).parent, [])
        return
    folder, reason = destination(outcomes, folders)
    if folder is None:
        held.release()
        report(name, None, outcomes)
        return
    report(name, settle(held, folder, reason).parent, outcomes)


def recover(folders: Folders, settings: Settings, report: Report, stop: threading.Event) -> None:
    """Process the files in processing/ that no live watcher holds."""
    for held in orphans(folders, settings.ignore_patterns):
        if stop.is_set():
            held.release()
            return
        log.info("taking over %s from %s", held.path.name, folders.processing)
        handle(held, folders, settings, report)


def in_flight(path: Path, settings: Settings) -> bool:
    """A name the ignore patterns leave alone (a file still being written under a temporary
    name, such as ``*.part``); hidden names are not left: they are refused."""
    return is_ignored(path, [p for p in settings.ignore_patterns if p != ".*"])


def refuse_entry(path: Path, why: str, folders: Folders, report: Report) -> None:
    went = refuse(path, folders.quarantine, why)
    if went is not None:
        log.warning("%s: refused, %s; moved to %s", shown_name(path.name), why, went)
        report(path.name, went.parent, [])


def take_steady(
    seen: dict,
    folders: Folders,
    settings: Settings,
    report: Report,
    stop: threading.Event,
    noted: set | None = None,
) -> dict:
    """Look at the inbox: claim and process each complete file, refuse whatever else has
    stopped changing, note once each name left alone; the updated sightings."""
    now = time.monotonic()
    own = {
        folder.relative_to(folders.inbox).parts[0]
        for folder in (folders.processing, folders.done, folders.quarantine)
        if folder.is_relative_to(folders.inbox)
    }
    seen = observe(seen, look(folders.inbox, own), now)
    ready = steady(seen, now, settings.watch_stable_s)
    if not ready:
        return seen
    writing = held_for_writing(folders.inbox)
    noted = set() if noted is None else noted
    for path in ready:
        if stop.is_set():
            break
        if path in writing:
            continue
        if in_flight(path, settings):
            sighting = (path, seen[path].size, seen[path].mtime_ns)
            if sighting not in noted:
                noted.add(sighting)
                log.info(
                    "%s: left in the inbox (an ignore pattern matches it)", shown_name(path.name)
                )
            continue
        seen.pop(path)
        why = refusal(path)
        if why is not None:
            refuse_entry(path, why, folders, report)
            continue
        held = claim(path, folders)
        if held is None:
            continue
        if held.path.name != path.name:  # cut to fit, or made safe: say what it was
            log.info("%s: taken in as %s", shown_name(path.name), held.path.name)
        handle(held, folders, settings, report)
    return seen


def watch_folder(
    inbox: Path,
    settings: Settings,
    report: Report,
    stop: threading.Event | None = None,
    started: Callable[[], None] | None = None,
) -> None:
    """Watch ``inbox`` until ``stop`` is set: recover orphans, then take each complete file.
    One signed-in back-office session is kept open for as long as the watcher runs."""
    stop = stop or threading.Event()
    with keeping_sessions(settings, 1):
        _watch(inbox, settings, report, stop, started)


def _watch(
    inbox: Path,
    settings: Settings,
    report: Report,
    stop: threading.Event,
    started: Callable[[], None] | None,
) -> None:
    folders = folders_for(inbox, settings).make()
    recover(folders, settings, report, stop)
    retry_at = time.monotonic() + settings.watch_retry_s
    if started is not None:
        started()
    seen: dict = {}
    noted: set = set()
    for _changes in chain([set()], wakeups(folders.inbox, settings, stop)):
        if stop.is_set():
            return
        seen = take_steady(seen, folders, settings, report, stop, noted)
        if time.monotonic() >= retry_at:
            recover(folders, settings, report, stop)
            retry_at = time.monotonic() + settings.watch_retry_s


def wakeups(inbox: Path, settings: Settings, stop: threading.Event) -> Iterator[set]:
    """watchfiles' change sets for ``inbox`` (an empty one at least every
    ``watch_stable_s``), until ``stop``. watchfiles raises on a name that is not UTF-8 and
    its watch ends there: it is started again after a pause of ``watch_stable_s`` (the caller
    rescans the folder itself, reading names as bytes, so nothing is missed)."""
    timeout = max(50, int(settings.watch_stable_s * 1000))
    while not stop.is_set():
        try:
            yield from watch(
                inbox,
                watch_filter=None,
                recursive=False,
                stop_event=stop,
                rust_timeout=timeout,
                yield_on_timeout=True,
                raise_interrupt=False,
            )
        except WatchfilesRustInternalError as exc:
            log.warning("watchfiles failed (%s); rescanning %s and watching again", exc, inbox)
            yield set()
            stop.wait(settings.watch_stable_s)
