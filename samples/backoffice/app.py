"""ClaimBase 2000: a small server-rendered legacy back office for rekey to key claims into.

Routes: ``/login`` · ``/logout`` · ``/claims`` (list, ``?ext_ref=`` search) · ``/claims/new``
(entry form) · ``/claims/{reference}/saved`` (confirmation) · ``/claims/{reference}`` (record).

Users are passed in; the session cookie is signed with a secret generated at start-up, and
every form carries a CSRF token that is checked on POST.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from samples.backoffice.forms import CLAIM_FIELDS, display, read_form, validate_claim
from samples.backoffice.store import ClaimStore

TEMPLATES_DIR = Path(__file__).parent / "templates"


class NotSignedIn(Exception):
    """Raised by :func:`require_user`; answered with a redirect to the sign-in page."""


def require_user(request: Request) -> str:
    user = request.session.get("user")
    if not user:
        raise NotSignedIn
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(request: Request, form: dict[str, str]) -> None:
    expected = request.session.get("csrf", "")
    if not expected or not secrets.compare_digest(expected, str(form.get("_csrf", ""))):
        raise HTTPException(status_code=403, detail="Invalid or missing CSRF token")


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/claims"


def create_app(db_path: Path, users: dict[str, str]) -> FastAPI:
    """Build the back office over the SQLite database at *db_path* for these *users*."""
    if not users:
        raise ValueError("the back office needs at least one user")
    store = ClaimStore(db_path)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    templates = Jinja2Templates(env=env)
    app = FastAPI(title="ClaimBase 2000", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie="cb2000_session",
        same_site="lax",
    )
    app.state.store = store

    def render(request: Request, name: str, status_code: int = 200, **context) -> Response:
        context |= {"user": request.session.get("user"), "csrf": csrf_token(request)}
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.exception_handler(NotSignedIn)
    async def to_login(request: Request, exc: NotSignedIn) -> Response:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/claims", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        return render(request, "login.html", next=safe_next(next), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        check_csrf(request, form)
        username, password = form.get("username", ""), form.get("password", "")
        known = users.get(username)
        if known is None or not secrets.compare_digest(known.encode(), password.encode()):
            return render(
                request,
                "login.html",
                status_code=401,
                next=safe_next(form.get("next")),
                error="Invalid username or password",
            )
        request.session.clear()
        request.session["user"] = username
        return RedirectResponse(safe_next(form.get("next")), status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        check_csrf(request, {k: str(v) for k, v in (await request.form()).items()})
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/claims", response_class=HTMLResponse)
    def claim_list(request: Request, ext_ref: str | None = None) -> Response:
        require_user(request)
        ext_ref = (ext_ref or "").strip()
        claims = [display(c) for c in store.search(ext_ref or None)]
        return render(request, "claim_list.html", claims=claims, ext_ref=ext_ref)

    @app.get("/claims/new", response_class=HTMLResponse)
    def claim_form(request: Request) -> Response:
        require_user(request)
        return render(request, "claim_form.html", fields=CLAIM_FIELDS, values={}, errors=[])

    @app.post("/claims/new")
    async def claim_save(request: Request) -> Response:
        user = require_user(request)
        form = {k: str(v) for k, v in (await request.form()).items()}
        check_csrf(request, form)
        raw = read_form(form)
        clean, errors = validate_claim(raw)
        if errors:
            return render(
                request,
                "claim_form.html",
                status_code=422,
                fields=CLAIM_FIELDS,
                values=raw,
                errors=errors,
            )
        reference = store.add(clean, user)
        return RedirectResponse(f"/claims/{reference}/saved", status_code=303)

    def load(reference: str) -> dict[str, str]:
        claim = store.get(reference)
        if claim is None:
            raise HTTPException(status_code=404, detail=f"No claim {reference}")
        return display(claim)

    @app.get("/claims/{reference}/saved", response_class=HTMLResponse)
    def claim_saved(request: Request, reference: str) -> Response:
        require_user(request)
        return render(request, "claim_saved.html", claim=load(reference))

    @app.get("/claims/{reference}", response_class=HTMLResponse)
    def claim_view(request: Request, reference: str) -> Response:
        require_user(request)
        return render(request, "claim_view.html", claim=load(reference), fields=CLAIM_FIELDS)

    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: Path = Path("var/backoffice.db"),
    users: dict[str, str] | None = None,
) -> None:
    """Run the back office with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(db_path, users or {}), host=host, port=port, log_level="info")
