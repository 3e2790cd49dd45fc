"""The rule registry. Contract: ``rule(case, params, context) -> list[Finding]``.

A rule is a small pure function registered under the name a rule set uses, together with the
pydantic model of its parameters (checked when the rule set is loaded)::

    class AmountParams(Params):
        field: str = "amount_claimed"

    @rule("amount_positive", AmountParams)
    def amount_positive(case: Case, params: AmountParams, ctx: RuleContext) -> list[Finding]:
        ...
        return [ctx.finding([params.field], "The amount claimed must be above zero.")]

A rule reports what it finds with ``ctx.finding``, which stamps the rule's name and the
severity the rule set gave it. A rule may lower a finding to a warning (``warning=True``)
when the evidence is weaker than an error, e.g. a legacy 15-digit resident ID.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from rekey.models import Case, Finding, Severity

if TYPE_CHECKING:
    from validators.duplicates import CaseHistory


class Params(BaseModel):
    """Base of every rule's parameters: unknown keys are errors, values are frozen.

    ``sources`` names the parameters whose value is the name of a reference source
    (``RuleSet.reference`` or ``RuleContext.reference``), checked at load.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: ClassVar[tuple[str, ...]] = ()


class NoParams(Params):
    pass


class FieldsParams(Params):
    fields: list[str]


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the case.

    ``today`` is the day of the check; ``reference`` maps source names (``policies``,
    ``watchlist``) to lookups; ``history`` finds earlier cases. ``rule`` and ``severity`` are
    set by the engine for the rule being run.
    """

    today: date = field(default_factory=date.today)
    severity: Severity = "error"
    rule: str = ""
    reference: Mapping[str, Any] = field(default_factory=dict)
    history: CaseHistory | None = None

    def finding(self, fields: list[str], message: str, *, warning: bool = False) -> Finding:
        severity: Severity = "warning" if warning else self.severity
        return Finding(rule=self.rule, severity=severity, fields=fields, message=message)

    def source(self, name: str) -> Any:
        return self.reference.get(name)


RuleFn = Callable[[Case, Any, RuleContext], list[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    fn: RuleFn
    params: type[Params]
    doc: str = ""

    def __call__(
        self, case: Case, params: Params | Mapping[str, Any], ctx: RuleContext
    ) -> list[Finding]:
        if not isinstance(params, Params):
            params = self.params.model_validate(dict(params))
        if not ctx.rule:
            ctx = replace(ctx, rule=self.name)
        return self.fn(case, params, ctx)


RULES: dict[str, Rule] = {}


def rule(name: str, params: type[Params] = NoParams) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as the rule ``name`` whose parameters are ``params``."""

    def register(fn: RuleFn) -> RuleFn:
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = Rule(name, fn, params, (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return register
