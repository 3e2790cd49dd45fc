"""Process-wide setup: Prefect's environment (before Prefect is imported) and the settings
a flow run starts from.

Prefect keeps its local database and logs under ``PREFECT_HOME``: rekey puts it inside the
data folder so the embedded default leaves nothing outside ``./var``.

The data folder holds personal data (the store, copies of the documents, the extraction
cache and layouts): :func:`private_data` makes it, and everything rekey creates from then
on, readable by its owner only (folders 0700, files 0600).
"""

from __future__ import annotations

import os
import secrets

from pydantic import SecretStr

from rekey.settings import Settings

PRIVATE_UMASK = 0o077


def private_data(settings: Settings) -> None:
    """The data folder made (or narrowed to) 0700, and the process's umask set so every
    folder and file created from now on is its owner's only."""
    os.umask(PRIVATE_UMASK)
    folder = settings.data_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = folder.stat()
    if mode.st_mode & 0o077 and mode.st_uid == os.getuid():
        folder.chmod(0o700)


def configure_prefect(settings: Settings) -> None:
    private_data(settings)
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the local server's first start migrates its database: on a busy machine that takes
    # longer than Prefect's 20 s, and the run would fail before it began
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def with_password(settings: Settings) -> Settings:
    """The settings with a back-office password: from the environment, or the demo's own.

    The demo back office's password is generated once and kept in the data folder
    (``backoffice/password``, readable by its owner only).
    """
    if settings.backoffice_password is not None:
        return settings
    secret = settings.data_path / "backoffice" / "password"
    if not secret.exists():
        private_data(settings)
        secret.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret.touch(mode=0o600)
        secret.write_text(secrets.token_urlsafe(18))
    return settings.model_copy(
        update={"backoffice_password": SecretStr(secret.read_text().strip())}
    )


def runtime_settings() -> Settings:
    """The settings a flow run started by a deployment works with: the environment's, with
    the demo back office's password when none is set."""
    settings = with_password(Settings())
    private_data(settings)
    return settings
