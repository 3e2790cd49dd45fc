"""What a reviewer does to a case, each recorded as an audit event with the value before
and after: correct a field (the rules run again at once), approve (a second person too above
the four-eyes amount), reject with a reason; an approved case is then keyed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rekey import pipeline
from rekey.errors import ApplicationError, BusinessRuleError
from rekey.models import Case, CaseState, Decision
from rekey.settings import Settings
from rekey.store import Store

CORRECTED, APPROVAL, REJECTED = "review:corrected", "review:approval", "review:rejected"
REVIEWER_CONFIDENCE = 1.0


class NotAllowed(BusinessRuleError):
    """The action is refused for this case or this person; the message says why."""


def waiting(case: Case) -> None:
    if case.state is not CaseState.review:
        raise NotAllowed(f"the case is {case.state.value}, not waiting for review")


def correct(store: Store, settings: Settings, case: Case, name: str, value: str, user: str) -> Case:
    """Set field ``name`` to ``value`` as read by ``user``, run the rules again, save."""
    waiting(case)
    field = case.fields.get(name)
    if field is None:
        raise NotAllowed(f"the case has no field {name!r}")
    value = value.strip()
    before = field.value
    case.fields[name] = field.model_copy(
        update={
            "value": value or None,
            "confidence": REVIEWER_CONFIDENCE if value else 0.0,
            "how": f"corrected by {user}",
            "printed_again": None,  # a person has decided which printing is right
            "several_ticked": [],
        }
    )
    case.findings, case.decision = pipeline.check(case, settings)
    case.reason = "; ".join(case.decision.reasons) or None
    return store.save(
        case,
        action=CORRECTED,
        actor=user,
        field=name,
        before=before,
        after=value or None,
        findings=len(case.findings),
    )


def blocking(case: Case) -> list[str]:
    """The error findings that still stand in the way of approval."""
    return [f.message for f in case.findings if f.severity == "error"]


def amount_of(case: Case, settings: Settings) -> Decimal | None:
    for name in settings.review_amount_fields:
        field = case.fields.get(name)
        if field and field.value:
            try:
                return Decimal(field.value.replace(",", ""))
            except InvalidOperation:
                continue
    return None


def approvals_needed(case: Case, settings: Settings) -> int:
    amount = amount_of(case, settings)
    limit = Decimal(str(settings.review_four_eyes_amount))
    return 2 if amount is not None and amount > limit else 1


def approvers(store: Store, case: Case) -> list[str]:
    """Who approved the case as it stands: a correction after an approval voids it."""
    names: list[str] = []
    for event in store.events(case.id):
        if event.action == CORRECTED:
            names = []
        elif event.action == APPROVAL and event.actor not in names:
            names.append(event.actor)
    return names


@dataclass(frozen=True)
class Approval:
    case: Case
    approvers: list[str]
    needed: int

    @property
    def complete(self) -> bool:
        return len(self.approvers) >= self.needed


def approve(store: Store, settings: Settings, case: Case, user: str) -> Approval:
    """Record ``user``'s approval; with enough of them the case is approved for keying."""
    waiting(case)
    if blocking(case):
        raise NotAllowed("correct the fields the findings name, or reject the case")
    names = approvers(store, case)
    if user in names:
        raise NotAllowed("you approved this case already; a second person must approve it")
    needed = approvals_needed(case, settings)
    names = [*names, user]
    store.save(case, action=APPROVAL, actor=user, approval=len(names), needed=needed)
    if len(names) < needed:
        return Approval(case, names, needed)
    case.decision = Decision(route="auto", reasons=[f"approved by {', '.join(names)}"])
    case.reason = None
    case = store.transition(case, CaseState.approved, actor=user, approvers=names)
    return Approval(case, names, needed)


def reject(store: Store, case: Case, reason: str, user: str) -> Case:
    waiting(case)
    reason = reason.strip()
    if not reason:
        raise NotAllowed("say why the case is rejected")
    before = case.reason
    case.reason = reason
    case.decision = Decision(route="reject", reasons=[reason])
    store.save(case, action=REJECTED, actor=user, before=before, after=reason)
    return store.transition(case, CaseState.rejected, actor=user, reason=reason)


def key_now(case: Case, settings: Settings) -> Case:
    """Key an approved case at once (retrying as the flow does); parked as failed with the
    reason when the back office stays down, for the next ``key_approved`` run."""
    from connectors.backoffice import retrying

    try:
        return retrying(
            lambda: pipeline.key(case, settings),
            attempts=settings.keying_retries + 1,
            delay_s=settings.keying_retry_delay_s,
        )
    except ApplicationError as exc:
        return pipeline.mark_failed(case, settings, f"{type(exc).__name__}: {exc}")
