"""``python -m samples.corpus``: the demo inbox, corpora, the small committed set, hostile files."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from samples.corpus.generate import generate as generate_corpus
from samples.corpus.generate import write_small
from samples.corpus.hostile import write_hostile
from samples.corpus.inbox import write_inbox, write_review_inbox

app = typer.Typer(no_args_is_help=True, add_completion=False)
FORMS_HELP = "Folder holding the blank W-9 and CMS-1500 (default: samples/forms)."


@app.command()
def inbox(out: Path = typer.Option(Path("samples/inbox"), help="Folder to write to.")) -> None:
    """Write the demo inbox's claim forms and their truth files."""
    for path in write_inbox(out):
        typer.echo(path)


@app.command("review-inbox")
def review_inbox(
    out: Path = typer.Option(Path("samples/review"), help="Folder to write to."),
) -> None:
    """Write the claims the demo sends to the review station, with their truth files."""
    for path in write_review_inbox(out):
        typer.echo(path)


@app.command()
def generate(
    out: Path = typer.Option(..., help="Folder to write to."),
    n: int = typer.Option(200, help="Number of documents."),
    seed: int = typer.Option(7, help="Seed; the same seed gives byte-identical truth files."),
    error_share: float = typer.Option(0.2, help="Share of documents with a planted error."),
    forms: Path | None = typer.Option(None, help=FORMS_HELP),
    workers: int = typer.Option(2, help="Processes to build documents with."),
    hostile: bool = typer.Option(False, help="Also write the hostile inputs into OUT/hostile."),
) -> None:
    """Write a corpus of N documents with truth files, policies.csv and manifest.json."""
    started = time.perf_counter()
    generate_corpus(out, n, seed, error_share, forms, workers)
    if hostile:
        write_hostile(out / "hostile")
    typer.echo(f"{n} documents in {out} ({time.perf_counter() - started:.1f} s)")


@app.command()
def small(
    out: Path = typer.Option(Path("samples/corpus/small"), help="Folder to write to."),
    forms: Path | None = typer.Option(None, help=FORMS_HELP),
) -> None:
    """Regenerate the small committed set (deterministic)."""
    write_small(out, forms)
    typer.echo(out)


@app.command()
def hostile(out: Path = typer.Option(..., help="Folder to write to.")) -> None:
    """Write the hostile inputs (empty, truncated, encrypted, 300 pages, bomb, odd names)."""
    for kind, path in write_hostile(out).items():
        typer.echo(f"{kind}: {path}")


@app.callback()
def main() -> None:
    """Sample documents with known truth."""


if __name__ == "__main__":
    app()
