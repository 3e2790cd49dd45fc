"""Run the demo back office on a free loopback port: in a background thread
(:func:`running_backoffice`), or in a process of its own (:func:`backoffice_process`, so a
busy test's browser driver and the server do not share one interpreter)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from samples.backoffice.app import create_app
from samples.backoffice.chaos import Chaos

START_TIMEOUT_S = 15


@contextmanager
def running_backoffice(
    db_path: Path,
    users: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    idle_timeout_s: float = 900,
    chaos: Chaos | None = None,
) -> Iterator[str]:
    """Serve the back office while the block runs; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(db_path, users, idle_timeout_s=idle_timeout_s, chaos=chaos),
            log_level="warning",
            lifespan="off",
        )
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


@contextmanager
def backoffice_process(
    db_path: Path,
    user: str,
    password: str,
    host: str = "127.0.0.1",
    *,
    idle_timeout_s: float = 900,
    chaos: Chaos | None = None,
) -> Iterator[str]:
    """Serve the back office from a child process while the block runs; yields its URL.

    The listening socket is opened here and handed down, so connections made before the
    child is ready simply wait in the backlog."""
    from samples.backoffice.__main__ import chaos_arguments

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    sock.listen(128)
    env = os.environ | {"REKEY_BACKOFFICE_USER": user, "REKEY_BACKOFFICE_PASSWORD": password}
    args = [sys.executable, "-m", "samples.backoffice", f"--fd={sock.fileno()}"]
    args += [f"--db={db_path}", f"--idle-timeout={idle_timeout_s}"]
    args += chaos_arguments(chaos or Chaos())
    child = subprocess.Popen(args, pass_fds=[sock.fileno()], env=env)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        sock.close()
