"""A web app served by uvicorn in a background thread on a loopback port, for as long as a
block runs (tests, benchmarks, and the demo's back office)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from rekey.errors import ApplicationError

START_TIMEOUT_S = 15


@contextmanager
def serving(app, what: str, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve *app* while the block runs (on a free port unless *port*); yields its base URL.
    ApplicationError names *what* when it does not start."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
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
