"""The report as one self-contained HTML file: inline CSS and SVG, no scripts, no links."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rekey.report import charts
from rekey.report.figures import Figures

TOP_EXCEPTIONS = 10
HERE = Path(__file__).parent


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def report_charts(figures: Figures) -> list[charts.Chart]:
    volume = charts.columns(
        "volume",
        "Documents received per day",
        [(f"{day:%m-%d}", count, str(count)) for day, count in figures.per_day],
        "No documents in this period.",
    )
    stp = charts.rows(
        "stp",
        "Straight-through rate per document type",
        [(f"{t.doc_type} ({t.cases})", t.rate, f"{t.rate:.0%}") for t in figures.by_type],
        "No cases in this period.",
        fixed_max=1.0,
    )
    top = [r for r in figures.exceptions if r.errors][:TOP_EXCEPTIONS]
    exceptions = charts.rows(
        "exceptions",
        "Top exception reasons (cases per rule)",
        [(r.rule, r.errors, str(r.errors)) for r in top],
        "No exceptions in this period.",
    )
    return [volume, stp, exceptions]


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    env.filters["duration"] = duration
    return env


def render(figures: Figures) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(figures=figures, charts=report_charts(figures))


def write(figures: Figures, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(figures), encoding="utf-8")
    return path
