"""The rule sets against the corpus's ground truth: every planted error caught, few false alarms.

Cases are built straight from the truth files (values as strings, confidence 1.0): this
measures the rules, not the extraction. Run by hand for the numbers::

    .venv/bin/python -m tests.test_rules_corpus samples/corpus/small [more folders...]
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from rekey.models import Case, Document, Field
from rekey.settings import PROJECT_ROOT
from validators.duplicates import InMemoryCaseHistory
from validators.engine import run_rules
from validators.reference import CsvPolicyRegister
from validators.registry import RuleContext
from validators.rulesets import load_rulesets

RULES_DIR = PROJECT_ROOT / "samples" / "rules"
SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"
MAX_FALSE_ALARMS = 0.01


def as_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def truth_case(name: str, doc_type: str, values: dict[str, Any], received: date) -> Case:
    scalars = {
        k: v for k, v in values.items() if not k.startswith("_") and not isinstance(v, list | dict)
    }
    return Case(
        document=Document(
            original_name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), size=1
        ),
        doc_type=doc_type,
        created_at=datetime(received.year, received.month, received.day, tzinfo=UTC),
        fields={
            k: Field(name=k, value=as_value(v), confidence=1.0, threshold=0.8)
            for k, v in scalars.items()
        },
    )


def corpus_cases(folder: Path, today: date) -> Iterator[tuple[Case, str | None]]:
    """(case, planted error) for every document, and every row of every batch."""
    for path in sorted(folder.glob("*.truth.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".truth.json")
        if truth["doc_type"] == "account_opening_batch":
            for i, row in enumerate(truth["fields"]["rows"]):
                case = truth_case(f"{name}#{i}", "account_opening_batch", row, today)
                yield case, row.get("_planted_error")
        else:
            yield (
                truth_case(name, truth["doc_type"], truth["fields"], today),
                truth["planted_error"],
            )


@dataclass
class Score:
    planted: int = 0
    caught: int = 0
    clean: int = 0
    false_alarms: int = 0
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.clean if self.clean else 0.0

    def __str__(self) -> str:
        return (
            f"recall {self.caught}/{self.planted} = {self.recall:.1%}; "
            f"false alarms {self.false_alarms}/{self.clean} = {self.false_alarm_rate:.1%}"
        )


def score_corpus(folder: Path) -> Score:
    manifest = json.loads((folder / "manifest.json").read_text())
    today = date.fromisoformat(manifest["today"])
    rulesets = load_rulesets(RULES_DIR)
    history = InMemoryCaseHistory()
    context = RuleContext(
        today=today,
        reference={"policies": CsvPolicyRegister.from_csv(folder / manifest["policies"])},
        history=history,
    )
    score = Score()
    for case, planted in corpus_cases(folder, today):
        findings = run_rules(case, rulesets[case.doc_type], context)
        history.add(case)
        errors = {f.rule for f in findings if f.severity == "error"}
        label = f"{case.document.original_name} ({case.doc_type})"
        if planted:
            score.planted += 1
            if planted in errors:
                score.caught += 1
            else:
                score.missed.append(f"{label}: {planted} not caught; found {sorted(errors)}")
        else:
            score.clean += 1
            if errors:
                score.false_alarms += 1
                score.alarms.extend(
                    f"{label}: {f.rule}: {f.message}" for f in findings if f.severity == "error"
                )
    return score


def assert_good(score: Score) -> None:
    assert score.recall == 1.0, score.missed
    assert score.false_alarm_rate <= MAX_FALSE_ALARMS, score.alarms


def test_the_small_corpus_is_caught_without_false_alarms() -> None:
    score = score_corpus(SMALL)
    assert score.planted >= 4
    assert_good(score)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.corpus.generate import generate

    return generate(tmp_path_factory.mktemp("corpus"), 40, 20261101, 0.3, workers=1)


def test_a_fresh_corpus_is_caught_without_false_alarms(generated: Path) -> None:
    score = score_corpus(generated)
    assert score.planted >= 8
    assert_good(score)


if __name__ == "__main__":
    for arg in sys.argv[1:] or [str(SMALL)]:
        result = score_corpus(Path(arg))
        print(f"{arg}: {result}")
        for line in result.missed + result.alarms:
            print("  ", line)
