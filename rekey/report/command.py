"""``rekey report --since DATE``: print the period's figures and write the HTML report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rekey.report import html
from rekey.report.figures import Figures, figures
from rekey.settings import Settings
from rekey.store import as_utc

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]


def summary(result: Figures) -> Table:
    table = Table(
        title=f"rekey report {result.since:%Y-%m-%d %H:%M} – {result.until:%Y-%m-%d %H:%M} UTC"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("documents received", str(result.documents)),
        ("cases (batch rows one each)", str(result.cases)),
        ("straight-through rate", f"{html.percent(result.stp_rate)} ({result.straight_through})"),
        ("review rate", f"{html.percent(result.review_rate)} ({result.reviewed})"),
        ("drop to keyed, median", html.duration(result.median_to_keyed_s)),
        ("drop to keyed, p90", html.duration(result.p90_to_keyed_s)),
        ("cases keyed", str(result.keyed)),
        ("failed or quarantined now", str(len(result.failures))),
        ("keying failures (incl. retried)", str(result.keying_failures)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def exceptions_table(result: Figures) -> Table:
    table = Table(title="exceptions by rule")
    for column in ("rule", "cases (error)", "cases (warning)"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for rule in result.exceptions:
        table.add_row(rule.rule, str(rule.errors), str(rule.warnings))
    return table


def failures_table(result: Figures) -> Table:
    table = Table(title="failures")
    for column in ("case", "file", "state", "reason"):
        table.add_column(column, overflow="fold")
    for failure in result.failures:
        table.add_row(failure.case_id, failure.file, failure.state, failure.reason)
    return table


def report(
    since: datetime = typer.Option(
        ..., formats=DATE_FORMATS, metavar="DATE", help="Start (UTC unless a zone is given)."
    ),
    until: datetime | None = typer.Option(
        None, formats=DATE_FORMATS, metavar="DATE", help="End, exclusive (default: now)."
    ),
    out: Path | None = typer.Option(
        None, "--html", help="Where to write the HTML report (default: under the data folder)."
    ),
) -> None:
    """Print the operating figures for cases received since DATE and write an HTML report."""
    from rekey.pipeline import store_for

    settings = Settings()
    store = store_for(settings)
    since = as_utc(since)
    until = as_utc(until) if until is not None else datetime.now(UTC)
    if until <= since:
        raise typer.BadParameter("--until must be later than --since")
    result = figures(store.list(since=since), store.events(since=since), since, until)
    console = Console()
    console.print(summary(result))
    if result.exceptions:
        console.print(exceptions_table(result))
    if result.failures:
        console.print(failures_table(result))
    path = out or settings.data_path / "reports" / f"report-{since:%Y%m%d}-{until:%Y%m%d}.html"
    html.write(result, path)
    console.print(f"HTML report: {path}")
