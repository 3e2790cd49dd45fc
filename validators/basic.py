"""Basic rules: required fields, types and formats, ranges, ticks and read confidence."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field as PydField

from rekey.models import Case, Finding
from validators.reference import VouchParams, vouched_by_register
from validators.registry import FieldsParams, NoParams, Params, RuleContext, rule
from validators.values import as_amount, as_bool, as_date, label, text


class RequiredParams(Params):
    fields: list[str] = PydField(default_factory=list)
    any_of: list[list[str]] = PydField(default_factory=list)  # at least one of each group
    only_one_of: list[list[str]] = PydField(default_factory=list)  # at most one of each group


@rule("required", RequiredParams)
def required(case: Case, params: RequiredParams, ctx: RuleContext) -> list[Finding]:
    """Each listed field has a value; each ``any_of`` group has at least one; each
    ``only_one_of`` group has at most one."""
    found = [
        ctx.finding([name], f"The {label(name)} is missing.")
        for name in params.fields
        if text(case, name) is None
    ]
    for group in params.any_of:
        if all(text(case, name) is None for name in group):
            names = " or ".join(label(name) for name in group)
            found.append(ctx.finding(list(group), f"Neither the {names} is given; one is needed."))
    for group in params.only_one_of:
        given = [name for name in group if text(case, name) is not None]
        if len(given) > 1:
            names = " and the ".join(label(name) for name in given)
            found.append(
                ctx.finding(given, f"Both the {names} are given; the form takes only one.")
            )
    return found


Kind = Literal["date", "amount", "email", "boolean", "currency", "digits"]
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
DIGITS = re.compile(r"^\d+$")
KIND_NAMES = {
    "date": "a date (YYYY-MM-DD)",
    "amount": "an amount",
    "email": "an email address",
    "boolean": "a tick (yes or no)",
    "currency": "a currency code such as EUR",
    "digits": "a number",
}


def well_formed(value: str, kind: Kind) -> bool:
    if kind == "date":
        return as_date(value) is not None
    if kind == "amount":
        return as_amount(value) is not None
    if kind == "boolean":
        return as_bool(value) is not None
    pattern = {"email": EMAIL, "currency": CURRENCY, "digits": DIGITS}[kind]
    return pattern.match(value) is not None


class FormatParams(Params):
    fields: dict[str, Kind]


@rule("format", FormatParams)
def format_(case: Case, params: FormatParams, ctx: RuleContext) -> list[Finding]:
    """Each present field reads as its kind: date, amount, email, boolean, currency, digits."""
    found = []
    for name, kind in params.fields.items():
        value = text(case, name)
        if value is not None and not well_formed(value, kind):
            found.append(
                ctx.finding([name], f"The {label(name)} {value!r} is not {KIND_NAMES[kind]}.")
            )
    return found


class NotFutureParams(FieldsParams):
    earliest: date | None = date(1900, 1, 1)


@rule("not_future", NotFutureParams)
def not_future(case: Case, params: NotFutureParams, ctx: RuleContext) -> list[Finding]:
    """Dates are not after today and not before ``earliest`` (``format`` checks they are dates)."""
    found = []
    for name in params.fields:
        value = text(case, name)
        if value is None:
            continue
        day = as_date(value)
        if day is None:  # the format rule reports what is not a date
            continue
        if day > ctx.today:
            found.append(
                ctx.finding([name], f"The {label(name)} ({day:%d %b %Y}) is in the future.")
            )
        elif params.earliest and day < params.earliest:
            found.append(
                ctx.finding(
                    [name],
                    f"The {label(name)} ({day:%d %b %Y}) is before "
                    f"{params.earliest:%d %b %Y}; it is probably misread.",
                )
            )
    return found


class AmountRangeParams(FieldsParams):
    above: Decimal = Decimal(0)
    at_most: Decimal | None = None


@rule("amount_range", AmountRangeParams)
def amount_range(case: Case, params: AmountRangeParams, ctx: RuleContext) -> list[Finding]:
    """Amounts are above ``above`` (default zero) and at most ``at_most``."""
    found = []
    for name in params.fields:
        value = text(case, name)
        if value is None:
            continue
        amount = as_amount(value)
        if amount is None:  # the format rule reports what is not an amount
            continue
        if amount <= params.above:
            found.append(
                ctx.finding(
                    [name], f"The {label(name)} must be above {params.above} (it is {amount})."
                )
            )
        elif params.at_most is not None and amount > params.at_most:
            found.append(
                ctx.finding(
                    [name],
                    f"The {label(name)} ({amount}) is above the limit of {params.at_most}; "
                    "a senior handler must confirm it.",
                )
            )
    return found


class SignatureParams(Params):
    field: str = "signature"


@rule("signature_missing", SignatureParams)
def signature_missing(case: Case, params: SignatureParams, ctx: RuleContext) -> list[Finding]:
    """The form is signed: the signature tick is true.

    A template that never reads the signature (the field is absent from the case, not merely
    empty) cannot be judged here; that case reports nothing.
    """
    if params.field not in case.fields:
        return []
    value = text(case, params.field)
    signed = as_bool(value)
    if signed is True:
        return []
    if signed is None and value is not None:
        message = f"Cannot tell whether the form is signed (read {value!r}); check the page."
    else:
        message = "The form is not signed."
    return [ctx.finding([params.field], message)]


@rule("confidence", VouchParams)
def confidence(case: Case, params: VouchParams, ctx: RuleContext) -> list[Finding]:
    """A field read below its threshold goes to a reviewer: a required one whether or not
    it was found, any other one when a value was read (keying an unsure value is how a
    wrong one reaches the back office; leaving an optional field empty is not, unless
    something is written where it belongs that was not read). A policy number or a name
    the register vouches for (``policies``) is a warning, which the case keeps, not a stop."""
    found = []
    vouched = vouched_by_register(case, params, ctx)
    for name, field in case.fields.items():
        blank = not field.required and field.value is None and field.unread_ink is None
        if field.confident or blank:
            continue
        if field.several_ticked:  # said by several_ticked, better than "not found"
            continue
        if field.value is None and field.unread_ink is not None:
            message = (
                f"Something is written where the {label(name)} belongs on page "
                f"{field.unread_ink}, but it could not be read."
            )
        elif field.value is None:
            message = f"The {label(name)} was not found on the page."
        else:
            message = (
                f"The {label(name)} was read with {field.confidence:.0%} confidence, "
                f"below the {field.threshold:.0%} needed."
            )
        if name in vouched and field.value is not None:
            found.append(ctx.finding([name], f"{message[:-1]}; {vouched[name]}.", warning=True))
            continue
        found.append(ctx.finding([name], message))
    return found


def page_of(page: int | None) -> str:
    return f" on page {page}" if page else ""


@rule("printed_again", NoParams)
def printed_again(case: Case, params: NoParams, ctx: RuleContext) -> list[Finding]:
    """A value the form prints twice (the amount claimed and the total of the expenses) that
    reads otherwise in its second place: a person decides which is right."""
    found = []
    for name, field in case.fields.items():
        again = field.printed_again
        if again is None or field.value is None or again.value == field.value:
            continue
        message = (
            f"The {label(name)} reads {field.value!r}{page_of(field.page)} but "
            f"{again.value!r} where the form prints it again{page_of(again.page)}; "
            "check which is right."
        )
        found.append(ctx.finding([name], message))
    return found


@rule("several_ticked", NoParams)
def several_ticked(case: Case, params: NoParams, ctx: RuleContext) -> list[Finding]:
    """A one-of choice (the W-9's tax classification) with several options ticked: rekey
    does not guess which is meant."""
    return [
        ctx.finding(
            [name],
            f"The {label(name)} has several boxes ticked ({', '.join(field.several_ticked)}); "
            "only one may be. Check the page or ask the sender.",
        )
        for name, field in case.fields.items()
        if field.several_ticked
    ]
