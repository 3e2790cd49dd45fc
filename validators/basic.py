"""Basic checks: required fields, dates not in the future, amounts above zero, confidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rekey.models import Case, Finding
from validators.registry import RuleContext, rule


def _finding(ctx: RuleContext, name: str, fields: list[str], message: str) -> Finding:
    return Finding(rule=name, severity=ctx.severity, fields=fields, message=message)


def _label(name: str) -> str:
    return name.replace("_", " ")


@rule("required")
def required(case: Case, params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return [
        _finding(ctx, "required", [name], f"The {_label(name)} is missing.")
        for name in params["fields"]
        if not (case.fields.get(name) and case.fields[name].value)
    ]


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@rule("not_future")
def not_future(case: Case, params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    found = []
    for name in params["fields"]:
        field = case.fields.get(name)
        if field is None or not field.value:
            continue
        day = _iso_date(field.value)
        if day is None:
            found.append(
                _finding(
                    ctx, "not_future", [name], f"The {_label(name)} {field.value!r} is not a date."
                )
            )
        elif day > ctx.today:
            found.append(
                _finding(
                    ctx,
                    "not_future",
                    [name],
                    f"The {_label(name)} ({day:%d %b %Y}) is in the future.",
                )
            )
    return found


@rule("positive")
def positive(case: Case, params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    found = []
    for name in params["fields"]:
        field = case.fields.get(name)
        if field is None or not field.value:
            continue
        try:
            amount = Decimal(field.value)
        except InvalidOperation:
            found.append(
                _finding(
                    ctx, "positive", [name], f"The {_label(name)} {field.value!r} is not an amount."
                )
            )
            continue
        if amount <= 0:
            found.append(
                _finding(
                    ctx,
                    "positive",
                    [name],
                    f"The {_label(name)} must be above zero (it is {amount}).",
                )
            )
    return found


@rule("confidence")
def confidence(case: Case, params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """A required field read below its threshold goes to a reviewer."""
    return [
        _finding(
            ctx,
            "confidence",
            [name],
            f"The {_label(name)} was read with "
            f"{field.confidence:.0%} confidence, below the {field.threshold:.0%} needed.",
        )
        for name, field in case.fields.items()
        if field.required and field.value and not field.confident
    ]
