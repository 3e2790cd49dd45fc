"""``python -m samples.spa --port 8766 --db var/spa.db [--shuffle] [chaos flags]``.

Serves Ledgerline until interrupted and prints its URL (``--port 0`` picks a free port).
The one user comes from REKEY_SPA_USER (default ``clerk``) and REKEY_SPA_PASSWORD
(required). The chaos flags are ClaimBase 2000's (``python -m samples.backoffice --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from samples.backoffice.__main__ import add_chaos_arguments, chaos_from
from samples.spa.server import running_spa


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.spa", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--db", type=Path, default=Path("var/spa.db"))
    parser.add_argument("--idle-timeout", type=float, default=900)
    add_chaos_arguments(parser)  # --shuffle among them
    args = parser.parse_args(argv)
    user = os.environ.get("REKEY_SPA_USER", "clerk")
    password = os.environ.get("REKEY_SPA_PASSWORD")
    if not password:
        print("set REKEY_SPA_PASSWORD to the password Ledgerline should accept", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running_spa(
        args.db,
        {user: password},
        args.host,
        args.port,
        chaos=chaos_from(args),
        idle_timeout_s=args.idle_timeout,
    ) as url:
        print(f"Ledgerline at {url}/ (user {user}); Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
