"""The command line when something is wrong: a configuration error stops `rekey run`
before any work (exit 2, naming file and key), a store that is not there is not made, an
unknown REKEY_ name is reported with the setting meant, a taken port is named; and the
small things: --version, `rekey explain --json`, the data folder kept private."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rekey.cli import app, this_run
from rekey.pipeline import DONE_ALREADY, Outcome
from rekey.settings import PROJECT_ROOT, Settings, unknown_names

SAMPLE = PROJECT_ROOT / "samples" / "inbox" / "claim-11.pdf"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("REKEY_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")
    return data


def test_a_broken_template_stops_the_run_before_any_work(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "samples" / "templates", templates)
    claim = templates / "claim.yaml"
    claim.write_text(claim.read_text().replace("fields:", "feilds:", 1))
    monkeypatch.setenv("REKEY_TEMPLATES_DIR", str(templates))
    result = CliRunner().invoke(app, ["run", str(SAMPLE)])
    assert result.exit_code == 2, result.output
    assert "claim.yaml" in result.output and "Traceback" not in result.output
    assert not (data / "rekey.db").exists()  # nothing was processed


def test_a_missing_rules_folder_is_named(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REKEY_RULES_DIR", str(data / "no-rules"))
    result = CliRunner().invoke(app, ["run", str(SAMPLE.parent)])
    assert result.exit_code == 2
    assert "no-rules: the folder does not exist" in result.output.replace("\n", "")


def test_cases_without_a_store_says_which_folder_and_makes_none(data: Path) -> None:
    result = CliRunner().invoke(app, ["cases"])
    assert result.exit_code == 2
    assert "no case store in" in result.output and "REKEY_DATA_DIR" in result.output
    assert not (data / "rekey.db").exists()


def test_an_unknown_setting_name_is_reported_with_the_one_meant(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REKEY_TEMPLATE_DIR", "/somewhere")
    assert ("REKEY_TEMPLATE_DIR", "REKEY_TEMPLATES_DIR") in unknown_names()
    result = CliRunner().invoke(app, ["cases"])
    assert "REKEY_TEMPLATE_DIR is not a rekey setting: did you mean REKEY_TEMPLATES_DIR?" in (
        result.output.replace("\n", "")
    )
    assert unknown_names({"REKEY_HOME": "x", "REKEY_DATA_DIR": "y", "PATH": "z"}) == []


def test_the_data_folder_defaults_to_the_project_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REKEY_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings(_env_file=None).data_path == PROJECT_ROOT / "var"  # type: ignore[call-arg]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("rekey ")


@pytest.mark.parametrize("command", ["backoffice", "review"])
@pytest.mark.parametrize("taken", [True, False])
def test_a_taken_or_impossible_port_is_named(data: Path, taken: bool, command: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1] if taken else 70000
        result = CliRunner().invoke(app, [command, "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"port {port}" in result.output and "Traceback" not in result.output
    assert ("in use" if taken else "out of range") in result.output


def test_explain_json_prints_each_field(data: Path) -> None:
    result = CliRunner().invoke(app, ["explain", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    fields = [json.loads(line) for line in result.output.splitlines()]
    truth = json.loads(SAMPLE.with_suffix(".truth.json").read_text())["fields"]
    got = {f["name"]: f["value"] for f in fields}
    assert got["policy_number"] == truth["policy_number"]
    assert {"name", "value", "confidence", "page", "how", "template"} <= set(fields[0])


def test_the_summary_says_what_this_run_did() -> None:
    again = Outcome("a.pdf", "c1", "done", note=f"{DONE_ALREADY} (done)")
    new = Outcome("b.pdf", "c2", "done")
    failed = Outcome("c.pdf", "c3", "failed", note="back office down")
    line = this_run([again, new, failed])
    assert line == "3 documents: 1 keyed now, 1 done before (not processed again), 1 failed"


def test_the_data_folder_is_private(data: Path) -> None:
    from rekey.runtime import private_data

    data.mkdir(mode=0o755)
    private_data(Settings(_env_file=None))  # type: ignore[call-arg]
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    (data / "cache").mkdir()
    (data / "layout.json").write_text("{}")
    assert stat.S_IMODE((data / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "layout.json").stat().st_mode) == 0o600


def test_a_relative_data_folder_is_resolved_once_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REKEY_DATA_DIR", "here")
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["cases"])
    assert result.exit_code == 2
    assert f"no case store in {tmp_path / 'here'}" in result.output
    assert os.environ["REKEY_DATA_DIR"] == str(tmp_path / "here")  # for every later process
