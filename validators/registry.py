"""The rule registry. Contract: ``rule(case, params, context) -> list[Finding]``.

Adding a rule is one registered function plus one line in a rule set::

    @rule("amount_positive")
    def amount_positive(case, params, context): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rekey.models import Case, Finding

RuleFn = Callable[[Case, dict[str, Any], "RuleContext"], list[Finding]]
RULES: dict[str, RuleFn] = {}


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the case: today's date and reference data."""

    today: date = field(default_factory=date.today)
    severity: str = "error"


def rule(name: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = fn
        return fn

    return register
