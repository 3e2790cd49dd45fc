"""``rekey watch`` killed with SIGKILL at ten seeded points of a 30-document batch and
restarted each time: every document still ends done, in review or in quarantine, once; the
back office holds no duplicate; the audit trail is unbroken."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from connectors.inbox import sha256_of
from rekey.models import CaseState, external_reference
from rekey.settings import PROJECT_ROOT
from rekey.store import Store
from tests.conftest_backoffice import start_backoffice
from tests.watching import (
    Watcher,
    audit_count,
    documents,
    drop,
    make_batch,
    pending,
    settled,
    unreadable,
    wait_until,
    watcher_env,
)

KILLS = 10
SEED = 20261129
ENDED = {CaseState.done, CaseState.review, CaseState.rejected, CaseState.quarantined}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("prefect_harness")
def test_killed_ten_times_nothing_lost_nothing_twice(tmp_path: Path) -> None:
    batch = make_batch(tmp_path / "batch")
    files = [*documents(batch), *unreadable(tmp_path / "batch", 2)]
    assert len(files) == 30
    inbox, data = tmp_path / "inbox", tmp_path / "var"
    inbox.mkdir()
    rng = random.Random(SEED)
    with start_backoffice(tmp_path / "backoffice", own_process=True) as office:
        env = watcher_env(
            office,
            data,
            tmp_path / "prefect",
            REKEY_POLICIES_CSV=str(batch / "policies.csv"),
            # a killed watcher keeps its session slot until the Prefect server's repossessor
            # revokes the lease (REKEY_SESSION_LEASE_S); the test harness's API runs no such
            # service, so give every incarnation a slot of its own
            REKEY_BACKOFFICE_SESSIONS=str(KILLS + 2),
        )
        watcher = Watcher(inbox, env, tmp_path / "watch.log")
        drop(files[:15], inbox)
        try:
            for kill in range(KILLS):
                watcher.start()
                if kill == 3:
                    drop(files[15:], inbox)
                target = audit_count(data) + rng.randint(1, 24)
                wait_until(
                    lambda target=target: (
                        audit_count(data) >= target or not pending(inbox) or watcher.died()
                    ),
                    timeout=180,
                    what=f"audit event {target}",
                )
                assert not watcher.died(), watcher.output[-3000:]
                watcher.kill()
            killed_at = audit_count(data)

            watcher.start()
            wait_until(
                lambda: not pending(inbox) and len(settled(inbox)) >= len(files),
                timeout=300,
                what="every file settled",
            )
            assert watcher.stop() == 0, watcher.output[-3000:]
        finally:
            watcher.close()
        claims, customers = office.claims(), office.customers()

    # every file once, in done/ or quarantine/
    assert settled(inbox) == sorted(f.name for f in files)
    assert not pending(inbox)
    for bad in ("unreadable-00.pdf", "unreadable-01.pdf"):
        assert (inbox / "quarantine" / bad).is_file()
        assert (inbox / "quarantine" / f"{bad}.reason.txt").read_text().strip()

    # every document's case ended, and where its file is agrees with how it ended
    store = Store(f"sqlite:///{data / 'rekey.db'}")
    cases = {case.document.sha256: case for case in store.list()}
    assert len(cases) == len(files)
    for source in files:
        case = cases[sha256_of(source)]
        assert case.state in ENDED, (source.name, case.state, case.reason)
        folder = "quarantine" if case.state is CaseState.quarantined else "done"
        assert (inbox / folder / source.name).is_file(), (source.name, case.state)
    keyed = [c for c in cases.values() if c.state is CaseState.done]
    assert len(keyed) >= 10, Counter(c.state for c in cases.values())

    # the back office: one record per keyed document, none twice (a case whose record
    # was saved but read back differently is in review, its one record kept)
    refs = Counter(row["external_ref"] for row in [*claims, *customers])
    assert all(n == 1 for n in refs.values()), [r for r, n in refs.items() if n > 1]
    for case in keyed:
        assert refs[external_reference(case.document.sha256)] == 1
    assert set(refs) <= {external_reference(sha) for sha in cases}  # no stray record

    # the kills fell inside the batch: files were taken over from processing/ after them
    assert killed_at < audit_count(data)
    assert watcher.output.count("taking over ") >= KILLS // 2
    # and the trail they left is whole
    verify = subprocess.run(
        [sys.executable, "-m", "rekey.cli", "audit", "verify"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "intact" in verify.stdout
