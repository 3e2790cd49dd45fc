"""Earlier cases from the case store, for the duplicate rules (``validators.duplicates``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from rekey.models import CaseState
from rekey.store import Store
from validators.duplicates import InMemoryCaseHistory, PriorCase

ON_FILE = [s for s in CaseState if s is not CaseState.quarantined]


class StoreCaseHistory:
    """Finds earlier cases with the same keys among the cases on file."""

    def __init__(self, store: Store):
        self.store = store

    def find(
        self,
        keys: Mapping[str, str],
        *,
        doc_types: Collection[str] = (),
        exclude: str | None = None,
    ) -> list[PriorCase]:
        on_file = self.store.list(ON_FILE, doc_types=doc_types or None)
        return InMemoryCaseHistory(on_file).find(keys, doc_types=doc_types, exclude=exclude)
