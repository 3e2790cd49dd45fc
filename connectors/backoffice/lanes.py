"""Signed-in browser sessions kept open across a batch (``keying_sessions`` of them).

::

    with keeping_sessions(settings, lanes=1):   # what process_folder does around its keying
        key_case(case, settings)                 # keyed in the open session

Each lane is a thread of its own holding one :class:`BackOfficeSession` (Playwright's sync
API binds a browser to the thread that started it), opened on first use and closed when the
batch ends. A keying takes a free lane, so at most ``lanes`` cases are keyed at once and each
session keys one case at a time. The session's own recovery applies: a lost sign-in is
signed back into (:meth:`BackOfficeSession.key_case`); a browser that crashed or a session
that failed to open is dropped after the error and a new one is opened for the next case,
while the error itself goes up to be retried as any :class:`ApplicationError` is.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from connectors.backoffice.session import BackOfficeSession
from rekey.errors import ApplicationError
from rekey.models import Case, Receipt
from rekey.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def lane_key(settings: Settings) -> tuple[str, ...]:
    """What makes two settings key into the same back office the same way."""
    return (
        settings.backoffice_url,
        settings.backoffice_user,
        str(settings.screens_dir),
        str(settings.keying_mode),
        str(settings.data_path),
    )


class Lane:
    """One thread and the session it owns."""

    def __init__(self, settings: Settings, number: int):
        self.settings = settings
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"rekey-keying-{number}")
        self._session: BackOfficeSession | None = None
        self.opened = 0  # sessions opened on this lane (a crash makes a new one)

    def call(self, fn: Callable[[], T]) -> T:
        return self._thread.submit(fn).result()

    def _key(self, case: Case, evidence_dir: Path | None, identifiers: Collection[str]) -> Receipt:
        if self._session is None:
            session = BackOfficeSession(self.settings)
            session.__enter__()  # closes itself if it cannot open or sign in
            self._session, self.opened = session, self.opened + 1
        try:
            return self._session.key_case(case, evidence_dir, identifiers)
        except ApplicationError:
            if not self._session.connected:
                log.warning("the browser of %s is gone; the next case opens a new one", self)
                self._drop()
            raise

    def key(
        self, case: Case, evidence_dir: Path | None, identifiers: Collection[str] = ()
    ) -> Receipt:
        return self.call(lambda: self._key(case, evidence_dir, identifiers))

    def _drop(self) -> None:
        if self._session is not None:
            with suppress(Exception):
                self._session.close()
            self._session = None

    def close(self) -> None:
        with suppress(Exception):
            self.call(self._drop)
        self._thread.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"Lane({self._thread._thread_name_prefix})"


class SessionLanes:
    """``lanes`` sessions on the settings' back office, each used by one case at a time."""

    def __init__(self, settings: Settings, lanes: int):
        self.lanes = [Lane(settings, n) for n in range(1, max(1, lanes) + 1)]
        self._free: queue.Queue[Lane] = queue.Queue()
        for lane in self.lanes:
            self._free.put(lane)

    def key(
        self, case: Case, evidence_dir: Path | None = None, identifiers: Collection[str] = ()
    ) -> Receipt:
        lane = self._free.get()
        try:
            return lane.key(case, evidence_dir, identifiers)
        finally:
            self._free.put(lane)

    @property
    def sessions_opened(self) -> int:
        return sum(lane.opened for lane in self.lanes)

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()


_open: dict[tuple[str, ...], SessionLanes] = {}
_guard = threading.Lock()


def lanes_for(settings: Settings) -> SessionLanes | None:
    """The sessions kept open for these settings' back office, if a batch keeps them."""
    with _guard:
        return _open.get(lane_key(settings))


@contextmanager
def keeping_sessions(settings: Settings, lanes: int) -> Iterator[SessionLanes]:
    """Keep ``lanes`` signed-in sessions open while the block runs; :func:`key_case` with
    these settings uses them. Nested (a batch inside a batch), the outer lanes are used."""
    key = lane_key(settings)
    with _guard:
        outer = _open.get(key)
        if outer is None:
            _open[key] = SessionLanes(settings, lanes)
        kept = _open[key]
    try:
        yield kept
    finally:
        if outer is None:
            with _guard:
                del _open[key]
            kept.close()


def key_case(
    case: Case,
    settings: Settings,
    *,
    evidence_dir: Path | None = None,
    session: BackOfficeSession | None = None,
    identifiers: Collection[str] = (),
) -> Receipt:
    """Key one case into the back office and return its receipt; its screenshots have the
    ``identifiers`` fields covered.

    In the open *session* if one is passed; else in a session a batch keeps open for these
    settings (:func:`keeping_sessions`); else in a session opened and closed around it.
    """
    if session is not None:
        return session.key_case(case, evidence_dir, identifiers)
    kept = lanes_for(settings)
    if kept is not None:
        return kept.key(case, evidence_dir, identifiers)
    with BackOfficeSession(settings) as office:
        return office.key_case(case, evidence_dir, identifiers)
