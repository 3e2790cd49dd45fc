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

A submit whose outcome was never seen (the back office answered HTTP 500 after the click,
the ``done`` signal never showed, the worker died) leaves a *pending* line, written just
before the click (:meth:`Ledger.submitting`, table ``pending_submits``, migration ``0004``).
The next attempt at the case finds it and asks the route's ``search`` whether the record
exists: found, the ledger records it; not found, the submit did not take effect and the
case is keyed. A route with no search cannot tell, so the case goes to review with
:class:`SubmitUnconfirmed`, naming the external reference to look for. The reviewer looks
in the back office and settles it with ``rekey ledger confirm EXTERNAL_REF REFERENCE`` (it
is there) or ``rekey ledger forget EXTERNAL_REF`` (it is not), then approves the case again.
Validation messages after a submit mean nothing was saved: the pending line is removed.

What it does not guarantee: records keyed by hand, by another robot, or by a rekey with
another store are unknown to it.
"""

from __future__ import annotations

from rekey.audit import anchor_of, anchored_store
from rekey.errors import BusinessRuleError
from rekey.settings import Settings
from rekey.store import Keyed, Pending, Store


class SubmitUnconfirmed(BusinessRuleError):
    """A submit of this case was started and never confirmed, and the route has no search to
    tell whether it took effect: a person must look before it is keyed again."""

    def __init__(self, pending: Pending):
        self.pending = pending
        when = pending.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        ref = pending.external_reference
        super().__init__(
            f"a submit of external reference {ref} on {pending.screen} ({when}) was never "
            f"confirmed by {pending.backoffice}, and its route has no search: look for {ref} "
            f"there; if the record exists run `rekey ledger confirm {ref} REFERENCE`, if not "
            f"`rekey ledger forget {ref}`; then approve the case again"
        )


class Ledger:
    """The keying ledger of one back office (``settings.backoffice_url``)."""

    def __init__(self, settings: Settings, store: Store | None = None):
        self.store = store or anchored_store(settings.db_url, anchor_of(settings))
        self.backoffice = settings.backoffice_url.rstrip("/")

    def find(self, external_reference: str) -> Keyed | None:
        return self.store.keyed(self.backoffice, external_reference)

    def pending(self, external_reference: str) -> Pending | None:
        return self.store.pending(self.backoffice, external_reference)

    def submitting(
        self, external_reference: str, *, screen: str, doc_type: str | None, case_id: str | None
    ) -> None:
        """Just before the submit that creates the record: it may take effect unseen."""
        self.store.record_pending(
            self.backoffice, external_reference, screen=screen, doc_type=doc_type, case_id=case_id
        )

    def not_saved(self, external_reference: str) -> None:
        """The submit was refused (validation messages) or proved not to have taken effect."""
        self.store.clear_pending(self.backoffice, external_reference)

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
