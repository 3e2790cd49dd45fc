"""Serve the review station with uvicorn: in the foreground (``rekey review``) or, for
tests and benchmarks, in a background thread on a free loopback port."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from rekey.review.app import create_app
from rekey.review.auth import session_secret
from rekey.settings import Settings
from rekey.webserver import bound_socket, serving

# How long uvicorn's supervisor waits for a worker to answer its health check before it
# kills it. Its default (5 s) is shorter than a worker takes to import the app on a busy
# machine (18 s at load 15), so the workers were killed while starting, again and again.
WORKER_HEALTHCHECK_S = 180
READY_POLL_S = 0.2


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; with several workers, each is a process of its own (the
    sessions live in the case store, so any worker serves any request). ``on_ready`` is
    called with the station's URL once it answers a request, not before."""
    session_secret(settings)  # made once here, before workers could race to make it
    workers = workers or settings.review_workers
    where = {"host": host or settings.review_host, "port": port or settings.review_port}
    # a taken or impossible port is said plainly, naming it, before any worker starts
    bound_socket(where["host"], where["port"], "--port or REKEY_REVIEW_PORT").close()
    stop = threading.Event()
    if on_ready is not None:
        url = f"http://{where['host']}:{where['port']}"
        threading.Thread(target=announce_when_up, args=(url, on_ready, stop), daemon=True).start()
    try:
        if workers > 1:
            uvicorn.run(
                "rekey.review.app:app_from_environment",
                factory=True,
                workers=workers,
                log_level="warning",
                lifespan="off",
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
                **where,
                **proxy_options(settings),
            )
        else:
            app = create_app(settings)
            uvicorn.run(
                app, log_level="warning", lifespan="off", **where, **proxy_options(settings)
            )
    finally:
        stop.set()


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the client address: the X-Forwarded-For header is read only on
    requests that come from one of ``review_trusted_proxies``; with none (the default), never,
    so ``request.client.host`` is always the connecting address."""
    proxies = settings.review_trusted_proxies
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(proxies)}


def local_url(url: str) -> str:
    """Where to reach a server listening on ``url`` from this machine."""
    for anywhere in ("//0.0.0.0:", "//[::]:", "//:::"):
        url = url.replace(anywhere, "//127.0.0.1:")
    return url


def announce_when_up(url: str, announce: Callable[[str], None], stop: threading.Event) -> None:
    """Call ``announce(url)`` once the sign-in page answers, unless ``stop`` is set first."""
    probe = local_url(url) + "/login"
    while not stop.is_set():
        try:
            with urllib.request.urlopen(probe, timeout=5) as answer:
                if answer.status == 200:
                    announce(url + "/")
                    return
        except OSError:  # URLError, refused, reset: not serving yet
            pass
        stop.wait(READY_POLL_S)  # the port is not open yet, or no worker has started


@contextmanager
def running_review(settings: Settings, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the review station while the block runs; yields its base URL."""
    app = create_app(settings)
    with serving(app, "the review station", host, **proxy_options(settings)) as url:
        yield url
