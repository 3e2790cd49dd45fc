"""Run the demo back office in a background thread on a free loopback port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from samples.backoffice.app import create_app

START_TIMEOUT_S = 15


@contextmanager
def running_backoffice(
    db_path: Path, users: dict[str, str], host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve the back office while the block runs; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(
        uvicorn.Config(create_app(db_path, users), log_level="warning", lifespan="off")
    )
    started = threading.Event()
    thread = threading.Thread(target=_run, args=(server, sock, started), daemon=True)
    thread.start()
    try:
        if not started.wait(START_TIMEOUT_S) or not server.started:
            raise RuntimeError("the back office did not start")
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _run(server: uvicorn.Server, sock: socket.socket, started: threading.Event) -> None:
    original = server.startup

    async def startup(sockets=None):
        await original(sockets=sockets)
        started.set()

    server.startup = startup
    try:
        server.run(sockets=[sock])
    finally:
        started.set()
