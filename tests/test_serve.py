"""`rekey serve` as operations run it: a local Prefect server is started, the deployments in
prefect.yaml are served, the watched folder runs as a service, and the scheduled batch fires
on its cron (shortened to every minute) and keys the batch inbox into the back office."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.server import stop
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
    with pytest.raises(httpx.HTTPError):  # the local Prefect server stopped with it
        httpx.get(f"{api}/health", timeout=2)
