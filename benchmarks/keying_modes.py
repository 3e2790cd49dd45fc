"""Seconds per claim keyed into the demo back office: rekey's ``trusted`` and ``fast`` input
methods against a minimal hand-written Playwright script on the same screens.

    .venv/bin/python -m benchmarks.keying_modes [--cases 20] [--no-trace]

Each side signs in once (outside the timing) and keys the same claims (from the corpus
truth files, expense lines included), interleaved case by case; every case gets a fresh
external reference, so each one creates a record. rekey's times include what the robot does
besides typing: the search, read-back verification, screenshots and (unless ``--no-trace``)
the Playwright trace it keeps ready for a failure.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.keying_script import ScriptKeyer
from rekey.models import Case, Document, Field
from rekey.settings import PROJECT_ROOT, Settings
from samples.backoffice.server import running_backoffice

TRUTHS = PROJECT_ROOT / "samples" / "corpus" / "small"


def claim_values(count: int) -> list[dict[str, str]]:
    claims = []
    for path in sorted(TRUTHS.glob("*.truth.json")):
        truth = json.loads(path.read_text())
        if truth["doc_type"] == "claim" and truth["fields"].get("currency") != "CNY":
            fields = truth["fields"]
            values = {k: v for k, v in fields.items() if isinstance(v, str)}
            values["expenses"] = json.dumps(fields.get("expenses") or [])
            claims.append(values)
    return [claims[i % len(claims)] for i in range(count)]


def new_case(values: dict[str, str]) -> Case:
    return Case(
        document=Document(original_name="bench.pdf", sha256=secrets.token_hex(32), size=0),
        doc_type="claim",
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in values.items()},
    )


class Side:
    """One keyer in a thread of its own (Playwright's sync API: one driver per thread)."""

    def __init__(self, opener: Callable[[], Any], work: Path):
        self.work = work
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.keyer = self.pool.submit(lambda: opener().__enter__()).result()

    def key(self, values: dict[str, str]) -> float:
        """Seconds to key one case."""

        def run() -> float:
            case = new_case(values)
            start = time.perf_counter()
            if isinstance(self.keyer, ScriptKeyer):
                self.keyer.key(values | {"external_reference": case.external_reference})
            else:
                self.keyer.key_case(case, self.work / "evidence")
            return time.perf_counter() - start

        return self.pool.submit(run).result()

    def close(self) -> None:
        self.pool.submit(lambda: self.keyer.__exit__(None, None, None)).result()
        self.pool.shutdown()


def measure(cases: int = 20, trace: bool = True) -> dict[str, float]:
    """Median seconds per case for trusted, fast and the hand-written script."""
    from connectors.backoffice import BackOfficeSession

    values = claim_values(cases)
    with tempfile.TemporaryDirectory() as tmp:
        work, password = Path(tmp), secrets.token_urlsafe(16)
        with running_backoffice(work / "backoffice.db", {"clerk": password}) as url:

            def settings(mode: str) -> Settings:
                return Settings(
                    _env_file=None,  # type: ignore[call-arg]
                    data_dir=work / mode,
                    backoffice_url=url,
                    backoffice_password=SecretStr(password),
                    keying_mode=mode,
                    keying_trace=trace,
                )

            sides = {
                "trusted": Side(lambda: BackOfficeSession(settings("trusted")), work),
                "fast": Side(lambda: BackOfficeSession(settings("fast")), work),
                "script": Side(
                    lambda: ScriptKeyer(url, "clerk", password, settings("trusted").chromium_path),
                    work,
                ),
            }
            times: dict[str, list[float]] = {name: [] for name in sides}
            try:
                for i, case in enumerate(values):
                    order = list(sides.items())
                    for name, side in order[i % 3 :] + order[: i % 3]:
                        times[name].append(side.key(case))
            finally:
                for side in sides.values():
                    side.close()
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    result = measure(args.cases, trace=not args.no_trace)
    for name, seconds in result.items():
        print(f"{name:8s} {seconds * 1000:8.1f} ms per case")
    print(f"trusted / script = {result['trusted'] / result['script']:.2f}  (target <= 1.3)")
    print(f"trusted / fast   = {result['trusted'] / result['fast']:.2f}  (target >= 5)")


if __name__ == "__main__":
    main()
