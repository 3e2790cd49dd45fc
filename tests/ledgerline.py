"""Ledgerline (samples/spa) running for a test, on a free 127.0.0.1 port, and what it
saved, read straight from its SQLite database."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Route

from rekey.settings import PROJECT_ROOT, Settings
from samples.backoffice.chaos import Chaos
from samples.spa.server import running_spa

SCREENS = PROJECT_ROOT / "samples" / "screens_ledgerline"


@dataclass(frozen=True)
class Ledgerline:
    url: str
    user: str
    password: str
    db_path: Path
    chaos: Chaos | None = None

    def settings_for(self, folder: Path, **overrides: object) -> Settings:
        """rekey's settings for keying into this Ledgerline, data under *folder*, ignoring
        any REKEY_* environment and .env."""
        values: dict[str, object] = {
            "data_dir": folder / "var",
            "screens_dir": SCREENS,
            "backoffice_url": self.url,
            "backoffice_user": self.user,
            "backoffice_password": self.password,
        }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    def saved(self, ext_ref: str | None = None) -> list[dict[str, Any]]:
        """Every record (or those with this external reference), oldest first: its
        reference, screen, ``values`` and ``lines``."""
        where, args = ("WHERE external_ref = ?", (ext_ref,)) if ext_ref is not None else ("", ())
        con = sqlite3.connect(self.db_path)
        try:
            con.row_factory = sqlite3.Row
            rows = con.execute(
                f"SELECT reference, screen, payload FROM records {where} ORDER BY id", args
            ).fetchall()
        finally:
            con.close()
        return [
            {"reference": r["reference"], "screen": r["screen"], **json.loads(r["payload"])}
            for r in rows
        ]

    def records(self, ext_ref: str | None = None) -> list[dict[str, Any]]:
        """The saved records' values, each with its reference."""
        return [{"reference": r["reference"], **r["values"]} for r in self.saved(ext_ref)]


class AppClock:
    """Ledgerline's clock (``running_ledgerline(..., clock=clock)``), moved by the test: at
    once (:meth:`advance`), or when a page it watches next sends a given API request
    (:meth:`advance_on`; the request is held until the clock has moved, so the app handles
    it at the new time). Sessions expire by it (``Chaos(session_ttl_s=...)``)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._armed: tuple[str, str, float] | None = None

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def advance_on(self, method: str, path: str, seconds: float) -> None:
        """Move the clock *seconds* on as the next ``method path`` request leaves a watched
        page (once)."""
        self._armed = (method, path, seconds)

    @property
    def armed(self) -> bool:
        """A move is waiting for its request."""
        return self._armed is not None

    def watch(self, page: Page) -> None:
        """Hold *page*'s API requests until any move they trigger is done."""

        def on_request(route: Route, request: Request) -> None:
            armed = self._armed
            if armed is not None and (request.method, urlsplit(request.url).path) == armed[:2]:
                self._armed = None
                self.advance(armed[2])
            route.continue_()

        page.route("**/api/**", on_request)


@contextmanager
def running_ledgerline(
    folder: Path,
    *,
    chaos: Chaos | None = None,
    shuffle: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Ledgerline]:
    """Ledgerline over ``folder/spa.db`` while the block runs, one user with a fresh
    password; fields shuffled on every render unless ``shuffle`` is off."""
    folder.mkdir(parents=True, exist_ok=True)
    user, password, db_path = "clerk", secrets.token_urlsafe(16), folder / "spa.db"
    with running_spa(db_path, {user: password}, chaos=chaos, shuffle=shuffle, clock=clock) as url:
        yield Ledgerline(url, user, password, db_path, chaos)
