"""Load on the review station: simulated reviewers browse the queue and open case pages
against a store of thousands of cases, on loopback only, for a bounded time.

The store holds one case read by the pipeline from a real claim PDF (it waits for review)
and clones of it with new ids, contents hashes and ages; the clones' page images are hard
links to the original's. The station runs in a process of its own; each reviewer signs in,
then repeatedly opens a queue page (sometimes filtered), one case from it and that case's
page image, pausing between steps like a person. Every response is checked: the status, the
queue's cases in the expected order, the case's id and values, the image's PNG bytes.

    .venv/bin/python -m benchmarks.review_load --reviewers 20 --seconds 60 --cases 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.figures import Context, figure
from rekey.models import Case, CaseState, utcnow
from rekey.settings import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TARGET_P95_MS = 500.0
THINK_S = (0.5, 1.5)  # a person's pause between two pages
PASSWORD = "load-test-password"  # loopback only, a throwaway store
START_TIMEOUT_S = 60


def build_store(settings: Settings, cases: int, folder: Path) -> Case:
    """A store of ``cases`` cases waiting for review; returns the one read from the PDF."""
    from rekey import pipeline
    from rekey.review.app import create_user
    from samples.corpus.claim_form import render_claim_pdf
    from samples.corpus.inbox import INBOX_TODAY
    from samples.corpus.values import claim_values

    values = claim_values(11, INBOX_TODAY)
    values.display["currency"] = "GBPX"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = render_claim_pdf(
        folder / "claim.pdf", values.display, values.ticks, values.expenses, values.expenses_total
    )
    original, _ = pipeline.intake(pdf, settings)
    original = pipeline.understand(original, settings)
    if original.state is not CaseState.review:
        raise RuntimeError(f"the seed case went to {original.state.value}, not review")
    store = pipeline.store_for(settings)
    pages = sorted(pipeline.case_dir(settings, original).glob("page-*.png"))
    now = utcnow()
    rng = random.Random(7)
    for i in range(1, cases):
        clone = original.model_copy(deep=True)
        clone.id = f"load{i:08d}"
        clone.document = clone.document.model_copy(update={"sha256": f"{i:064x}"})
        clone.created_at = now - timedelta(minutes=rng.randrange(0, 72 * 60))
        store.add(clone)
        target = pipeline.case_dir(settings, clone)
        target.mkdir(parents=True, exist_ok=True)
        for page in pages:
            os.link(page, target / page.name)
    for n in range(20):
        create_user(store, f"reviewer{n:02d}", PASSWORD, "reviewer")
    return original


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def check(self, ok: bool, what: str) -> None:
        if not ok and len(self.wrong) < 20:
            self.wrong.append(what)
        elif not ok:
            self.wrong.append("")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) >= 2 else values[0]


async def timed_get(client: httpx.AsyncClient, tally: Tally, kind: str, url: str, **kw):
    started = time.perf_counter()
    answer = await client.get(url, **kw)
    tally.add(kind, time.perf_counter() - started)
    return answer


async def reviewer(
    n: int,
    url: str,
    expected: dict[tuple, list[str]],
    values: dict[str, str],
    until: float,
    tally: Tally,
) -> None:
    rng = random.Random(n)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = CSRF.search((await client.get("/login")).text).group(1)
        signed = await client.post(
            "/login", data={"username": f"reviewer{n:02d}", "password": PASSWORD, "csrf": token}
        )
        tally.check(signed.status_code == 303, f"sign-in answered {signed.status_code}")
        views = list(expected)
        while time.monotonic() < until:
            view = rng.choice(views)
            rule, page = view
            params = {"page": page, **({"rule": rule} if rule else {})}
            queue = await timed_get(client, tally, "queue", "/", params=params)
            ids = expected[view]
            shown = [queue.text.find(f'data-case="{case_id}"') for case_id in ids]
            tally.check(
                queue.status_code == 200 and -1 not in shown and shown == sorted(shown),
                f"queue {params}: {queue.status_code}",
            )
            await asyncio.sleep(rng.uniform(*THINK_S))
            case_id = rng.choice(ids)
            case = await timed_get(client, tally, "case", f"/cases/{case_id}")
            tally.check(
                case.status_code == 200
                and f"Case {case_id}" in case.text
                and all(f'value="{v}"' in case.text for v in values.values()),
                f"case {case_id}: {case.status_code}",
            )
            image = await timed_get(client, tally, "page image", f"/cases/{case_id}/pages/1")
            tally.check(
                image.status_code == 200 and image.content.startswith(b"\x89PNG"),
                f"image {case_id}: {image.status_code}",
            )
            await asyncio.sleep(rng.uniform(*THINK_S))


def expected_views(settings: Settings, pages: int = 10) -> dict[tuple, list[str]]:
    """What each queue view reviewers open must list, in order, straight from the store."""
    from rekey.pipeline import store_for
    from rekey.review.queue import WAITING

    store = store_for(settings)
    views: dict[tuple, list[str]] = {}
    for rule in (None, "format"):
        for page in range(1, pages + 1):
            _, cases = store.page(
                WAITING,
                rule=rule,
                limit=settings.review_page_size,
                offset=(page - 1) * settings.review_page_size,
            )
            if cases:
                views[(rule, page)] = [c.id for c in cases]
    return views


def measure(work: Path, reviewers: int = 20, seconds: float = 60, cases: int = 5000) -> dict:
    settings = Settings(_env_file=None, data_dir=work / "var")  # type: ignore[call-arg]
    began = time.perf_counter()
    original = build_store(settings, cases, work / "docs")
    build_s = time.perf_counter() - began
    print(f"store of {cases} cases built in {build_s:.1f} s", file=sys.stderr)
    views = expected_views(settings)
    values = {k: f.value for k, f in original.fields.items() if k in ("currency", "email")}
    port = free_port()
    env = os.environ | {"REKEY_DATA_DIR": str(settings.data_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "rekey.cli", "review", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server)
        warm_up(url, views)
        tally = Tally()

        async def crowd() -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(
                *(reviewer(n, url, views, values, until, tally) for n in range(reviewers))
            )

        load_before = os.getloadavg()[0]
        asyncio.run(crowd())
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    every = [s for values_ in tally.latencies.values() for s in values_]
    return {
        "reviewers": reviewers,
        "seconds": seconds,
        "cases": cases,
        "requests": len(every),
        "wrong_responses": len(tally.wrong),
        "wrong_examples": [w for w in tally.wrong if w][:5],
        "p95_ms": round(p95(every) * 1000, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1),
        "p95_ms_by_page": {k: round(p95(v) * 1000, 1) for k, v in tally.latencies.items()},
        "p95_vs_target": round(p95(every) * 1000 / TARGET_P95_MS, 3),
        "target_p95_ms": TARGET_P95_MS,
        "think_s": list(THINK_S),
        "store_build_s": round(build_s, 1),
        "machine_load_1m": [round(load_before, 1), round(load_after, 1)],  # other work too
        "cores": os.cpu_count(),
    }


def warm_up(url: str, views: dict[tuple, list[str]]) -> None:
    """One untimed pass over each kind of page: templates compile, caches fill."""
    with httpx.Client(base_url=url, timeout=30) as client:
        token = CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"username": "reviewer00", "password": PASSWORD, "csrf": token})
        first = next(iter(views.values()))[0]
        for path in ("/", "/?rule=format", f"/cases/{first}", f"/cases/{first}/pages/1"):
            client.get(path).raise_for_status()


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the review station exited with {server.returncode}")
        try:
            if httpx.get(url + "/login", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # polling a port that is not open yet
    raise RuntimeError("the review station did not start")


@figure("review.load")
def review_load(ctx: Context) -> dict[str, Any]:
    """20 reviewers for 60 s against 5,000 cases; p95 response time and wrong responses."""
    return measure(ctx.work / "review-load")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.review_load", description=__doc__)
    p.add_argument("--reviewers", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--cases", type=int, default=5000)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="review-load-"))
    try:
        result = measure(work, args.reviewers, args.seconds, args.cases)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
