"""The business process as Prefect flows.

- ``process_document``: one file, as coarse tasks (intake, understand, key);
- ``process_folder``: every file of a folder read ``folder_workers`` documents at a time
  (one ``document`` task each), then keyed in ``keying_sessions`` signed-in browser
  sessions kept open for the batch, then a table artifact summarising it;
- ``key_approved``: keys the cases reviewers approved (and those whose keying failed).

The stages themselves are plain functions in :mod:`rekey.pipeline`; this module only wires
them, retries keying (for :class:`ApplicationError` only, with exponential backoff), caps
the back-office sessions open at once with a Prefect global concurrency limit, and
guarantees that every document ends in a recorded state whatever goes wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from connectors.backoffice.lanes import keeping_sessions
from connectors.inbox import list_documents
from flows.limits import ensure_session_limit, session_slot
from rekey import pipeline
from rekey.errors import ApplicationError, ConfigError, ReadingCrashed, StoreError
from rekey.models import CaseState
from rekey.pipeline import Outcome, store_for
from rekey.runtime import runtime_settings
from rekey.settings import Settings

Listener = Callable[[Outcome], None]
RETRIED = (ApplicationError, StoreError, ConfigError)  # not the document's doing
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with each document's outcome; returns the unsubscribe function."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def _publish(outcome: Outcome) -> Outcome:
    for listener in list(_listeners):
        listener(outcome)
    return outcome


def ready_to_key(case) -> bool:
    """Validated for automatic keying, approved by a reviewer, or failed or stopped while
    keying (keying is idempotent: the robot finds a record it saved before)."""
    auto = case.decision is not None and case.decision.route == "auto"
    return case.state is CaseState.approved or (
        auto and case.state in (CaseState.validated, CaseState.keying, CaseState.failed)
    )


def only_application_errors(task, task_run, state) -> bool:
    return isinstance(state.result(raise_on_failure=False), ApplicationError)


@task(name="intake")
def intake_task(path: Path, settings: Settings):
    return pipeline.intake(path, settings)


@task(name="understand")
def understand_task(case, settings: Settings):
    return pipeline.understand(case, settings)


@task(name="key", retry_condition_fn=only_application_errors)
def key_task(case, settings: Settings):
    return pipeline.key(case, settings)


def keying(settings: Settings):
    return key_task.with_options(
        retries=settings.keying_retries,
        retry_delay_seconds=exponential_backoff(settings.keying_retry_delay_s)(
            settings.keying_retries
        ),
    )


def read_case(case, settings: Settings):
    """Understand the case unless that was done before; ``False`` when it is not to be
    keyed. When the back office, the case store or a setting failed, the case is parked as
    failed (and retried); anything else is the document's doing (or a bug it sets off): the
    case is quarantined with the exception, since reading it again would raise it again."""
    try:
        if pipeline.needs_understanding(case):
            case = understand_task(case, settings)
    except RETRIED as exc:  # nothing is lost: the case is parked as failed with why
        return pipeline.mark_failed(case, settings, f"{type(exc).__name__}: {exc}"), False
    except Exception as exc:
        crashed = ReadingCrashed("understanding", case.document.original_name, exc)
        return pipeline.send_to_quarantine(case, str(crashed), settings), False
    return case, True


def finish_case(case, settings: Settings) -> Outcome:
    """Key a case that is ready for it, or end one a crash left keyed; whatever goes wrong,
    it ends recorded with a reason."""
    try:
        if ready_to_key(case):
            with session_slot(settings):
                case = keying(settings)(case, settings)
        elif case.state is CaseState.keyed:  # a crash came before its receipt was filed
            case = pipeline.file_receipt(case, settings)
    except Exception as exc:  # nothing is lost: the case is parked as failed with why
        case = pipeline.mark_failed(case, settings, f"{type(exc).__name__}: {exc}")
    return _publish(Outcome.of(case))


def process_case(case, settings: Settings) -> Outcome:
    """Understand and key one case; whatever goes wrong, it ends recorded with a reason."""
    case, read = read_case(case, settings)
    return finish_case(case, settings) if read else _publish(Outcome.of(case))


@task(name="split batch")
def split_task(case, settings: Settings):
    return pipeline.split_batch(case, settings)


def read_file(path: Path, settings: Settings) -> list:
    """One file taken in and read: for each of its cases (a CSV/XLSX batch: each row, then
    the batch itself) the case still to finish, or the outcome it has already reached."""
    case, new = intake_task(path, settings)
    if not new:
        return [Outcome.of(case, note=f"{pipeline.DONE_ALREADY} ({case.state.value})")]
    cases = split_task(case, settings) if pipeline.is_batch(case) else [case]
    read = [read_case(one, settings) for one in cases]
    items = [one if ok else Outcome.of(one) for one, ok in read]
    return [*items, Outcome.of(case)] if pipeline.is_batch(case) else items


def settle(item, settings: Settings) -> Outcome:
    """A read case keyed or ended; an outcome reached already, published."""
    return _publish(item) if isinstance(item, Outcome) else finish_case(item, settings)


def handle_document(path: Path, settings: Settings) -> list[Outcome]:
    """One file: a document, or a CSV/XLSX batch whose rows each become a case."""
    return [settle(item, settings) for item in read_file(path, settings)]


@task(name="document")
def document_task(path: Path, settings: Settings) -> list:
    return read_file(path, settings)


@flow(name="process_document", validate_parameters=False)
def process_document(path: Path, settings: Settings | None = None) -> list[Outcome]:
    """One file, on its own."""
    settings = settings or runtime_settings()
    ensure_session_limit(settings)
    return handle_document(path, settings)


@flow(name="process_folder", validate_parameters=False)
def process_folder(folder: Path, settings: Settings | None = None) -> list[Outcome]:
    """Every file in *folder* read ``folder_workers`` at a time, then keyed in the batch's
    kept sessions; publishes a batch summary.

    Keying waits for the reading: a case typed into the back office while another worker
    reads took 1.8 times as long here (2 cores), and holds a session meanwhile."""
    settings = settings or runtime_settings()
    ensure_session_limit(settings)
    paths = list_documents(folder, settings.ignore_patterns)
    runner = ThreadPoolTaskRunner(max_workers=max(1, settings.folder_workers))
    with runner:
        futures = runner.map(document_task, {"path": paths, "settings": unmapped(settings)})
        read = [item for future in futures for item in future.result()]
    with keeping_sessions(settings, settings.keying_sessions):
        outcomes = [settle(item, settings) for item in read]
    publish_summary(f"batch of {folder.name}", outcomes)
    return outcomes


@flow(name="key_approved", validate_parameters=False)
def key_approved(settings: Settings | None = None) -> list[Outcome]:
    """Key every approved case, and every case whose keying failed, oldest first; end the
    keyed cases a crash left without their receipt filed."""
    settings = settings or runtime_settings()
    ensure_session_limit(settings)
    waiting = store_for(settings).list([CaseState.approved, CaseState.failed, CaseState.keyed])
    with keeping_sessions(settings, 1):
        outcomes = [
            process_case(case, settings)
            for case in waiting
            if ready_to_key(case) or case.state is CaseState.keyed
        ]
    publish_summary("approved cases keyed", outcomes)
    return outcomes


def summary_line(outcomes: list[Outcome]) -> str:
    counts = Counter(o.state for o in outcomes)
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"


def publish_summary(title: str, outcomes: list[Outcome]) -> None:
    create_table_artifact(
        key="rekey-batch",
        table=[o.as_dict() for o in outcomes],
        description=f"**rekey: {title}**: {summary_line(outcomes)}",
    )
