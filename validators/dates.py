"""Rules across date fields: the order of loss, signature and receipt; the applicant's age."""

from __future__ import annotations

from datetime import date

from rekey.models import Case, Finding
from validators.identifiers import ric_birth
from validators.registry import Params, RuleContext, rule
from validators.values import age_on, as_date, text

RECEIVED = "received"  # the case's own created date, when a rule names no field


def when(case: Case, name: str) -> date | None:
    """The date in field ``name``; ``received`` means the day the case was opened."""
    if name == RECEIVED:
        return case.created_at.date()
    return as_date(text(case, name))


class LossSignedParams(Params):
    loss: str = "date_of_loss"
    signed: str = "date_signed"


@rule("loss_after_signature", LossSignedParams)
def loss_after_signature(case: Case, params: LossSignedParams, ctx: RuleContext) -> list[Finding]:
    """A claim is signed on or after the day of the loss it claims for."""
    loss, signed = when(case, params.loss), when(case, params.signed)
    if loss is None or signed is None or loss <= signed:
        return []
    return [
        ctx.finding(
            [params.loss, params.signed],
            f"The form was signed on {signed:%d %b %Y}, before the loss it claims for "
            f"({loss:%d %b %Y}).",
        )
    ]


class SignedReceivedParams(Params):
    signed: str = "date_signed"
    received: str = RECEIVED  # a field name, or "received" for the case's created date


@rule("signed_after_received", SignedReceivedParams)
def signed_after_received(
    case: Case, params: SignedReceivedParams, ctx: RuleContext
) -> list[Finding]:
    """A form is signed on or before the day it reached us."""
    signed, received = when(case, params.signed), when(case, params.received)
    if signed is None or received is None or signed <= received:
        return []
    fields = [params.signed] + ([] if params.received == RECEIVED else [params.received])
    return [
        ctx.finding(
            fields,
            f"The form is dated {signed:%d %b %Y}, after it was received ({received:%d %b %Y}).",
        )
    ]


class AgeParams(Params):
    birth: str = "date_of_birth"
    on: str = "date_signed"  # the day the age counts on; today when the field is empty
    min_age: int = 18


@rule("under_18", AgeParams)
def under_18(case: Case, params: AgeParams, ctx: RuleContext) -> list[Finding]:
    """The applicant is at least ``min_age`` (18) on the day of signing."""
    born = as_date(text(case, params.birth))
    if born is None:
        return []
    day = when(case, params.on) or ctx.today
    age = age_on(born, day)
    if age >= params.min_age:
        return []
    return [
        ctx.finding(
            [params.birth],
            f"The applicant was {age} on {day:%d %b %Y} (born {born:%d %b %Y}); "
            f"the minimum age is {params.min_age}.",
        )
    ]


class IdBirthParams(Params):
    id_field: str = "id_number"
    birth: str = "date_of_birth"


@rule("ric_birth_date", IdBirthParams)
def ric_birth_date(case: Case, params: IdBirthParams, ctx: RuleContext) -> list[Finding]:
    """The birth date inside a Chinese resident ID equals the date-of-birth field."""
    number, born = text(case, params.id_field), as_date(text(case, params.birth))
    in_id = ric_birth(number) if number else None
    if in_id is None or born is None or in_id == born:
        return []
    return [
        ctx.finding(
            [params.id_field, params.birth],
            f"The resident ID carries the birth date {in_id:%d %b %Y}, but the form says "
            f"{born:%d %b %Y}.",
        )
    ]
