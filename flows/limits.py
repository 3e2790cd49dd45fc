"""The Prefect global concurrency limit that caps open back-office sessions.

With ``backoffice_sessions`` set, every keying holds one slot of
``settings.session_limit_name`` while it keys, so all workers sharing one Prefect server
together open at most that many sessions; the flows make sure the limit exists with that
size before they key anything. Unset (the embedded default, one process), no limit is used:
each process opens at most ``folder_workers`` sessions.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext, suppress

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists

from rekey.settings import Settings

_ensured: set[tuple[str, str, int]] = set()


def ensure_session_limit(settings: Settings) -> None:
    """Create (or resize) the session limit on the Prefect API in use; once per process."""
    if settings.backoffice_sessions is None:
        return
    with get_client(sync_client=True) as client:
        key = (str(client.api_url), settings.session_limit_name, settings.backoffice_sessions)
        if key in _ensured:
            return
        with suppress(ObjectAlreadyExists):  # another worker created it a moment ago
            client.upsert_global_concurrency_limit_by_name(
                settings.session_limit_name, settings.backoffice_sessions
            )
    _ensured.add(key)


def session_slot(settings: Settings) -> AbstractContextManager[object]:
    """One slot of the session limit, held while the block runs (none without a limit).

    Take it around the keying task, not inside it: a slot asked for in the first moment of
    a task meets the server still recording the task's start, and on a SQLite-backed Prefect
    API that costs a retry of about two seconds."""
    if settings.backoffice_sessions is None:
        return nullcontext()
    return concurrency(
        settings.session_limit_name,
        occupy=1,
        strict=True,
        lease_duration=settings.session_lease_s,
    )
