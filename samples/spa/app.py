"""Ledgerline: a single-page back office of the 2010s for rekey to key records into.

One HTML page (``GET /``) loads ``/static/ledgerline.js``, which draws every screen in the
browser and talks JSON to the API; nothing after the first load is a page load::

    GET  /api/session                       who is signed in, and the CSRF token
    POST /api/session                       sign in  {"username", "password"}
    POST /api/session/end                   sign out
    GET  /api/screens                       the Start menu: [[id, title], ...]
    GET  /api/screens/{id}                  one form's fields, in this render's order
    POST /api/screens/{id}/records          save {"values": {...}, "lines": [...]}
                                            -> 201 {"reference": "LL-000123"} | 422 errors
    GET  /api/records?screen=&ext_ref=      saved records (the lookup screen, and tests)

POSTs carry the session's CSRF token in the ``X-CSRF-Token`` header. Without a signed-in
session the API answers 401 (with a fresh CSRF token) and the page shows the sign-in screen.

The screens, their captions and date formats are in :mod:`samples.spa.screens`; the checks
in :mod:`samples.spa.validation`. :class:`~samples.backoffice.chaos.Chaos` works as it does
for ClaimBase 2000, except that its 500s hit the API only: the page and its script stand for
files from a static web server that did not fail, the application server behind ``/api``
did. Latency slows everything. ``shuffle`` (or ``chaos.shuffle``) reorders every form's
fields (and the service lines' columns) on every render.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from samples.backoffice.chaos import Chaos
from samples.backoffice.sessions import Session, Sessions
from samples.spa import validation
from samples.spa.screens import SCREENS, Screen, schema
from samples.spa.store import SpaStore

STATIC_DIR = Path(__file__).parent / "static"
COOKIE = "LLSESSION"
CSRF_HEADER = "X-CSRF-Token"
SERVER_ERROR = {"error": "Internal Server Error"}

T = TypeVar("T")
Order = Callable[[Sequence[T]], list[T]]


class NotSignedIn(Exception):
    """Raised by :func:`require_user`; answered 401 so the page shows the sign-in screen."""


def create_app(
    db_path: Path,
    users: dict[str, str],
    *,
    chaos: Chaos | None = None,
    shuffle: bool = False,
    idle_timeout_s: float = 900,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """Build Ledgerline over the SQLite database at *db_path* for these *users*.

    *chaos* is kept, not copied: a test may turn its knobs while the app runs. *clock*
    times the sessions (idle timeout and ``chaos.session_ttl_s``)."""
    if not users:
        raise ValueError("Ledgerline needs at least one user")
    chaos = chaos or Chaos()
    store = SpaStore(db_path)
    sessions = Sessions(idle_timeout_s, chaos.session_ttl_s, clock)
    app = FastAPI(title="Ledgerline", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.sessions, app.state.chaos = store, sessions, chaos
    add_middleware(app, chaos, sessions)
    add_page_routes(app)
    add_session_routes(app, sessions, users)
    add_screen_routes(app, store, chaos, field_order(chaos, shuffle))
    add_record_routes(app, store)
    return app


def field_order(chaos: Chaos, shuffle: bool) -> Order:
    """How a form's fields are ordered on each render: the chaos knob's shuffle, or (with
    *shuffle* alone) a shuffle seeded the same way, or as defined."""
    if chaos.shuffle or not shuffle:
        return chaos.order
    rng, lock = random.Random(chaos.seed), threading.Lock()

    def shuffled(items: Sequence[T]) -> list[T]:
        items = list(items)
        with lock:
            rng.shuffle(items)
        return items

    return shuffled


def session_of(request: Request) -> Session:
    return request.state.session


def require_user(request: Request) -> str:
    user = request.app.state.sessions.current_user(session_of(request))
    if not user:
        raise NotSignedIn
    return user


async def json_body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="The body is not JSON") from exc
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="The body is not a JSON object")
    return body


def add_middleware(app: FastAPI, chaos: Chaos, sessions: Sessions) -> None:
    """Latency on everything; on ``/api``: chaos 500s, the session cookie, the CSRF check,
    and the 401 that sends the page back to its sign-in screen."""

    @app.middleware("http")
    async def era(request: Request, call_next) -> Response:
        delay = chaos.delay_s()
        if delay:
            await asyncio.sleep(delay)
        if not request.url.path.startswith("/api/"):
            response = await call_next(request)
        elif chaos.fail_request():
            return JSONResponse(SERVER_ERROR, status_code=500)
        else:
            token = request.cookies.get(COOKIE)
            session = request.state.session = sessions.get(token) or sessions.new()
            sent = request.headers.get(CSRF_HEADER, "")
            if request.method == "POST" and not secrets.compare_digest(
                session.csrf.encode(), sent.encode()
            ):
                response = JSONResponse(
                    {"error": "Invalid or missing CSRF token", "csrf": session.csrf},
                    status_code=403,
                )
            else:
                response = await call_next(request)
            session = session_of(request)  # a sign-in replaces it
            if session.token != token:
                response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(NotSignedIn)
    async def signed_out(request: Request, exc: NotSignedIn) -> Response:
        body = {"error": "Not signed in", "csrf": session_of(request).csrf}
        return JSONResponse(body, status_code=401)


def add_page_routes(app: FastAPI) -> None:
    """The one page, and the script and style sheet it loads."""

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def add_session_routes(app: FastAPI, sessions: Sessions, users: dict[str, str]) -> None:
    @app.get("/api/session")
    def whoami(request: Request) -> dict:
        session = session_of(request)
        return {"user": sessions.current_user(session), "csrf": session.csrf}

    @app.post("/api/session")
    async def sign_in(request: Request) -> Response:
        body = await json_body(request)
        username, password = str(body.get("username", "")), str(body.get("password", ""))
        known = users.get(username)
        matches = secrets.compare_digest((known or "").encode(), password.encode())
        if known is None or not matches:
            body = {"error": "Invalid user name or password", "csrf": session_of(request).csrf}
            return JSONResponse(body, status_code=401)
        session = sessions.sign_in(session_of(request), username)
        request.state.session = session
        return JSONResponse({"user": username, "csrf": session.csrf})

    @app.post("/api/session/end")
    def sign_out(request: Request) -> dict:
        session = session_of(request)
        session.user, session.data = None, {}
        return {"user": None, "csrf": session.csrf}


def add_screen_routes(app: FastAPI, store: SpaStore, chaos: Chaos, order: Order) -> None:
    def screen_of(screen_id: str) -> Screen:
        screen = SCREENS.get(screen_id)
        if screen is None:
            raise HTTPException(status_code=404, detail=f"No screen {screen_id}")
        return screen

    @app.get("/api/screens")
    def menu(request: Request) -> list[list[str]]:
        require_user(request)
        return [[s.id, s.title] for s in SCREENS.values()]

    @app.get("/api/screens/{screen_id}")
    def form(request: Request, screen_id: str) -> dict:
        require_user(request)
        screen = screen_of(screen_id)
        return schema(screen, order(screen.fields), order(screen.line_fields))

    @app.post("/api/screens/{screen_id}/records")
    async def save(request: Request, screen_id: str) -> Response:
        user = require_user(request)
        screen = screen_of(screen_id)
        body = await json_body(request)
        values, lines = body.get("values"), body.get("lines")
        values = values if isinstance(values, dict) else {}
        lines = lines if isinstance(lines, list) else []
        clean, clean_lines, errors = validation.check(screen, values, lines)
        if errors:
            return JSONResponse({"errors": [e.as_json() for e in errors]}, status_code=422)
        reference = store.add(screen.id, clean, user, clean_lines)
        if chaos.fail_after_commit():
            return JSONResponse(SERVER_ERROR, status_code=500)
        return JSONResponse({"reference": reference}, status_code=201)


def add_record_routes(app: FastAPI, store: SpaStore) -> None:
    @app.get("/api/records")
    def records(request: Request, screen: str = "", ext_ref: str = "") -> dict:
        require_user(request)
        return {"records": store.search(screen.strip(), ext_ref.strip())}
