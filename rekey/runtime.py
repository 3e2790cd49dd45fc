"""Process-wide setup that must happen before Prefect is imported.

Prefect keeps its local database and logs under ``PREFECT_HOME``: rekey puts it inside the
data folder so the embedded default leaves nothing outside ``./var``.
"""

from __future__ import annotations

import os

from rekey.settings import Settings


def configure_prefect(settings: Settings) -> None:
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
