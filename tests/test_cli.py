"""The command line as an operator uses it: ``rekey run`` twice, then ``rekey cases``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.inbox import sha256_of
from rekey.cli import app
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
    assert first.output.count("done") == 3
    assert first.output.count("quarantined") == 2
    assert [len(backoffice.claims(external_ref=ref)) for ref in refs] == [1, 1, 1]
    count = len(backoffice.claims())

    second = runner.invoke(app, ["run", str(inbox)])
    assert second.exit_code == 0, second.output
    assert second.output.count("already processed") == 5
    assert len(backoffice.claims()) == count

    listing = runner.invoke(app, ["cases"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.count("CLM-") == 3
    assert "quarantined" in listing.output and "empty" in listing.output
    reasons = sorted(p.name for p in (env / "quarantine").glob("*.reason.txt"))
    assert len(reasons) == 2
    assert backoffice.password not in first.output + second.output + listing.output
