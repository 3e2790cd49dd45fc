"""The policy register on the back office's policy inquiry screen.

The rules look policies up through :class:`~validators.reference.PolicyRegister`; this one
reads them from the screen named under ``lookups: policies`` in ``backoffice.yaml``, in one
browser session opened on the first lookup and closed with the register. Each policy is
read once per register, however many rules ask for it.
"""

from __future__ import annotations

from connectors.backoffice.retry import retrying
from connectors.backoffice.session import BackOfficeSession
from rekey.errors import ApplicationError
from rekey.settings import Settings
from validators.reference import Policy, normalise_number, policy_from_row

LOOKUP = "policies"


class BackOfficePolicyRegister:
    """A :class:`~validators.reference.PolicyRegister`; a context manager."""

    def __init__(self, settings: Settings, lookup: str = LOOKUP):
        self.settings, self.name = settings, lookup
        self._session: BackOfficeSession | None = None
        self._seen: dict[str, Policy | None] = {}

    def __enter__(self) -> BackOfficePolicyRegister:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def lookup(self, policy_number: str) -> Policy | None:
        key = normalise_number(policy_number)
        if key not in self._seen:
            row = retrying(
                lambda: self._office().lookup(self.name, policy_number),
                attempts=self.settings.keying_retries + 1,
                delay_s=self.settings.keying_retry_delay_s,
            )
            self._seen[key] = None if row is None else self._policy(row)
        return self._seen[key]

    def _office(self) -> BackOfficeSession:
        if self._session is None:
            self._session = BackOfficeSession(self.settings).__enter__()
        return self._session

    def _policy(self, row: dict[str, str]) -> Policy:
        try:
            return policy_from_row(row)
        except ValueError as exc:
            raise ApplicationError(f"look up {self.name}: the screen shows {exc}") from exc
