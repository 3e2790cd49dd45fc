"""``python -m benchmarks``: run the figures, write results/latest.{json,md} and dated copies.

python -m benchmarks                       # everything: n=200, seed=7, repeat=5, and a
                                           # held-out corpus of a new seed each run
python -m benchmarks --only speed          # a subset, by path, prefix or last part
python -m benchmarks --readme              # only rewrite README's Benchmarks section
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rekey.runtime import configure_prefect
from rekey.settings import PROJECT_ROOT, Settings

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
BENCH_DATA = PROJECT_ROOT / "var" / "bench"
CORPUS_ROOT = PROJECT_ROOT / "var" / "corpus"
REALWORLD = PROJECT_ROOT.parent / "shared" / "realworld"
log = logging.getLogger("benchmarks")
HOLDOUT_FIGURES = ("holdout", "holdout_stp", "calibration")  # figures using the held-out corpus


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=200, help="corpus size (default 200)")
    p.add_argument("--seed", type=int, default=7, help="development corpus seed (default 7)")
    p.add_argument(
        "--holdout-seed",
        type=int,
        help="held-out corpus seed, never tuned on (default: a new one each run, printed)",
    )
    p.add_argument("--repeat", type=int, default=5, help="timing repeats (default 5)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    p.add_argument("--only", nargs="+", metavar="FIGURE", help="run only these figures")
    p.add_argument("--corpus-root", type=Path, default=CORPUS_ROOT, help="where corpora live")
    p.add_argument("--data", type=Path, default=BENCH_DATA, help="scratch data parent folder")
    p.add_argument("--cases", type=int, default=5, help="keying cases per repeat (default 5)")
    p.add_argument("--flow-docs", type=int, default=10, help="documents for orchestration")
    p.add_argument("--workers", type=int, default=2, help="accuracy pass pool size")
    p.add_argument(
        "--realworld",
        type=Path,
        default=REALWORLD,
        help="real documents nobody here made (default ../shared/realworld)",
    )
    p.add_argument("--realworld-pages", type=int, help="FUNSD pages to read (default all)")
    p.add_argument("--keep", action="store_true", help="keep the scratch data folder")
    p.add_argument("--readme", action="store_true", help="only rewrite README from latest.md")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    logging.getLogger("benchmarks").setLevel(logging.INFO)
    if args.readme:
        from benchmarks.report import update_readme

        update_readme(PROJECT_ROOT / "README.md", args.out / "latest.md")
        print(f"README.md: Benchmarks section rewritten from {args.out / 'latest.md'}")
        return 0

    args.data.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.data)).resolve()
    settings = Settings(data_dir=work / "var")
    if "prefect" not in sys.modules:  # run from the command line: this run's own Prefect home
        os.environ["PREFECT_HOME"] = str(settings.prefect_home)
    configure_prefect(settings)  # before anything imports Prefect
    try:
        return run(args, settings, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, settings: Settings, work: Path) -> int:
    from benchmarks import (  # noqa: F401  (register)
        accuracy,
        keying,
        orchestration,
        realworld,
        review_load,
        rival,
        spa_keying,
        speed,
    )
    from benchmarks.accuracy import holdout_context, new_seed
    from benchmarks.corpus import corpus_today, ensure, load_documents
    from benchmarks.figures import Context, run_figure, selected
    from benchmarks.machine import machine, versions
    from benchmarks.report import fill_gaps, problems, write_results

    figures = selected(args.only)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    log.info("corpus n=%d seed=%d ...", args.n, args.seed)
    folder = ensure(args.n, args.seed, args.corpus_root)
    holdout_seed = args.holdout_seed if args.holdout_seed is not None else new_seed(args.seed)
    print(f"held-out corpus seed: {holdout_seed}", flush=True)
    ctx = Context(
        settings=settings,
        corpus=folder,
        documents=load_documents(folder),
        today=corpus_today(folder),
        out=args.out,
        work=work,
        repeat=args.repeat,
        cases=args.cases,
        flow_docs=args.flow_docs,
        workers=args.workers,
        realworld=args.realworld if args.realworld.is_dir() else None,
        realworld_pages=args.realworld_pages,
        seed=args.seed,
    )
    if any(f.path in HOLDOUT_FIGURES for f in figures):
        ctx.holdout = holdout_context(ctx, args.n, holdout_seed)
    result: dict = {
        "machine": machine(),
        "versions": versions(settings),
        "run": {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "n": args.n,
            "seed": args.seed,
            "holdout_seed": holdout_seed,
            "repeat": args.repeat,
            "corpus": str(folder),
            "today": ctx.today.isoformat(),
            "only": args.only,
        },
        "accuracy": None,
        "rules": {},
        "speed": {},
        "memory": {},
    }
    for fig in figures:
        began = time.perf_counter()
        run_figure(fig, ctx, result)
        result["run"].setdefault("figure_seconds", {})[fig.path] = round(
            time.perf_counter() - began, 1
        )
    result["missing"] = ctx.missing
    result.update(ctx.extra)
    fill_gaps(result, "not run (--only)" if args.only else "not measured")
    result["run"]["wall_s"] = round(time.perf_counter() - clock, 1)
    stamp = started.strftime("%Y-%m-%dT%H%MZ")
    for path in write_results(result, args.out, stamp):
        print(path)
    for problem in problems(result, len(ctx.documents)):
        print(f"warning: {problem}", file=sys.stderr)
    print(f"bench: {result['run']['wall_s']} s, {len(result['missing'])} figures missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
