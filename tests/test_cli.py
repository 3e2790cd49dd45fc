"""The command line as an operator uses it: ``rekey run`` twice, then ``rekey cases``."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.inbox import sha256_of
from rekey.cli import app, reasons_not_tracebacks
from rekey.errors import ApplicationError
from rekey.models import external_reference

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, backoffice, tmp_path: Path) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("REKEY_DATA_DIR", str(data))
    monkeypatch.setenv("REKEY_BACKOFFICE_URL", backoffice.url)
    monkeypatch.setenv("REKEY_BACKOFFICE_USER", backoffice.user)
    monkeypatch.setenv("REKEY_BACKOFFICE_PASSWORD", backoffice.password)
    monkeypatch.setenv("COLUMNS", "200")
    return data


def test_run_twice_then_list_cases(env: Path, inbox: Path, backoffice) -> None:
    runner = CliRunner()
    refs = [external_reference(sha256_of(pdf)) for pdf in inbox.glob("claim-*.pdf")]

    first = runner.invoke(app, ["run", str(inbox)])
    assert first.exit_code == 0, first.output
    table = first.output.rsplit("5 documents:", 1)[0]  # the summary line after it
    assert table.count("done") == 3
    assert table.count("quarantined") == 2
    assert "5 documents: 3 keyed now, 2 quarantined" in first.output
    assert [len(backoffice.claims(external_ref=ref)) for ref in refs] == [1, 1, 1]
    count = len(backoffice.claims())

    second = runner.invoke(app, ["run", str(inbox)])
    assert second.exit_code == 0, second.output
    assert second.output.count("already processed") == 5
    assert "5 documents: 0 keyed now, 5 done before (not processed again)" in second.output
    assert len(backoffice.claims()) == count

    listing = runner.invoke(app, ["cases"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.count("CLM-") == 3
    assert "quarantined" in listing.output and "empty" in listing.output
    reasons = sorted(p.name for p in (env / "quarantine").glob("*.reason.txt"))
    assert len(reasons) == 2
    assert backoffice.password not in first.output + second.output + listing.output


def test_one_file_with_the_back_office_down_fails_with_exit_1(
    env: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("REKEY_BACKOFFICE_URL", down)
    monkeypatch.setenv("REKEY_KEYING_RETRIES", "1")
    monkeypatch.setenv("REKEY_KEYING_RETRY_DELAY_S", "0")
    claim = sorted(inbox.glob("claim-*.pdf"))[0]
    result = CliRunner().invoke(app, ["run", str(claim)])
    assert result.exit_code == 1, result.output
    assert "1 documents: 0 keyed now, 1 failed" in result.output
    assert "documents failed" in result.output


def test_a_task_failing_on_purpose_is_logged_without_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("prefect.task_runs")
    with caplog.at_level(logging.ERROR, "prefect.task_runs"), reasons_not_tracebacks():
        for exc in (ApplicationError("back office down"), KeyError("bug")):
            try:
                raise exc
            except Exception:
                logger.error("Task run failed with exception: %r", exc, exc_info=True)
    on_purpose, bug = caplog.records
    assert on_purpose.exc_info is None and bug.exc_info is not None
