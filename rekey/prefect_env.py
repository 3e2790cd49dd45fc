"""Prefect settings rekey applies around its flow runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings


@contextmanager
def quiet_flows() -> Iterator[None]:
    """Flow runs without the heartbeat thread (it holds each sync flow ~1 s at exit)."""
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
