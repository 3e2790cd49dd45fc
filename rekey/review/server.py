"""Serve the review station with uvicorn: in the foreground (``rekey review``) or, for
tests and benchmarks, in a background thread on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from rekey.review.app import create_app
from rekey.review.auth import session_secret
from rekey.settings import Settings
from rekey.webserver import serving


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
) -> None:
    """Serve until interrupted; with several workers, each is a process of its own (the
    sessions are signed cookies, so any worker serves any request)."""
    session_secret(settings)  # made once here, before workers could race to make it
    workers = workers or settings.review_workers
    where = {"host": host or settings.review_host, "port": port or settings.review_port}
    if workers > 1:
        uvicorn.run(
            "rekey.review.app:app_from_environment",
            factory=True,
            workers=workers,
            log_level="warning",
            lifespan="off",
            **where,
        )
    else:
        uvicorn.run(create_app(settings), log_level="warning", lifespan="off", **where)


@contextmanager
def running_review(settings: Settings, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the review station while the block runs; yields its base URL."""
    with serving(create_app(settings), "the review station", host) as url:
        yield url
