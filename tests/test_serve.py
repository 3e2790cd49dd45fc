"""`rekey serve` as operations run it: a local Prefect server is started, the deployments in
prefect.yaml are served, the watched folder runs as a service, and the scheduled batch fires
on its cron (shortened to every minute) and keys the batch inbox into the back office."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import httpx
import psutil
import pytest

from flows.server import healthy, stop
from rekey.models import CaseState
from rekey.pipeline import store_for

DEADLINE_S = 180  # server start + at most a minute to the next cron tick + the batch


def wait_for(predicate, timeout_s: float, what: str, proc: subprocess.Popen):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        try:
            proc.wait(timeout=1)  # also notices a serve that died
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"rekey serve exited ({proc.returncode}) before {what}")
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_the_scheduled_batch_fires_under_rekey_serve(backoffice, inbox: Path, tmp_path: Path):
    batch = tmp_path / "batch"
    batch.mkdir()
    claim, dropped = sorted(inbox.glob("claim-*.pdf"))[:2]
    shutil.copy2(claim, batch / claim.name)
    watched = tmp_path / "watched"
    settings = backoffice.settings_for(tmp_path, batch_inbox=batch)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "REKEY_"))}
    env |= {
        "REKEY_DATA_DIR": str(settings.data_dir),
        "REKEY_BATCH_INBOX": str(batch),
        "REKEY_BATCH_CRON": "* * * * *",
        "REKEY_WATCH_INBOX": str(watched),
        "REKEY_BACKOFFICE_URL": backoffice.url,
        "REKEY_BACKOFFICE_USER": backoffice.user,
        "REKEY_BACKOFFICE_PASSWORD": backoffice.password,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [sys.executable, "-m", "rekey.cli", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def api_url() -> str | None:
            found = re.search(r"Prefect API: (\S+)", (tmp_path / "serve.log").read_text())
            return found.group(1) if found else None

        api = wait_for(api_url, DEADLINE_S, "the local Prefect server", serve)
        assert api.startswith("http://127.0.0.1:")
        server = local_server(serve)
        assert server is not None, "no local Prefect server among rekey serve's processes"

        def keyed(count: int):
            return lambda: len(store_for(settings).list([CaseState.done])) == count

        wait_for(lambda: watched.is_dir(), DEADLINE_S, "the watched-folder service", serve)
        shutil.copy2(dropped, watched / dropped.name)  # dropped by a clerk
        wait_for(lambda: (watched / "done" / dropped.name).is_file(), DEADLINE_S, "done/", serve)
        wait_for(keyed(2), DEADLINE_S, "the scheduled batch to key its claim", serve)
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
        assert any(r["auto_scheduled"] for r in runs), "no flow run came from a schedule"
        deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
        assert {d["name"] for d in deployments} == {
            "scheduled-batch",
            "key-approved",
            "watch-inbox",
        }
        for case in store_for(settings).list():
            (row,) = backoffice.claims(external_ref=case.external_reference)
            assert row["reference"] == case.receipt.reference
    finally:
        stop(serve, signal.SIGINT)  # as Ctrl-C does
    # the local Prefect server stops with it (a serve that had to be killed cannot stop it:
    # the kernel does, and the server takes a moment to close)
    assert ended(server, DEADLINE_S), "the local Prefect server outlived rekey serve"
    assert not healthy(api)


def local_server(serve: subprocess.Popen) -> int | None:
    """The pid of the ``prefect server start`` that ``rekey serve`` started."""
    with suppress(psutil.Error):
        for child in psutil.Process(serve.pid).children(recursive=True):
            with suppress(psutil.Error):
                if {"prefect", "server", "start"} <= set(child.cmdline()):
                    return child.pid
    return None


def ended(pid: int, timeout_s: float) -> bool:
    """Whether the process ``pid`` (not a child of this one) ends within ``timeout_s``."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([handle], [], [], timeout_s)
        return bool(ready)
    finally:
        os.close(handle)


def test_a_child_started_with_stopped_with_parent_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys\n"
            "from flows.server import stopped_with_parent\n"
            "child = subprocess.Popen(['sleep', '600'], start_new_session=True,"
            " preexec_fn=stopped_with_parent())\n"
            "print(child.pid, flush=True)\n"
            "child.wait()\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    handle = os.pidfd_open(child)
    try:
        parent.kill()  # no chance to stop its child itself
        parent.wait()
        ready, _, _ = select.select([handle], [], [], 30)
        assert ready, "the child outlived its killed parent"
    finally:
        os.close(handle)
        with suppress(ProcessLookupError):  # nothing the test started may linger
            os.kill(child, signal.SIGKILL)
