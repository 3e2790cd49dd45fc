"""rekey's own ledger of keyed cases: what stops a case being keyed twice where the back
office offers no search by external reference.

A route says ``ledger: true`` in ``backoffice.yaml`` (required when it has no ``search``).
Before keying a case, :meth:`Ledger.find` asks the ledger for the case's external reference
in this back office (``backoffice_url``); if it is there, the case is not keyed again and
the reference written then is returned. After a *confirmed* submit (the screen showed the
``done`` signal and the new reference, with no validation messages), :meth:`Ledger.record`
writes the line: back office, external reference, reference, document type, case id, and
whether the values were verified (read back from a record screen, or from the inputs just
before the submit). The ledger is the ``keyed_cases`` table of rekey's store
(:mod:`rekey.store`, SQLAlchemy, created by the alembic migration ``0003``), so every worker
using the same ``database_url`` shares it, and a re-run of a case keys nothing.

What it guarantees: a case whose submit was confirmed is never keyed again by a rekey that
uses the same store, whatever happens afterwards (a crash, a retry, a re-run, another
worker), as long as the ledger line was written.

What it does not guarantee:

- a crash (or the store failing) *between the submit and the ledger write* leaves a record
  in the back office and no ledger line: the next attempt keys the case again;
- a submit whose outcome was never confirmed (the back office answered HTTP 500 after
  committing, or the ``done`` signal never showed) writes no line either: a retry keys it
  again. Where the back office can be searched, give the route a ``search`` as well: it is
  asked after the ledger, and finds such records (and the ledger then records them);
- records keyed by hand, by another robot, or by a rekey with another store are unknown to
  it.
"""

from __future__ import annotations

from rekey.settings import Settings
from rekey.store import Keyed, Store


class Ledger:
    """The keying ledger of one back office (``settings.backoffice_url``)."""

    def __init__(self, settings: Settings, store: Store | None = None):
        self.store = store or Store(settings.db_url)
        self.backoffice = settings.backoffice_url.rstrip("/")

    def find(self, external_reference: str) -> Keyed | None:
        return self.store.keyed(self.backoffice, external_reference)

    def record(
        self,
        external_reference: str,
        reference: str,
        *,
        doc_type: str | None,
        case_id: str | None,
        verified: bool,
    ) -> Keyed:
        return self.store.record_keyed(
            self.backoffice,
            external_reference,
            reference,
            doc_type=doc_type,
            case_id=case_id,
            verified=verified,
        )
