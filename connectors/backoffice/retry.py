"""Retrying keying the way the flow does: ApplicationError only, bounded, with backoff.

The flow retries the keying task through Prefect (``keying_retries``,
``keying_retry_delay_s`` doubling); :func:`retrying` is the same policy as a plain function,
for batch scripts, tests and anything that keys without Prefect. BusinessRuleError and
ConfigError are never retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rekey.errors import ApplicationError
from rekey.models import Case, Receipt
from rekey.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


def retrying(
    fn: Callable[[], T],
    *,
    attempts: int,
    delay_s: float = 0.0,
    factor: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call *fn* until it returns, at most *attempts* times, retrying ApplicationError only;
    the wait before retry *n* is ``delay_s * factor ** (n - 1)``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ApplicationError as exc:
            if attempt == attempts:
                raise
            wait = delay_s * factor ** (attempt - 1)
            log.warning(
                "attempt %d of %d failed (%s); retrying in %.1fs", attempt, attempts, exc, wait
            )
            if wait > 0:
                sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def key_with_retries(
    office,
    case: Case,
    settings: Settings,
    *,
    evidence_dir: Path | None = None,
    attempts: int | None = None,
) -> Receipt:
    """``office.key_case(case)`` retried as the flow would (``keying_retries`` + 1 tries)."""
    return retrying(
        lambda: office.key_case(case, evidence_dir),
        attempts=attempts or settings.keying_retries + 1,
        delay_s=settings.keying_retry_delay_s,
    )
