"""The ``rekey`` command line (typer + rich)."""

from __future__ import annotations

from collections.abc import Iterable
from getpass import getuser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rekey.errors import RekeyError
from rekey.models import CaseState
from rekey.report.command import report
from rekey.review.cli import register as register_review
from rekey.runtime import configure_prefect, with_password
from rekey.settings import Settings

if TYPE_CHECKING:
    from connectors.backoffice import Ledger

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_show_locals=False
)
console = Console()

STATE_STYLE = {
    "done": "green",
    "keyed": "green",
    "review": "yellow",
    "rejected": "red",
    "quarantined": "magenta",
    "failed": "red",
}


def outcome_table(outcomes: Iterable) -> Table:
    table = Table(title="rekey run", show_lines=False)
    for column in ("file", "case", "state", "type", "reference", "note"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        style = STATE_STYLE.get(o.state, "")
        table.add_row(
            escape(o.file),
            o.case_id or "-",
            f"[{style}]{o.state}[/]" if style else o.state,
            o.doc_type or "-",
            o.reference or "-",
            escape(o.note),  # may quote values read from the document
        )
    return table


def run_folder(folder: Path, settings: Settings) -> list:
    configure_prefect(settings)
    from connectors.inbox import list_documents
    from flows.process import process_folder, subscribe
    from rekey.prefect_env import quiet_flows

    total = len(list_documents(folder, settings.ignore_patterns))
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(f"processing {folder}", total=total)

        def advance(_outcome) -> None:  # a batch file adds one case per row
            task = progress.tasks[bar]
            progress.update(bar, advance=1, total=max(task.total or 0, task.completed + 1))

        unsubscribe = subscribe(advance)
        try:
            with quiet_flows():
                outcomes = process_folder(folder, settings)
        finally:
            unsubscribe()
    console.print(outcome_table(outcomes))
    return outcomes


@app.command()
def run(folder: Path = typer.Argument(..., exists=True, file_okay=False)) -> None:
    """Process every document in FOLDER once, then print a summary."""
    run_folder(folder, with_password(Settings()))


REKEY_LOGGERS = ("rekey", "flows", "connectors", "extractors", "validators")


@app.command()
def watch(inbox: Path = typer.Argument(..., exists=True, file_okay=False)) -> None:
    """Watch INBOX: take each complete file into processing/, process it, move it to done/
    or quarantine/ (with a reason file). Files a crash left in processing/ are taken up
    again. Stops on Ctrl-C or SIGTERM after the file in hand."""
    import logging
    import signal
    import threading

    settings = with_password(Settings())
    configure_prefect(settings)
    from flows.watch import watch_folder
    from rekey.prefect_env import quiet_flows

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in REKEY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    stop = threading.Event()

    def finish_then_stop(*_) -> None:  # a second Ctrl-C stops at once
        if stop.is_set():
            raise KeyboardInterrupt
        console.print("stopping after the file in hand (Ctrl-C again to stop now)")
        stop.set()

    signal.signal(signal.SIGTERM, finish_then_stop)
    signal.signal(signal.SIGINT, finish_then_stop)

    def report(name: str, went: Path | None, outcomes: list) -> None:
        where = went.name if went is not None else "processing (to retry)"
        states = ", ".join(f"{o.state} {o.reference or o.case_id or ''}".strip() for o in outcomes)
        console.print(f"{name} → {where}: {states or 'not processed'}")

    def started() -> None:
        console.print(f"watching {inbox.resolve()} (stop with Ctrl-C)")

    with quiet_flows():
        watch_folder(inbox, settings, report, stop, started)


@app.command()
def cases(state: list[CaseState] = typer.Option(None, help="Only cases in these states.")) -> None:
    """List cases with their state and receipt."""
    from rekey.pipeline import store_for

    table = Table(title="cases")
    for column in ("case", "file", "state", "type", "reference", "updated", "reason"):
        table.add_column(column, overflow="fold")
    for case in store_for(Settings()).list(state or None):
        table.add_row(
            case.id,
            escape(case.document.original_name),
            case.state.value,
            case.doc_type or "-",
            case.receipt.reference if case.receipt else "-",
            f"{case.updated_at:%Y-%m-%d %H:%M:%S}",
            escape(case.reason or ""),
        )
    console.print(table)


app.command()(report)


@app.command()
def explain(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    template: str | None = typer.Option(None, help="Use this template instead of classifying."),
    out: Path | None = typer.Option(None, help="Folder for the page pictures."),
) -> None:
    """Show each field's value, confidence and how it was found; draw the boxes on the pages."""
    from extractors.engine import extract_source
    from extractors.explain import explain_pages
    from extractors.registry import read_document
    from extractors.templates import load_templates

    settings = Settings()
    templates = load_templates(settings.templates_dir)
    if template is not None and template not in templates:
        raise typer.BadParameter(f"no template {template!r} (have: {', '.join(templates)})")
    source = read_document(file)
    result = extract_source(source, templates.values(), templates.get(template))
    if result.template is None:
        console.print("[yellow]No template matches this document.[/] Try --template NAME.")
        raise typer.Exit(1)
    table = Table(
        title=f"{file.name}: {result.template.name} (doc type {result.template.doc_type})"
    )
    for column in ("field", "value", "confidence", "page", "how found"):
        table.add_column(column, overflow="fold")
    for field in result.fields.values():
        style = "green" if field.confident else ("yellow" if field.value else "red")
        table.add_row(
            field.name,
            escape(field.value or "-"),
            f"[{style}]{field.confidence:.0%}[/]",
            str(field.page or "-"),
            field.how,
        )
    console.print(table)
    folder = out or settings.data_path / "explain" / file.stem
    for path in explain_pages(source, result.fields, folder):
        console.print(f"page picture: {path}")


def backoffice_db(settings: Settings) -> Path:
    return settings.data_path / "backoffice" / "backoffice.db"


@app.command()
def backoffice(
    port: int | None = typer.Option(None, help="Port (default: from the URL)."),
    idle_timeout: float | None = typer.Option(
        None, help="Seconds without a request before a session ends."
    ),
    latency_ms: int | None = typer.Option(None, help="Chaos: added to every response."),
    slow_share: float | None = typer.Option(None, help="Chaos: share of pages slower still."),
    slow_ms: int | None = typer.Option(None, help="Chaos: how much slower those pages are."),
    chaos_500: float | None = typer.Option(None, help="Chaos: share of requests answering 500."),
    session_ttl: float | None = typer.Option(
        None, help="Chaos: sessions are dropped this many seconds after sign-in."
    ),
    shuffle: bool | None = typer.Option(
        None, "--shuffle/--no-shuffle", help="Chaos: field order shuffled on each page load."
    ),
    commit_then_500: float | None = typer.Option(
        None, help="Chaos: share of saves that commit, then answer 500."
    ),
    seed: int | None = typer.Option(None, help="Chaos: seed of every random choice."),
) -> None:
    """Serve the demo back office on 127.0.0.1 until interrupted (chaos knobs optional;
    each defaults to its REKEY_CHAOS_* setting)."""
    from samples.backoffice.app import serve
    from samples.backoffice.chaos import Chaos

    settings = with_password(Settings())
    port = port or urlsplit(settings.backoffice_url).port or 8765

    def pick(given, default):
        return default if given is None else given

    chaos = Chaos(
        seed=pick(seed, settings.chaos_seed),
        latency_ms=pick(latency_ms, settings.chaos_latency_ms),
        slow_share=pick(slow_share, settings.chaos_slow_share),
        slow_ms=pick(slow_ms, settings.chaos_slow_ms),
        error_rate=pick(chaos_500, settings.chaos_500),
        session_ttl_s=pick(session_ttl, settings.chaos_session_ttl_s),
        shuffle=pick(shuffle, settings.chaos_shuffle),
        commit_then_500=pick(commit_then_500, settings.chaos_commit_then_500),
    )
    console.print(
        f"back office: http://127.0.0.1:{port}/  (user "
        f"[bold]{settings.backoffice_user}[/], password in "
        f"{settings.data_path / 'backoffice' / 'password'} or REKEY_BACKOFFICE_PASSWORD)"
    )
    if chaos.active:
        console.print(f"[yellow]chaos:[/] {chaos}")
    serve(
        port=port,
        db_path=backoffice_db(settings),
        users={settings.backoffice_user: settings.backoffice_password.get_secret_value()},
        idle_timeout_s=pick(idle_timeout, settings.backoffice_idle_timeout_s),
        chaos=chaos,
        **({"policies_csv": settings.policies_csv} if settings.policies_csv else {}),
    )


@app.command()
def serve() -> None:
    """Run the deployments in prefect.yaml (the watched folder, the scheduled batch,
    key_approved) until interrupted; starts a local Prefect server on 127.0.0.1 when
    PREFECT_API_URL is not set."""
    settings = with_password(Settings())
    configure_prefect(settings)
    from flows.deployments import load_deployments, serve_deployments, services
    from flows.server import prefect_api

    specs = load_deployments(settings)  # fail on a bad prefect.yaml before starting
    started = {spec.name for spec in services(specs, settings)}
    for spec in specs:
        when = ", ".join(s.cron or f"every {s.interval:g} s" for s in spec.schedules)
        when = when or ("service, started now" if spec.name in started else "on demand")
        console.print(f"deployment [bold]{spec.name}[/]: {when}")
    with prefect_api(settings) as api_url:
        console.print(f"Prefect API: {api_url}")
        serve_deployments(settings)


@app.command()
def demo(
    inbox: Path = typer.Option(Path("samples/inbox"), exists=True, file_okay=False),
    review_inbox: Path = typer.Option(Path("samples/review"), exists=True, file_okay=False),
) -> None:
    """Start the demo back office, process the sample inbox end to end (and claims that need
    a reviewer), and say where to look."""
    from rekey.review.cli import demo_message
    from samples.backoffice.server import running_backoffice

    settings = with_password(Settings())
    users = {settings.backoffice_user: settings.backoffice_password.get_secret_value()}
    with running_backoffice(backoffice_db(settings), users) as url:
        online = settings.model_copy(update={"backoffice_url": url})
        outcomes = run_folder(inbox, online) + run_folder(review_inbox, online)
    console.print(
        f"\n[bold]Where to look[/]\n"
        f"  cases:        {settings.cases_dir}  (rekey cases)\n"
        f"  quarantine:   {settings.quarantine_dir}\n"
        f"  back office:  run `rekey backoffice`, then open {settings.backoffice_url}/claims\n"
        f"                (user {settings.backoffice_user}, password in "
        f"{settings.data_path / 'backoffice' / 'password'})\n" + demo_message(settings)
    )
    keyed = sum(o.state == CaseState.done for o in outcomes)
    console.print(f"{keyed} of {len(outcomes)} documents keyed.")


register_review(app)
template_app = typer.Typer(no_args_is_help=True, help="Templates: how a form is read.")
app.add_typer(template_app, name="template")


@template_app.command("draft")
def template_draft(
    blank: Path = typer.Argument(..., help="A fillable blank form (PDF with form fields)."),
    doc_type: str = typer.Option(..., "--type", help="The document type the template reads."),
    out: Path | None = typer.Option(
        None, help="Where to write it (default: the templates folder, TYPE.yaml)."
    ),
    force: bool = typer.Option(False, help="Replace a template already there."),
) -> None:
    """Draft a template from a fillable blank: one field per form field, its zone from the
    field's rectangle, the blank as the reference scans are registered to. Then name the
    fields, give them types and check the keywords."""
    from rekey.templates_draft import write_draft

    target = out or Settings().templates_dir / f"{doc_type}.yaml"
    if target.exists() and not force:
        raise RekeyError(f"{target} exists: pass --force to replace it, or --out elsewhere")
    fields = write_draft(blank, doc_type, target)
    console.print(
        f"[green]drafted[/] {target}: {fields} fields from {blank.name}. Next: rename the "
        "fields, set their types (date, money, identifier…) and required, check the keywords."
    )


ledger_app = typer.Typer(
    no_args_is_help=True,
    help="rekey's ledger of keyed cases: submits the back office never confirmed.",
)
app.add_typer(ledger_app, name="ledger")


def ledger_of(settings: Settings) -> Ledger:
    from connectors.backoffice import Ledger
    from rekey.pipeline import store_for

    return Ledger(settings, store_for(settings))


@ledger_app.command("list")
def ledger_list() -> None:
    """Submits started and never confirmed or refused, oldest first: look each up in the
    back office, then `confirm` or `forget` it."""
    ledger = ledger_of(Settings())
    pending = ledger.store.pendings(ledger.backoffice)
    table = Table(title=f"unconfirmed submits into {ledger.backoffice}")
    for column in ("external reference", "type", "case", "screen", "submitted"):
        table.add_column(column, overflow="fold")
    for p in pending:
        when = p.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        table.add_row(p.external_reference, p.doc_type or "-", p.case_id or "-", p.screen, when)
    console.print(table if pending else "no unconfirmed submits")


@ledger_app.command("confirm")
def ledger_confirm(
    external_reference: str = typer.Argument(..., help="The case's external reference."),
    reference: str = typer.Argument(..., help="The record's reference in the back office."),
) -> None:
    """The record of an unconfirmed submit is in the back office: record it, so the case
    is never keyed again (audited)."""
    ledger = ledger_of(Settings())
    found = ledger.store.settle_pending(
        ledger.backoffice, external_reference, reference, actor=f"cli:{getuser()}"
    )
    console.print(
        f"[green]recorded[/] {escape(external_reference)} as {escape(reference)}; approve "
        f"case {found.case_id or '-'} again to finish it"
    )


@ledger_app.command("forget")
def ledger_forget(
    external_reference: str = typer.Argument(..., help="The case's external reference."),
) -> None:
    """An unconfirmed submit did not take effect (no record in the back office): the case
    may be keyed again (audited)."""
    ledger = ledger_of(Settings())
    found = ledger.store.settle_pending(
        ledger.backoffice, external_reference, None, actor=f"cli:{getuser()}"
    )
    console.print(
        f"[green]forgotten[/] the submit of {escape(external_reference)}; approve case "
        f"{found.case_id or '-'} again to key it"
    )


audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check that no audit event was edited, deleted or inserted; exit 1 naming the first
    broken event."""
    from rekey.audit import verify_store
    from rekey.pipeline import store_for

    count, broken = verify_store(store_for(Settings()))
    if broken is not None:
        console.print(f"[red]audit trail broken[/] at {broken}")
        raise typer.Exit(1)
    console.print(f"[green]audit trail intact[/]: {count} events")


def main() -> None:
    try:
        app()
    except RekeyError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
