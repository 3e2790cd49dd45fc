"""Rule sets: which rules apply to a document type, with parameters and severity (YAML)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import process

from rekey.config import load_folder
from rekey.errors import ConfigError
from rekey.models import Severity
from validators import basic  # noqa: F401  (registers the built-in rules)
from validators.registry import RULES


class RuleUse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    severity: Severity = "error"
    params: dict[str, Any] = Field(default_factory=dict)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: str
    rules: list[RuleUse]
    fatal: list[str] = Field(default_factory=list)  # rules whose error rejects the case


def check_rule_names(path: Path, ruleset: RuleSet) -> None:
    for index, use in enumerate(ruleset.rules):
        if use.rule not in RULES:
            nearest = process.extractOne(use.rule, list(RULES))
            hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
            raise ConfigError(
                f"unknown rule {use.rule!r}{hint}", file=path, key=f"rules.{index}.rule"
            )


@cache
def load_rulesets(folder: Path) -> dict[str, RuleSet]:
    """Rule sets keyed by document type."""
    loaded = load_folder(folder, RuleSet, key="doc_type")
    for ruleset in loaded.values():
        check_rule_names(folder / f"{ruleset.doc_type}.yaml", ruleset)
    return loaded
