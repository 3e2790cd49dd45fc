"""``python -m samples.backoffice --port 8765 --db var/backoffice.db [chaos flags]``.

The one user comes from REKEY_BACKOFFICE_USER (default ``clerk``) and
REKEY_BACKOFFICE_PASSWORD (required), the same variables rekey's settings read.
``--fd N`` serves on an already listening socket handed down by the parent process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from samples.backoffice.app import DEFAULT_POLICIES, serve
from samples.backoffice.chaos import Chaos


def add_chaos_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--slow-share", type=float, default=0.0)
    parser.add_argument("--slow-ms", type=int, default=0)
    parser.add_argument("--chaos-500", type=float, default=0.0)
    parser.add_argument("--session-ttl", type=float, default=None)
    parser.add_argument("--session-ttl-requests", type=int, default=None)
    parser.add_argument("--shuffle", action="store_true")
    parser.add_argument("--commit-then-500", type=float, default=0.0)


def chaos_from(args: argparse.Namespace) -> Chaos:
    return Chaos(
        seed=args.seed,
        latency_ms=args.latency_ms,
        slow_share=args.slow_share,
        slow_ms=args.slow_ms,
        error_rate=args.chaos_500,
        session_ttl_s=args.session_ttl,
        session_ttl_requests=args.session_ttl_requests,
        shuffle=args.shuffle,
        commit_then_500=args.commit_then_500,
    )


def chaos_arguments(chaos: Chaos) -> list[str]:
    """The command-line flags that give *chaos* (the inverse of :func:`chaos_from`)."""
    args = [
        f"--seed={chaos.seed}",
        f"--latency-ms={chaos.latency_ms}",
        f"--slow-share={chaos.slow_share}",
        f"--slow-ms={chaos.slow_ms}",
        f"--chaos-500={chaos.error_rate}",
        f"--commit-then-500={chaos.commit_then_500}",
    ]
    if chaos.session_ttl_s is not None:
        args.append(f"--session-ttl={chaos.session_ttl_s}")
    if chaos.session_ttl_requests is not None:
        args.append(f"--session-ttl-requests={chaos.session_ttl_requests}")
    if chaos.shuffle:
        args.append("--shuffle")
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.backoffice", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fd", type=int, default=None)
    parser.add_argument("--db", type=Path, default=Path("var/backoffice.db"))
    parser.add_argument("--idle-timeout", type=float, default=900)
    parser.add_argument("--policies", type=Path, default=DEFAULT_POLICIES)
    add_chaos_arguments(parser)
    args = parser.parse_args(argv)
    user = os.environ.get("REKEY_BACKOFFICE_USER", "clerk")
    password = os.environ.get("REKEY_BACKOFFICE_PASSWORD")
    if not password:
        print("set REKEY_BACKOFFICE_PASSWORD to the back-office password", file=sys.stderr)
        return 2
    serve(
        host=args.host,
        port=args.port,
        db_path=args.db,
        users={user: password},
        idle_timeout_s=args.idle_timeout,
        chaos=chaos_from(args),
        policies_csv=args.policies,
        fd=args.fd,
        log_level="warning" if args.fd is not None else "info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
