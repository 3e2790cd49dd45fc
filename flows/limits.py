"""The Prefect global concurrency limit that caps open back-office sessions.

Every keying task holds one slot of ``settings.session_limit_name`` while it keys, so all
workers sharing one Prefect server together open at most ``backoffice_sessions`` sessions.
The flows make sure the limit exists with the configured size before they key anything.
"""

from __future__ import annotations

from contextlib import suppress

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectAlreadyExists

from rekey.settings import Settings

_ensured: set[tuple[str, str, int]] = set()


def ensure_session_limit(settings: Settings) -> None:
    """Create (or resize) the session limit on the Prefect API in use; once per process."""
    with get_client(sync_client=True) as client:
        key = (str(client.api_url), settings.session_limit_name, settings.backoffice_sessions)
        if key in _ensured:
            return
        with suppress(ObjectAlreadyExists):  # another worker created it a moment ago
            client.upsert_global_concurrency_limit_by_name(
                settings.session_limit_name, settings.backoffice_sessions
            )
    _ensured.add(key)
