"""Run the demo back office on a free loopback port: in a background thread
(:func:`running_backoffice`), or in a process of its own (:func:`backoffice_process`, so a
busy test's browser driver and the server do not share one interpreter)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rekey.webserver import serving
from samples.backoffice.app import create_app
from samples.backoffice.chaos import Chaos


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
    app = create_app(db_path, users, idle_timeout_s=idle_timeout_s, chaos=chaos)
    with serving(app, "the back office", host, port) as url:
        yield url


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
