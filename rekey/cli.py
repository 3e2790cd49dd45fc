"""The ``rekey`` command line (typer + rich).

Exit codes: 0 done; 1 some documents failed (the back office down, say: `rekey run` again
takes them up) or the audit trail is broken; 2 a configuration error, named by file and
key, found before any work (or another error rekey raises on purpose).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from getpass import getuser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from rekey.errors import RekeyError, StoreError
from rekey.models import CaseState
from rekey.report.command import report
from rekey.review.cli import register as register_review
from rekey.runtime import configure_prefect, private_data, with_password
from rekey.settings import Settings, unknown_names

if TYPE_CHECKING:
    from connectors.backoffice import Ledger
    from rekey.store import Pending

console = Console()
errors = Console(stderr=True)
CONFIG_EXIT, FAILED_EXIT = 2, 1


class RekeyGroup(TyperGroup):
    """Every command's RekeyError printed as one line (no traceback), exit 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RekeyError as exc:
            errors.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(CONFIG_EXIT) from exc


app = typer.Typer(
    cls=RekeyGroup,
    no_args_is_help=True,
    add_completion=False,
    help=__doc__,
    pretty_exceptions_show_locals=False,
)


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"rekey {version('rekey')}"
    except PackageNotFoundError:
        return "rekey (not installed: run from the source folder)"


def show_version(value: bool) -> None:
    if value:
        console.print(version_text())
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """rekey: documents read, checked and keyed into the back office."""
    data_dir = os.environ.get("REKEY_DATA_DIR")
    if data_dir and not Path(data_dir).is_absolute():  # resolved once, for every process
        os.environ["REKEY_DATA_DIR"] = str(Path(data_dir).resolve())
    for name, close in unknown_names():
        hint = f": did you mean {close}?" if close else " and is ignored"
        errors.print(f"[yellow]warning:[/] {name} is not a rekey setting{hint}")


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


def check_configuration(settings: Settings) -> None:
    """Load and validate the templates, rule sets and screen maps before any work:
    ConfigError naming the file and the key."""
    from connectors.backoffice.screenmap import load_screens
    from extractors.templates import load_templates
    from validators.rulesets import load_rulesets

    load_templates(settings.templates_dir)
    load_rulesets(settings.rules_dir)
    load_screens(settings.screens_dir)


class ReasonNotTraceback(logging.Filter):
    """A task that failed on purpose (a RekeyError: the back office down, say) logged as
    one line; its reason is in the outcome. Other exceptions keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], RekeyError):
            record.exc_info, record.exc_text = None, None
        return True


@contextmanager
def reasons_not_tracebacks() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("prefect.task_runs", "prefect.flow_runs")]
    one = ReasonNotTraceback()
    for logger in loggers:
        logger.addFilter(one)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(one)


def run_folder(folder: Path, settings: Settings) -> list:
    """Every document of ``folder`` (or the one file ``folder`` names) processed."""
    configure_prefect(settings)
    from connectors.inbox import list_documents
    from flows.process import process_document, process_folder, subscribe
    from rekey.prefect_env import quiet_flows

    one = folder.is_file()
    total = 1 if one else len(list_documents(folder, settings.ignore_patterns))
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
            with quiet_flows(), reasons_not_tracebacks():
                run = process_document if one else process_folder
                outcomes = run(folder, settings)
        finally:
            unsubscribe()
    console.print(outcome_table(outcomes))
    return outcomes


def checkpoint(settings: Settings) -> None:
    """A checkpoint of the audit trail after a run (rekey.audit)."""
    from rekey.audit import anchor_of
    from rekey.pipeline import store_for

    anchor_of(settings).checkpoint(store_for(settings))


def this_run(outcomes: list) -> str:
    """What this run did, not what the store holds: keyed now, done before, the rest."""
    from rekey.pipeline import DONE_ALREADY

    before = sum(o.note.startswith(DONE_ALREADY) for o in outcomes)
    now = [o for o in outcomes if not o.note.startswith(DONE_ALREADY)]
    keyed = sum(o.state == CaseState.done for o in now)
    parts = [f"{keyed} keyed now"]
    parts += [f"{before} done before (not processed again)"] if before else []
    for state in ("review", "rejected", "quarantined", "failed"):
        count = sum(o.state == state for o in now)
        parts += [f"{count} {state}"] if count else []
    return f"{len(outcomes)} documents: " + ", ".join(parts)


@app.command()
def run(
    folder: Path = typer.Argument(..., exists=True, help="A folder of documents, or one document."),
) -> None:
    """Process every document in FOLDER (or the one file given) once, then print a summary.
    Stops before any work when a template, rule set or screen map is wrong (exit 2);
    exits 1 when documents failed."""
    settings = Settings()
    check_configuration(settings)
    console.print(f"data folder: {settings.data_path}")
    outcomes = run_folder(folder, with_password(settings))
    console.print(this_run(outcomes))
    checkpoint(settings)
    failed = [o for o in outcomes if o.state == CaseState.failed]
    if failed:
        errors.print(
            f"[red]{len(failed)} documents failed[/] (see the note of each): fix the cause, "
            "then `rekey run` again takes them up"
        )
        raise typer.Exit(FAILED_EXIT)


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
    from connectors.inbox import shown_name
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
        # names are the dropper's: printed as plain text (no markup, no emoji codes), with
        # bytes that are not UTF-8 and control characters escaped
        where = went.name if went is not None else "processing (to retry)"
        states = ", ".join(f"{o.state} {o.reference or o.case_id or ''}".strip() for o in outcomes)
        line = f"{shown_name(name)} → {where}: {states or 'not processed'}"
        console.print(line, markup=False, emoji=False, highlight=False)

    def started() -> None:
        shown = shown_name(str(inbox.resolve()))
        console.print(f"watching {shown} (stop with Ctrl-C)", markup=False, emoji=False)

    with quiet_flows():
        watch_folder(inbox, settings, report, stop, started)


def existing_store(settings: Settings) -> Settings:
    """The settings, when their SQLite store exists; StoreError naming the folder otherwise
    (a command that only reads must not make an empty store somewhere)."""
    private_data(settings)
    if settings.database_url is None and not (settings.data_path / "rekey.db").is_file():
        raise StoreError(
            f"no case store in {settings.data_path} (no rekey.db there): set REKEY_DATA_DIR "
            "to the data folder rekey run used, or run `rekey run` first"
        )
    return settings


@app.command()
def cases(state: list[CaseState] = typer.Option(None, help="Only cases in these states.")) -> None:
    """List cases with their state and receipt."""
    settings = existing_store(Settings())
    from rekey.pipeline import store_for

    where = "REKEY_DATABASE_URL" if settings.database_url else settings.data_path / "rekey.db"
    table = Table(title=f"cases in {where}")
    for column in ("case", "file", "state", "type", "reference", "updated", "reason"):
        table.add_column(column, overflow="fold")
    for case in store_for(settings).list(state or None):
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
    as_json: bool = typer.Option(
        False, "--json", help="Print each field as a JSON line instead of a table."
    ),
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
        errors.print("[yellow]No template matches this document.[/] Try --template NAME.")
        raise typer.Exit(1)
    if as_json:
        for field in result.fields.values():
            line = {"template": result.template.name, "doc_type": result.template.doc_type}
            typer.echo(json.dumps(line | field.model_dump(mode="json"), ensure_ascii=False))
        return
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
    if out is None:
        private_data(settings)
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
    from rekey.webserver import bound_socket
    from samples.backoffice.app import serve
    from samples.backoffice.chaos import Chaos

    settings = with_password(Settings())
    port = port if port is not None else urlsplit(settings.backoffice_url).port or 8765
    sock = bound_socket("127.0.0.1", port, "--port or REKEY_BACKOFFICE_URL")

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
        fd=sock.fileno(),
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

    check_configuration(Settings())
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
    console.print(this_run(outcomes))


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

    return Ledger(settings, store_for(existing_store(settings)))


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


def settled(external_reference: str, reference: str | None) -> Pending:
    """Settle the unconfirmed submit of *external_reference* as this user (audited)."""
    ledger = ledger_of(Settings())
    return ledger.store.settle_pending(
        ledger.backoffice, external_reference, reference, actor=f"cli:{getuser()}"
    )


@ledger_app.command("confirm")
def ledger_confirm(
    external_reference: str = typer.Argument(..., help="The case's external reference."),
    reference: str = typer.Argument(..., help="The record's reference in the back office."),
) -> None:
    """The record of an unconfirmed submit is in the back office: record it, so the case
    is never keyed again (audited)."""
    found = settled(external_reference, reference)
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
    found = settled(external_reference, None)
    console.print(
        f"[green]forgotten[/] the submit of {escape(external_reference)}; approve case "
        f"{found.case_id or '-'} again to key it"
    )


audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check that no audit event was edited, deleted, inserted or cut off, that the trail
    holds its checkpoints, and that every case is as its last event recorded; exit 1
    naming what is broken. When intact, a new checkpoint is written."""
    from rekey.audit import Anchor, read_checkpoints, read_key, verify_store
    from rekey.store import Store

    settings = existing_store(Settings())
    key = read_key(settings)
    path = settings.audit_checkpoints_path
    checkpoints = read_checkpoints(path)
    store = Store(settings.db_url, key=key)
    verdict = verify_store(store, key, checkpoints)
    problems = [f"at {verdict.broken}"] if verdict.broken else []
    problems += [verdict.checkpoint] if verdict.checkpoint else []
    problems += verdict.cases
    if key is not None and not checkpoints and verdict.events:
        problems.append(f"no checkpoints in {path} though the audit key exists (deleted?)")
    for problem in problems:
        console.print(f"[red]audit trail broken[/]: {escape(problem)}")
    if problems:
        raise typer.Exit(FAILED_EXIT)
    console.print(
        f"[green]audit trail intact[/]: {verdict.events} events, "
        f"{verdict.checkpoints} checkpoints held"
    )
    if key is None:
        console.print(
            f"[yellow]not anchored:[/] no audit key ({settings.audit_key_path} or "
            "REKEY_AUDIT_KEY); the next rekey command that writes makes one"
        )
        return
    anchor = Anchor(key, path, settings.audit_checkpoint_every)
    mark = anchor.checkpoint(store)
    console.print(f"checkpoint written to {path}: event {mark.id}, {mark.count} events")


def main() -> None:
    try:
        app()
    except RekeyError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
