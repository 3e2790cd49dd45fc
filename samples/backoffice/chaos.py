"""Chaos knobs: the ways a real legacy back office misbehaves, switched on on purpose.

::

    create_app(db, users, chaos=Chaos(seed=7, error_rate=0.2, session_ttl_s=30, shuffle=True,
                                      commit_then_500=0.1, latency_ms=50))

Every random choice comes from one ``random.Random(seed)``, so a run against a robot that
makes the same requests in the same order sees the same failures.

- ``latency_ms``: added to every response (``asyncio.sleep`` in the middleware).
- ``slow_share`` / ``slow_ms``: that share of pages is slower still by ``slow_ms``.
- ``error_rate``: that share of requests answers HTTP 500 without doing anything.
- ``session_ttl_s``: a signed-in session is dropped this many seconds after sign-in.
- ``session_ttl_requests``: a signed-in session is dropped after this many signed-in
  requests (ClaimBase only): expiry that does not depend on how fast the robot or the
  machine is, for tests.
- ``shuffle``: the rows of every entry form come in a new order on each page load.
- ``commit_then_500``: that share of saves commits the record, then answers HTTP 500.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Chaos:
    seed: int = 0
    latency_ms: int = 0
    slow_share: float = 0.0
    slow_ms: int = 0
    error_rate: float = 0.0
    session_ttl_s: float | None = None
    session_ttl_requests: int | None = None
    shuffle: bool = False
    commit_then_500: float = 0.0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in ("slow_share", "error_rate", "commit_then_500"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.session_ttl_s is not None and self.session_ttl_s <= 0:
            raise ValueError("session_ttl_s must be positive")
        if self.session_ttl_requests is not None and self.session_ttl_requests <= 0:
            raise ValueError("session_ttl_requests must be positive")
        self._rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or (self.slow_share and self.slow_ms)
            or self.error_rate
            or self.session_ttl_s
            or self.session_ttl_requests
            or self.shuffle
            or self.commit_then_500
        )

    def _chance(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def delay_s(self) -> float:
        """How long this response is held back."""
        slow = self.slow_ms if self._chance(self.slow_share) else 0
        return (self.latency_ms + slow) / 1000

    def fail_request(self) -> bool:
        return self._chance(self.error_rate)

    def fail_after_commit(self) -> bool:
        return self._chance(self.commit_then_500)

    def order(self, items: tuple[T, ...] | list[T]) -> list[T]:
        """The items, shuffled if ``shuffle`` is on."""
        items = list(items)
        if self.shuffle:
            with self._lock:
                self._rng.shuffle(items)
        return items
