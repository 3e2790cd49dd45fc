"""``.ci/run`` refuses to start without ``../shared/realworld`` beside the clone, naming the
path and what to do, before bootstrap or PostgreSQL are touched; with it, it goes on. Run on
a copy of the script in a temporary root, with a stand-in bootstrap that only leaves a mark."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from rekey.settings import PROJECT_ROOT

STAND_IN = """#!/usr/bin/env bash
echo ran >> {mark}
exit 7
"""


def clone_in(root: Path) -> Path:
    """A clone holding only .ci/run and stand-ins for what it runs, under ``root``."""
    clone = root / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / ".ci" / "run", clone / ".ci" / "run")
    for where, mark in (("scripts/bootstrap", "bootstrapped"), (".venv/bin/python", "python")):
        path = clone / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STAND_IN.format(mark=shlex.quote(str(clone / mark))))
        path.chmod(0o755)
    return clone


def ci_run(clone: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(clone / ".ci" / "run")],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ci_refuses_to_run_without_the_realworld_folder(tmp_path: Path):
    clone = clone_in(tmp_path)
    done = ci_run(clone)
    assert done.returncode != 0
    wanted = tmp_path.resolve() / "shared" / "realworld"
    assert f"{wanted} not found" in done.stderr
    assert "make test" in done.stderr
    assert not (clone / "bootstrapped").exists() and not (clone / "python").exists()


def test_ci_goes_on_to_bootstrap_when_the_folder_is_there(tmp_path: Path):
    clone = clone_in(tmp_path)
    (tmp_path / "shared" / "realworld").mkdir(parents=True)
    done = ci_run(clone)
    assert done.returncode == 7, done.stderr  # the stand-in bootstrap's own failure
    assert (clone / "bootstrapped").read_text() == "ran\n"
    assert "not found" not in done.stderr
