"""Reference data: the policy register, behind a small Protocol.

Production looks policies up on the back office's policy inquiry screen
(:class:`connectors.backoffice.policies.BackOfficePolicyRegister`, chosen by the setting
``REKEY_POLICY_REGISTER=backoffice``); tests and the demo read a CSV in the corpus's
``policies.csv`` layout (policy_number, holder, status, coverage, currency). Rules find the
register by name in ``RuleContext.reference`` (param ``policies``, default ``policies``); a
rule set names its sources under ``reference:``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import Field as PydField
from rapidfuzz import fuzz

from rekey.errors import ConfigError
from rekey.models import Case, Finding
from validators.registry import Params, RuleContext, rule
from validators.values import as_amount, fold_name, text

ACTIVE = "active"


@dataclass(frozen=True)
class Policy:
    policy_number: str
    holder: str
    status: str
    coverage: Decimal
    currency: str


@runtime_checkable
class PolicyRegister(Protocol):
    def lookup(self, policy_number: str) -> Policy | None: ...


class CsvPolicyRegister:
    """Policies from a CSV file with the header policy_number,holder,status,coverage,currency."""

    COLUMNS = ("policy_number", "holder", "status", "coverage", "currency")

    def __init__(self, policies: dict[str, Policy]):
        self.policies = policies

    @classmethod
    def from_csv(cls, path: Path) -> CsvPolicyRegister:
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            raise ConfigError(
                f"cannot read the policy register ({exc.strerror})", file=path
            ) from exc
        policies = {}
        for line, row in enumerate(rows, start=2):
            try:
                policy = policy_from_row(row)
            except ValueError as exc:
                raise ConfigError(str(exc), file=path, key=f"line {line}") from exc
            policies[normalise_number(policy.policy_number)] = policy
        return cls(policies)

    def lookup(self, policy_number: str) -> Policy | None:
        return self.policies.get(normalise_number(policy_number))


def policy_from_row(row: dict[str, str]) -> Policy:
    """A policy from one register row (CSV line or screen row); ValueError says what is wrong.

    Coverage may carry thousands separators (``25,000.00``), as screens show it."""
    cells = {c: (row.get(c) or "").strip() for c in CsvPolicyRegister.COLUMNS}
    missing = [c for c, v in cells.items() if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    coverage = as_amount(cells["coverage"].replace(",", ""))
    if coverage is None:
        raise ValueError(f"coverage {cells['coverage']!r} is not an amount")
    return Policy(
        policy_number=cells["policy_number"],
        holder=cells["holder"],
        status=cells["status"].casefold(),
        coverage=coverage,
        currency=cells["currency"].upper(),
    )


def normalise_number(policy_number: str) -> str:
    return "".join(policy_number.split()).upper()


class PolicyParams(Params):
    sources = ("policies",)
    policies: str = "policies"
    field: str = "policy_number"


def policy_of(
    case: Case, params: PolicyParams, ctx: RuleContext
) -> tuple[str | None, Policy | None]:
    number = text(case, params.field)
    register = ctx.source(params.policies)
    if number is None or register is None:
        return number, None
    return number, register.lookup(number)


def no_register(params: PolicyParams, ctx: RuleContext) -> list[Finding]:
    return [
        ctx.finding(
            [params.field],
            f"No policy register named {params.policies!r} is configured; the policy cannot be "
            "checked.",
        )
    ]


@rule("policy_not_found", PolicyParams)
def policy_not_found(case: Case, params: PolicyParams, ctx: RuleContext) -> list[Finding]:
    """The policy number is on the register."""
    if ctx.source(params.policies) is None:
        return no_register(params, ctx)
    number, policy = policy_of(case, params, ctx)
    if number is None or policy is not None:
        return []
    return [ctx.finding([params.field], f"Policy {number} is not on the policy register.")]


@rule("policy_active", PolicyParams)
def policy_active(case: Case, params: PolicyParams, ctx: RuleContext) -> list[Finding]:
    """The policy is active (not lapsed or cancelled)."""
    number, policy = policy_of(case, params, ctx)
    if policy is None or policy.status == ACTIVE:
        return []
    return [ctx.finding([params.field], f"Policy {number} is {policy.status}, not active.")]


class HolderParams(PolicyParams):
    name_field: str = "claimant_name"
    min_score: float = 85.0


def name_match(a: str, b: str) -> float:
    """0-100: names compared without accents, case, punctuation or word order."""
    return fuzz.token_sort_ratio(fold_name(a), fold_name(b))


@rule("claimant_matches_holder", HolderParams)
def claimant_matches_holder(case: Case, params: HolderParams, ctx: RuleContext) -> list[Finding]:
    """The claimant is the policyholder (fuzzy match, score at least ``min_score``)."""
    _, policy = policy_of(case, params, ctx)
    name = text(case, params.name_field)
    if policy is None or name is None:
        return []
    score = name_match(name, policy.holder)
    if score >= params.min_score:
        return []
    return [
        ctx.finding(
            [params.name_field, params.field],
            f"The claimant {name!r} does not match the policyholder {policy.holder!r} "
            f"(score {score:.0f} of 100, {params.min_score:.0f} needed).",
        )
    ]


class CoverageParams(PolicyParams):
    amount: str = "amount_claimed"
    currency: str = "currency"


@rule("over_coverage", CoverageParams)
def over_coverage(case: Case, params: CoverageParams, ctx: RuleContext) -> list[Finding]:
    """The amount claimed is within the policy's coverage, in the policy's currency."""
    _, policy = policy_of(case, params, ctx)
    amount = as_amount(text(case, params.amount))
    if policy is None or amount is None:
        return []
    currency = (text(case, params.currency) or policy.currency).upper()
    if currency != policy.currency:
        return [
            ctx.finding(
                [params.currency, params.field],
                f"The claim is in {currency} but policy {policy.policy_number} covers "
                f"{policy.currency}; the limit cannot be compared.",
            )
        ]
    if amount <= policy.coverage:
        return []
    return [
        ctx.finding(
            [params.amount, params.field],
            f"The amount claimed ({amount:,.2f} {currency}) is above the coverage of policy "
            f"{policy.policy_number} ({policy.coverage:,.2f} {policy.currency}).",
        )
    ]


class VouchParams(HolderParams):
    """A policy register that may vouch for a policy number and a claimant's name read just
    below their threshold (``policies``: its name; none: nothing vouches)."""

    policies: str | None = None  # type: ignore[assignment]
    min_score: float = PydField(95.0, gt=0, le=100)  # stricter than the holder rule's
    at_least: float = PydField(0.95, gt=0, le=1)  # the number's own confidence, at the least


def vouched_by_register(case: Case, params: VouchParams, ctx: RuleContext) -> dict[str, str]:
    """The fields the register vouches for as read, and why. The number must be on it,
    active, and read with ``at_least`` confidence; it is vouched for when the claimant's
    name was read with confidence and matches the holder's, and the name is when it spells
    the holder's name exactly. A slip in reading the number would have to land on another
    policy of the same person; a slip in reading the name, on the holder's exact name."""
    number, name = case.fields.get(params.field), case.fields.get(params.name_field)
    if params.policies is None or number is None or name is None or name.value is None:
        return {}
    if number.confidence < params.at_least:
        return {}
    _, policy = policy_of(case, params, ctx)
    if policy is None or policy.status != ACTIVE:
        return {}
    exact = " ".join(name.value.split()).casefold() == " ".join(policy.holder.split()).casefold()
    matches = exact or (
        name.confident and name_match(name.value, policy.holder) >= params.min_score
    )
    if not matches:
        return {}
    vouched = {
        params.field: f"policy {policy.policy_number} is on the register, held by the claimant"
    }
    if exact:
        vouched[params.name_field] = f"the name is the holder's of policy {policy.policy_number}"
    return vouched
