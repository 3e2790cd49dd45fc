"""The business process as Prefect flows: ``process_folder`` calls ``process_document``
once per file; each document runs as three coarse tasks (intake, understand, key).

The stages themselves are plain functions in :mod:`rekey.pipeline`; this module only wires
them, adds retries to keying (for :class:`ApplicationError` only) and guarantees that every
document ends in a recorded state whatever goes wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.tasks import exponential_backoff

from connectors.inbox import list_documents
from rekey import pipeline
from rekey.errors import ApplicationError
from rekey.models import CaseState
from rekey.pipeline import Outcome
from rekey.settings import Settings

Listener = Callable[[Outcome], None]
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


def process_case(case, settings: Settings) -> Outcome:
    """Understand and key one case; whatever goes wrong, it ends recorded with a reason."""
    try:
        if pipeline.needs_understanding(case):
            case = understand_task(case, settings)
        if ready_to_key(case):
            case = keying(settings)(case, settings)
    except Exception as exc:  # nothing is lost: the case is parked as failed with why
        case = pipeline.mark_failed(case, settings, f"{type(exc).__name__}: {exc}")
    return _publish(Outcome.of(case))


@task(name="split batch")
def split_task(case, settings: Settings):
    return pipeline.split_batch(case, settings)


@flow(name="process_document", validate_parameters=False)
def process_document(path: Path, settings: Settings | None = None) -> list[Outcome]:
    """One file: a document, or a CSV/XLSX batch whose rows each become a case."""
    settings = settings or Settings()
    case, new = intake_task(path, settings)
    if not new:
        return [_publish(Outcome.of(case, note=f"{pipeline.DONE_ALREADY} ({case.state.value})"))]
    if not pipeline.is_batch(case):
        return [process_case(case, settings)]
    rows = split_task(case, settings)
    return [*(process_case(row, settings) for row in rows), _publish(Outcome.of(case))]


@flow(name="process_folder", validate_parameters=False)
def process_folder(folder: Path, settings: Settings | None = None) -> list[Outcome]:
    settings = settings or Settings()
    return [
        outcome
        for path in list_documents(folder, settings.ignore_patterns)
        for outcome in process_document(path, settings)
    ]
