"""The demo's review claims (samples/review) wait for review, and the corrections their
truth files name clear every error, the larger one needing two approvers."""

from __future__ import annotations

import json
from pathlib import Path

from rekey import pipeline
from rekey.models import CaseState
from rekey.review import actions
from rekey.settings import PROJECT_ROOT, Settings
from samples.corpus.inbox import REVIEW_SAMPLES

REVIEW_INBOX = PROJECT_ROOT / "samples" / "review"


def case_value(pdf: Path, settings: Settings, name: str) -> str | None:
    """The value the pipeline reads for field ``name`` (without opening a case)."""
    _, source = pipeline.read(pdf)
    _, fields = pipeline.extract(source, settings)
    return fields[name].value


def test_review_samples_wait_for_review_and_corrections_clear_them(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    store = pipeline.store_for(settings)
    pdfs = sorted(REVIEW_INBOX.glob("*.pdf"))
    assert len(pdfs) == 2
    needed = []
    corrections = {f"review-{seed}.pdf": fixes for seed, _, fixes in REVIEW_SAMPLES}
    for pdf in pdfs:
        truth = json.loads(pdf.with_suffix(".truth.json").read_text())
        assert truth["fields"]["currency"] == case_value(pdf, settings, "currency")
        case, _ = pipeline.intake(pdf, settings)
        case = pipeline.understand(case, settings)
        assert case.state is CaseState.review, (pdf.name, case.findings)
        assert actions.blocking(case)
        for name, value in corrections[pdf.name].items():
            case = actions.correct(store, settings, case, name, value, "t")
        assert actions.blocking(case) == [], (pdf.name, case.findings)
        needed.append(actions.approvals_needed(case, settings))
    assert sorted(needed) == [1, 2]


def test_the_demo_says_how_to_open_the_review_station(tmp_path: Path):
    from rekey.review.auth import password_matches
    from rekey.review.cli import demo_message

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case, _ = pipeline.intake(sorted(REVIEW_INBOX.glob("*.pdf"))[0], settings)
    pipeline.understand(case, settings)
    message = demo_message(settings)
    assert "rekey review" in message and "http://127.0.0.1:8780/" in message
    assert "1 cases waiting" in message and "reviewer and supervisor" in message
    store = pipeline.store_for(settings)
    for name in ("reviewer", "supervisor"):
        secret = settings.review_dir / f"{name}.password"
        assert secret.stat().st_mode & 0o077 == 0
        assert password_matches(store.user(name).password_hash, secret.read_text())
    assert demo_message(settings) == message  # a second demo keeps the users and passwords


def test_the_command_line_prints_document_values_as_text():
    from rich.console import Console

    from rekey.cli import outcome_table
    from rekey.pipeline import Outcome

    console = Console(record=True, width=200)
    note = "The claimant '[red]D. Richards[/]' does not match"
    console.print(outcome_table([Outcome("[bold]x.pdf", "c1", "review", note=note)]))
    shown = console.export_text()
    assert "[bold]x.pdf" in shown and "'[red]D. Richards[/]'" in shown
