"""``python -m samples.backoffice --port 8765 --db var/backoffice.db``.

The one user comes from REKEY_BACKOFFICE_USER (default ``clerk``) and
REKEY_BACKOFFICE_PASSWORD (required), the same variables rekey's settings read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from samples.backoffice.app import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.backoffice", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", type=Path, default=Path("var/backoffice.db"))
    args = parser.parse_args(argv)
    user = os.environ.get("REKEY_BACKOFFICE_USER", "clerk")
    password = os.environ.get("REKEY_BACKOFFICE_PASSWORD")
    if not password:
        print("set REKEY_BACKOFFICE_PASSWORD to the back-office password", file=sys.stderr)
        return 2
    serve(host=args.host, port=args.port, db_path=args.db, users={user: password})
    return 0


if __name__ == "__main__":
    sys.exit(main())
