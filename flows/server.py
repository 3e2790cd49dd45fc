"""A local Prefect server for ``rekey serve`` when no Prefect API is configured.

Schedules need a real server (Prefect's ephemeral mode cannot schedule), so ``rekey serve``
starts ``prefect server start`` on a free 127.0.0.1 port, its database under the data
folder's ``PREFECT_HOME``, waits until ``/api/health`` answers, points this process (and
the flow runs it starts) at it, and stops it on the way out.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings

from rekey.errors import ConfigError
from rekey.settings import Settings

POLL_S = 0.25  # how often the health check is retried while the server starts
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def stopped_with_parent() -> Callable[[], None] | None:
    """A hook for ``Popen(preexec_fn=...)``: on Linux the child asks the kernel for SIGTERM
    when the process that started it dies, however it dies (killed, it cannot stop the
    server itself, and a server left running holds its port and database)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in it
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def configured_api_url() -> str | None:
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def prefect_api(settings: Settings) -> Iterator[str]:
    """The Prefect API to use: the configured one, or a local server started for the block."""
    configured = configured_api_url()
    if configured:
        yield configured
        return
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = settings.prefect_home / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = os.environ | {"PREFECT_HOME": str(settings.prefect_home)}
    env.pop("PREFECT_API_URL", None)
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches rekey serve, which stops the server last
            preexec_fn=stopped_with_parent(),
        )
    try:
        wait_until_healthy(server, api_url, settings.prefect_server_timeout_s, log_path)
        os.environ["PREFECT_API_URL"] = api_url  # for the flow runs started as processes
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        stop(server)


def wait_until_healthy(
    server: subprocess.Popen, api_url: str, timeout_s: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while not healthy(api_url):
        try:
            code = server.wait(timeout=POLL_S)  # returns at once if the server died
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            raise ConfigError(
                f"the local Prefect server exited with status {code}; see {log_path}",
                key="PREFECT_API_URL",
            )
        if time.monotonic() > deadline:
            raise ConfigError(
                f"the local Prefect server did not answer within {timeout_s:.0f} s; see {log_path}",
                key="prefect_server_timeout_s",
            )


def stop(process: subprocess.Popen, first: signal.Signals = signal.SIGTERM) -> None:
    """Stop a process started in a session of its own, with its children: *first*, then
    SIGKILL when it has not ended after 20 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, first)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
