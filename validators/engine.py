"""Run a rule set over a case, and decide: key it, send it to review, or reject it.

A case is keyed automatically only when no finding is an error and every required field was
read confidently, and no value the form prints twice reads otherwise in its second place
(the ``confidence`` and ``printed_again`` rules always run, listed or not, and for a
document type with no rule set of its own). An error from a rule
the rule set lists as ``fatal`` rejects the case outright.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from rekey.models import Case, Decision, Finding
from validators.registry import RULES, Params, RuleContext
from validators.rulesets import RuleSet, RuleUse

log = logging.getLogger(__name__)
ALWAYS = (
    "confidence",
    "printed_again",
    "several_ticked",
)  # run whether the rule set lists them or not


def run_rules(case: Case, ruleset: RuleSet, context: RuleContext) -> list[Finding]:
    """Every finding of ``ruleset`` on ``case``.

    ``context.reference`` adds sources to the rule set's, or replaces those of the same name.
    """
    sources = {**ruleset.sources, **context.reference}
    uses: list[tuple[RuleUse | str, Params]] = list(ruleset.uses())
    listed = {use.rule for use, _ in ruleset.uses()}
    uses += [(name, RULES[name].params()) for name in ALWAYS if name not in listed]
    findings: list[Finding] = []
    for use, params in uses:
        name, severity = (use, "error") if isinstance(use, str) else (use.rule, use.severity)
        ctx = replace(context, rule=name, severity=severity, reference=sources)
        try:
            findings.extend(RULES[name](case, params, ctx))
        except Exception as exc:  # a rule's bug must not lose the case: a person looks
            log.exception("rule %s failed on case %s", name, case.id)
            findings.append(
                ctx.finding(
                    [], f"The rule {name!r} could not run ({type(exc).__name__}); check by hand."
                )
            )
    return drop_repeats(findings)


def drop_repeats(findings: list[Finding]) -> list[Finding]:
    """A field already reported missing needs no second finding saying it was not found."""
    missing = {name for f in findings if f.rule == "required" for name in f.fields}
    return [
        f for f in findings if not (f.rule == ALWAYS[0] and f.fields and set(f.fields) <= missing)
    ]


def decide(findings: list[Finding], ruleset: RuleSet | None) -> Decision:
    errors = [f for f in findings if f.severity == "error"]
    fatal = [f for f in errors if ruleset and f.rule in ruleset.fatal]
    if fatal:
        return Decision(route="reject", reasons=[f.message for f in fatal])
    if errors:
        return Decision(route="review", reasons=[f.message for f in errors])
    return Decision(route="auto")
