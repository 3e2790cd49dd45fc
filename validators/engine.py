"""Run a rule set over a case, and decide: key it, send it to review, or reject it."""

from __future__ import annotations

from rekey.models import Case, Decision, Finding
from validators.registry import RULES, RuleContext
from validators.rulesets import RuleSet


def run_rules(case: Case, ruleset: RuleSet, context: RuleContext) -> list[Finding]:
    findings: list[Finding] = []
    for use in ruleset.rules:
        ctx = RuleContext(today=context.today, severity=use.severity)
        findings.extend(RULES[use.rule](case, use.params, ctx))
    return findings


def decide(findings: list[Finding], ruleset: RuleSet | None) -> Decision:
    errors = [f for f in findings if f.severity == "error"]
    fatal = [f for f in errors if ruleset and f.rule in ruleset.fatal]
    if fatal:
        return Decision(route="reject", reasons=[f.message for f in fatal])
    if errors:
        return Decision(route="review", reasons=[f.message for f in errors])
    return Decision(route="auto")
