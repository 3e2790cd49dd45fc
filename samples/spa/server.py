"""Run Ledgerline on a free loopback port in a background thread while a block runs, as
:mod:`samples.backoffice.server` does for ClaimBase 2000."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rekey.webserver import serving
from samples.backoffice.chaos import Chaos
from samples.spa.app import create_app


@contextmanager
def running_spa(
    db_path: Path,
    users: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    chaos: Chaos | None = None,
    shuffle: bool = False,
    idle_timeout_s: float = 900,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Serve Ledgerline while the block runs; yields its base URL."""
    app = create_app(
        db_path, users, chaos=chaos, shuffle=shuffle, idle_timeout_s=idle_timeout_s, clock=clock
    )
    with serving(app, "Ledgerline", host, port) as url:
        yield url
