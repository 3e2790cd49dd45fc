"""A web app served by uvicorn in a background thread on a loopback port, for as long as a
block runs (tests, benchmarks, and the demo's back office)."""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from rekey.errors import ApplicationError, ConfigError

START_TIMEOUT_S = 15


def bound_socket(host: str, port: int, setting: str = "--port") -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port); ConfigError naming the port,
    and the option or setting to change, when it is out of range or taken."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range (1-65535): choose another", key=setting)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use by another program" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(
            f"port {port} on {host} {why}: stop that program or choose another port",
            key=setting,
        ) from exc
    return sock


@contextmanager
def serving(
    app, what: str, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> Iterator[str]:
    """Serve *app* while the block runs (on a free port unless *port*); yields its base URL.
    *options* go to uvicorn's Config (``proxy_headers=...``). ApplicationError names *what*
    when it does not start."""
    sock = bound_socket(host, port)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    started = threading.Event()
    original = server.startup

    async def startup(sockets=None):
        try:
            await original(sockets=sockets)
        finally:
            started.set()

    server.startup = startup
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not started.wait(START_TIMEOUT_S) or not server.started:
            raise ApplicationError(f"{what} did not start")
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
