"""Rule sets: which rules apply to a document type, with parameters and severity (YAML).

``samples/rules/<doc_type>.yaml``::

    doc_type: claim
    reference:                       # named sources, paths relative to this file
      policies: {kind: policies_csv, path: ../reference/policies.csv}
    fatal: [sanctions_exact]         # rules whose error rejects the case outright
    rules:
      - rule: required
        params: {fields: [policy_number, amount_claimed]}
      - rule: currency_matches_account
        severity: warning            # error (default) blocks automatic keying

Loading checks every rule name, every rule's parameters (the pydantic model registered with
the rule), every source a rule names and every fatal rule; a mistake is a
:class:`~rekey.errors.ConfigError` naming the file, the key (``rules.2.params.fields``) and,
for a misspelt name, the nearest valid one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from rapidfuzz import process

import validators.basic
import validators.crossdoc
import validators.dates
import validators.duplicates
import validators.identifiers
import validators.mrz
import validators.sanctions  # noqa: F401  (each module above registers its rules)
from rekey.config import read_yaml, validation_to_config_error
from rekey.errors import ConfigError
from rekey.models import Severity
from validators.reference import CsvPolicyRegister
from validators.registry import RULES, Params
from validators.sanctions import WatchList

SourceKind = Literal["policies_csv", "sdn_csv"]
OPENERS = {"policies_csv": CsvPolicyRegister.from_csv, "sdn_csv": WatchList.from_csv}


class RuleUse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    severity: Severity = "error"
    params: dict[str, Any] = Field(default_factory=dict)


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    path: Path  # relative to the rule set file


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: str
    rules: list[RuleUse]
    fatal: list[str] = Field(default_factory=list)  # rules whose error rejects the case
    reference: dict[str, SourceSpec] = Field(default_factory=dict)
    _checked: list[Params] = PrivateAttr(default_factory=list)
    _sources: dict[str, Any] = PrivateAttr(default_factory=dict)

    def uses(self) -> list[tuple[RuleUse, Params]]:
        """Each rule use with its checked parameters."""
        if len(self._checked) != len(self.rules):  # built in code, not loaded
            self._checked = [RULES[u.rule].params.model_validate(u.params) for u in self.rules]
        return list(zip(self.rules, self._checked, strict=True))

    @property
    def sources(self) -> dict[str, Any]:
        return dict(self._sources)


def nearest(name: str, choices: Iterable[str]) -> str:
    match = process.extractOne(name, list(choices))
    return f"; did you mean {match[0]!r}?" if match else ""


def check_rule(path: Path, index: int, use: RuleUse, reference: dict[str, SourceSpec]) -> Params:
    if use.rule not in RULES:
        raise ConfigError(
            f"unknown rule {use.rule!r}{nearest(use.rule, RULES)}",
            file=path,
            key=f"rules.{index}.rule",
        )
    model = RULES[use.rule].params
    try:
        params = model.model_validate(use.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        key = ".".join([f"rules.{index}.params", *loc])
        message = first["msg"]
        if first["type"] == "extra_forbidden" and loc:
            message = f"unknown parameter {loc[-1]!r} for rule {use.rule!r}" + (
                nearest(loc[-1], model.model_fields) if model.model_fields else "; it takes none"
            )
        elif first["type"] == "missing":
            message = f"rule {use.rule!r} needs the parameter {loc[-1]!r}"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(message + more, file=path, key=key) from exc
    for param in type(params).sources:
        name = getattr(params, param)
        if name is not None and name not in reference:
            known = f"; the rule set names {sorted(reference)}" if reference else ""
            raise ConfigError(
                f"no reference source {name!r} under 'reference'{known}{nearest(name, reference)}",
                file=path,
                key=f"rules.{index}.params.{param}",
            )
    return params


def open_sources(path: Path, reference: dict[str, SourceSpec]) -> dict[str, Any]:
    sources = {}
    for name, spec in reference.items():
        where = (path.parent / spec.path).resolve()
        if not where.is_file():
            raise ConfigError(
                f"no such file {str(spec.path)!r}", file=path, key=f"reference.{name}.path"
            )
        sources[name] = OPENERS[spec.kind](where)
    return sources


def load_ruleset(path: Path, doc_type: str | None = None) -> RuleSet:
    """One rule set file, checked through (see the module docstring)."""
    data = read_yaml(path)
    if doc_type is not None:
        data = {"doc_type": doc_type, **data}
    try:
        ruleset = RuleSet.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(path, exc) from exc
    ruleset._checked = [
        check_rule(path, index, use, ruleset.reference) for index, use in enumerate(ruleset.rules)
    ]
    used = {use.rule for use in ruleset.rules}
    for index, name in enumerate(ruleset.fatal):
        if name not in used:
            raise ConfigError(
                f"fatal rule {name!r} is not one of this rule set's rules{nearest(name, used)}",
                file=path,
                key=f"fatal.{index}",
            )
    ruleset._sources = open_sources(path, ruleset.reference)
    return ruleset


@cache
def load_rulesets(folder: Path) -> dict[str, RuleSet]:
    """Rule sets keyed by document type, one ``*.yaml`` file each (the stem by default)."""
    if not folder.is_dir():
        raise ConfigError("the folder does not exist", file=folder)
    loaded: dict[str, RuleSet] = {}
    for path in sorted(folder.glob("*.yaml")):
        ruleset = load_ruleset(path, path.stem)
        loaded[ruleset.doc_type] = ruleset
    return loaded
