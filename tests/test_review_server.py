"""``rekey review`` with two workers, as a real process: workers that stall while they
start (as on a loaded machine, where importing the app took 18 s) are not killed by
uvicorn's health check, and the URL is printed only once the station answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from rekey.review.server import WORKER_HEALTHCHECK_S
from rekey.settings import PROJECT_ROOT

STALL_S = 8.0  # longer than uvicorn's default health check timeout (5 s)
START_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_of(parent: psutil.Process) -> list[psutil.Process]:
    """uvicorn's worker processes (spawned by multiprocessing)."""
    found = []
    for child in parent.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_slow_starting_workers_are_not_killed_and_the_url_waits_for_them(tmp_path: Path):
    assert WORKER_HEALTHCHECK_S > STALL_S
    port = free_port()
    env = os.environ | {"REKEY_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    rekey = Path(sys.executable).with_name("rekey")
    server = subprocess.Popen(
        [str(rekey), "review", "--workers", "2", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    lines: list[str] = []
    announced = threading.Event()

    def read() -> None:
        for line in server.stdout:
            lines.append(line)
            if "review station: http://" in line:
                announced.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        parent = psutil.Process(server.pid)
        deadline = time.monotonic() + START_S
        while len(workers := workers_of(parent)) < 2:
            assert server.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "no workers started"
            announced.wait(0.05)  # polling for the workers to appear
        for worker in workers:  # a machine too busy to run them, for longer than 5 s
            worker.send_signal(signal.SIGSTOP)
        stalled = announced.wait(STALL_S)
        assert not stalled, "the URL was printed while no worker could answer"
        for worker in workers:
            try:
                worker.send_signal(signal.SIGCONT)
            except psutil.NoSuchProcess:
                pytest.fail(f"worker {worker.pid} was killed while it was starting")
        assert announced.wait(START_S), "".join(lines)
        answer = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert answer.status_code == 200
        assert all(w.is_running() and w.status() != psutil.STATUS_STOPPED for w in workers)
        assert {w.pid for w in workers_of(parent)} == {w.pid for w in workers}  # none replaced
        printed = "".join(lines)
        assert printed.count("review station: http://") == 1
        assert "died" not in printed and "failed to start" not in printed
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
