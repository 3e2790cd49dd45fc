"""The watched folder as a service (``rekey watch INBOX``).

New files wake the watcher (watchfiles); each file is taken once it is complete (size and
time unchanged for ``watch_stable_s`` and no process holds it open for writing), claimed
into ``processing/`` (:mod:`connectors.claims`), run through the ``process_document`` flow,
and settled into ``done/``, or into ``quarantine/`` with a reason file. A file whose case
failed (the back office stayed down through the retries) stays in ``processing/``, released,
and is taken up again every ``watch_retry_s``, as are files a crashed watcher left there.

Several watchers may share one inbox: a claim is an flock plus an atomic rename, and the
documents of one content (the same sha256 under two names) are processed one at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from itertools import chain
from pathlib import Path

from watchfiles import watch

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
    settle,
    steady,
)
from connectors.inbox import sha256_of
from flows.process import process_document
from rekey.errors import RekeyError
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


def handle(held: Claim, folders: Folders, settings: Settings, report: Report) -> None:
    """Process one claimed file and settle it; whatever fails, the file stays claimable."""
    name = held.path.name
    try:
        sha256 = sha256_of(held.path)
        with exclusive(settings.data_path / "locks" / f"{sha256}.lock"):
            outcomes = process_document(held.path, settings)
    except Exception as exc:  # the file stays in processing/ and is retried
        # rekey's own messages mask identifiers; others are named by their type only
        why = f"{type(exc).__name__}: {exc}" if isinstance(exc, RekeyError) else type(exc).__name__
        log.error("%s: %s; it stays in processing/ and is retried", name, why)
        held.release()
        report(name, None, [])
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


def take_steady(
    seen: dict, folders: Folders, settings: Settings, report: Report, stop: threading.Event
) -> dict:
    """Look at the inbox, claim and process each complete file; the updated sightings."""
    now = time.monotonic()
    seen = observe(seen, look(folders.inbox, settings.ignore_patterns), now)
    ready = steady(seen, now, settings.watch_stable_s)
    if not ready:
        return seen
    writing = held_for_writing(folders.inbox)
    for path in ready:
        if stop.is_set():
            break
        if path in writing:
            continue
        seen.pop(path)
        held = claim(path, folders)
        if held is not None:
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
    wakeups = watch(
        folders.inbox,
        watch_filter=None,
        recursive=False,
        stop_event=stop,
        rust_timeout=max(50, int(settings.watch_stable_s * 1000)),
        yield_on_timeout=True,
        raise_interrupt=False,
    )
    seen: dict = {}
    for _changes in chain([set()], wakeups):
        if stop.is_set():
            return
        seen = take_steady(seen, folders, settings, report, stop)
        if time.monotonic() >= retry_at:
            recover(folders, settings, report, stop)
            retry_at = time.monotonic() + settings.watch_retry_s
