"""Two ``rekey watch`` processes on one inbox while 50 files are dropped into it: each file
is processed once and settled once; and nothing either of them logs or prints, nor the
``rekey cases`` listing, holds a full identifier from the documents."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from connectors.inbox import sha256_of
from rekey.models import CaseState
from rekey.settings import PROJECT_ROOT
from rekey.store import Store
from tests.conftest_backoffice import start_backoffice
from tests.watching import (
    Watcher,
    documents,
    drop,
    identifiers,
    make_batch,
    pending,
    settled,
    unreadable,
    wait_until,
    watcher_env,
)

REAL = {"claim": 6, "account_opening": 4, "claim_cn": 1, "w9": 1}
COPIES, BAD = 8, 30


def reports(output: str) -> list[str]:
    """The file names a watcher reported as handled (one line per file it processed)."""
    return re.findall(r"^(\S+) → ", output, flags=re.MULTILINE)


def leaks(text: str, values: set[str]) -> list[str]:
    """The identifier values found in ``text`` whole: as written, or in groups of four."""
    found = []
    for value in values:
        grouped = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        if value in text or grouped in text:
            found.append(value)
    return found


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("prefect_harness")
def test_two_watchers_take_each_of_50_files_once(tmp_path: Path) -> None:
    batch = make_batch(tmp_path / "batch", REAL, seed=5)
    real = documents(batch)
    copies = []
    for number, source in enumerate(random.Random(5).sample(real, COPIES)):
        copy = tmp_path / "batch" / f"copy-{number}-{source.name}"
        shutil.copyfile(source, copy)
        copies.append(copy)
    files = [*real, *copies, *unreadable(tmp_path / "batch", BAD)]
    assert len(files) == 50
    random.Random(6).shuffle(files)
    inbox, data = tmp_path / "inbox", tmp_path / "var"
    inbox.mkdir()

    with start_backoffice(tmp_path / "backoffice", own_process=True) as office:
        policies = str(batch / "policies.csv")
        watchers = [
            Watcher(
                inbox,
                watcher_env(office, data, tmp_path / f"prefect-{n}", REKEY_POLICIES_CSV=policies),
                tmp_path / f"watch-{n}.log",
            )
            for n in (1, 2)
        ]
        try:
            for watcher in watchers:
                watcher.start()
            for watcher in watchers:
                watcher.wait_started()
            drop(files, inbox)
            wait_until(
                lambda: not pending(inbox) and len(settled(inbox)) >= len(files),
                timeout=480,
                what="all 50 files settled",
            )
            assert [w.stop() for w in watchers] == [0, 0]
        finally:
            for watcher in watchers:
                watcher.close()
        refs = Counter(row["external_ref"] for row in [*office.claims(), *office.customers()])
        listing = subprocess.run(
            [sys.executable, "-m", "rekey.cli", "cases"],
            cwd=PROJECT_ROOT,
            env=watchers[0].env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # each file handled by exactly one watcher, once, and settled once
    handled = [reports(w.output) for w in watchers]
    assert all(handled), "both watchers took part"
    assert sorted(handled[0] + handled[1]) == sorted(f.name for f in files)
    assert settled(inbox) == sorted(f.name for f in files)

    # one case per content, each received once; copies end where their original ends
    store = Store(f"sqlite:///{data / 'rekey.db'}")
    cases = {c.document.sha256: c for c in store.list()}
    assert len(cases) == len(real) + BAD
    received = Counter(e.case_id for e in store.events() if e.action == "received")
    assert set(received.values()) == {1}
    for source in files:
        case = cases[sha256_of(source)]
        folder = "quarantine" if case.state is CaseState.quarantined else "done"
        assert (inbox / folder / source.name).is_file(), (source.name, case.state)
    assert sum(c.state is CaseState.quarantined for c in cases.values()) == BAD
    assert all(n == 1 for n in refs.values())
    assert sum(c.state is CaseState.done for c in cases.values()) == len(refs) >= 4

    # no full identifier in anything a person or a log collector sees
    values = identifiers(batch)
    assert len(values) >= len(real)
    sample = sorted(values)[0]
    assert leaks(f"seen {sample} here", values) == [sample]  # the scan itself finds one
    assert listing.returncode == 0, listing.stderr
    for name, text in [
        ("watcher 1", watchers[0].output),
        ("watcher 2", watchers[1].output),
        ("rekey cases", listing.stdout + listing.stderr),
    ]:
        assert not leaks(text, values), f"{name} shows a full identifier"


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_still_being_written_waits_for_its_writer(tmp_path: Path) -> None:
    import threading

    from flows.watch import watch_folder
    from rekey.settings import Settings

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", watch_stable_s=0.2)  # type: ignore[call-arg]
    handled: list[str] = []
    started, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=watch_folder,
        args=(inbox, settings, lambda name, _went, _outcomes: handled.append(name), stop),
        kwargs={"started": started.set},
    )
    thread.start()
    try:
        assert started.wait(60)
        with (inbox / "a-slow.pdf").open("w") as writer:  # sorts first: it would go first
            writer.write("Dear Sir or Madam,\n")
            writer.flush()
            (inbox / "b-quick.pdf").write_text("A note, written in one go.\n")
            wait_until(lambda: "b-quick.pdf" in handled, 60, "the quick file")
            assert handled == ["b-quick.pdf"]  # the slow one was steady long enough, but held
            assert (inbox / "a-slow.pdf").exists()
            writer.write("my claim is attached.\n")
        wait_until(lambda: handled == ["b-quick.pdf", "a-slow.pdf"], 60, "the slow file")
    finally:
        stop.set()
        thread.join(60)
    kept = inbox / "quarantine" / "a-slow.pdf"
    assert kept.read_text() == "Dear Sir or Madam,\nmy claim is attached.\n"
    assert "plain text" in (inbox / "quarantine" / "a-slow.pdf.reason.txt").read_text()
    assert not thread.is_alive()
