"""Shared fixtures: a real back office (tests.conftest_backoffice), one Prefect test
harness per session, the sample documents, and bad inputs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rekey.settings import PROJECT_ROOT

pytest_plugins = ["tests.conftest_backoffice", "tests.conftest_postgres"]

SAMPLE_INBOX = PROJECT_ROOT / "samples" / "inbox"


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A throwaway Prefect API for the whole session (it takes ~10 s to start)."""
    home = tmp_path_factory.mktemp("prefect-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("PREFECT_HOME", str(home))
    mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    mp.setenv("PREFECT_LOGGING_TO_API_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    from rekey.prefect_env import quiet_flows

    with prefect_test_harness(server_startup_timeout=180), quiet_flows():
        yield
    mp.undo()


@pytest.fixture
def sample_pdfs() -> list[Path]:
    return sorted(SAMPLE_INBOX.glob("*.pdf"))


@pytest.fixture
def inbox(tmp_path: Path, sample_pdfs: list[Path]) -> Path:
    """A folder holding the sample claims, a text file renamed .pdf and a zero-byte file."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for pdf in sample_pdfs:
        shutil.copy2(pdf, folder / pdf.name)
    (folder / "a-letter.pdf").write_text("Dear Sir or Madam,\nplease find my claim attached.\n")
    (folder / "empty.pdf").write_bytes(b"")
    return folder
