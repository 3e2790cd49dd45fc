"""The review station's routes. Every page but sign-in needs a session; every POST needs the
session's CSRF token; values read from documents are only ever rendered autoescaped.

Routes::

    GET  /login  POST /login  POST /logout      sign-in (attempts limited) and out
    GET  /                                      the queue (filters: doc_type, rule, min_age)
    GET  /cases/{id}?page=N                     page image with field boxes, fields, history
    GET  /cases/{id}/pages/{n}?reveal=PASS      a page image (PNG), identifiers covered unless
                                                the pass of an audited reveal comes with it
    GET  /cases/{id}/evidence/{i}               a keying screenshot (PNG)
    POST /cases/{id}/fields/{name}              correct a field; the rules run again
    POST /cases/{id}/reveal                     show its identifiers unmasked (audited)
    POST /cases/{id}/approve  /reject           decide
    GET  /audit                                 recent review events (supervisor; sign-ins: admin)
    POST /audit/reveal                          the same with identifiers unmasked (audited)
    GET  /admin/users  POST /admin/users        users and roles (admin)
    POST /admin/users/{name}/disabled           disable or enable a user (admin)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rekey.errors import RekeyError
from rekey.models import AuditEvent, Case, CaseState, utcnow
from rekey.pipeline import case_dir, store_for
from rekey.review import actions, auth
from rekey.review.auth import Role, Session
from rekey.review.queue import Filters, age_of, facets, identifier_fields, queue_page
from rekey.review.shown import (
    RevealPass,
    Shown,
    covered_png,
    hides_something,
    identifier_boxes,
    line_items,
    may_reveal,
    shown,
    shown_with_history,
)
from rekey.settings import Settings

TEMPLATES = Path(__file__).with_name("templates")
NOTICES = {
    "corrected": "Saved; the rules ran again.",
    "approval": "Your approval is recorded; a second person must approve this case too.",
    "approved": "Approved; the case will be keyed.",
    "keyed": "Approved and keyed into the back office.",
    "failed": "Approved, but keying failed; it will be tried again.",
    "rejected": "Rejected.",
    "user": "User added.",
    "disabled": "User disabled; their sessions have ended.",
    "enabled": "User enabled.",
}
SIGN_INS = ("sign_in:",)  # audit events only an admin sees
REVEAL_IMAGE_S = 600.0  # how long a revealed case page's images open unmasked
AUDIT_EVENTS = 200  # the audit page shows the latest this many


class SignInNeeded(Exception):
    """No valid session: answered with a redirect to the sign-in page."""


def require(role: Role) -> Callable[[Request], Session]:
    def dependency(request: Request) -> Session:
        session: Session = request.state.session
        if session.user is None:
            raise SignInNeeded
        if not session.may(role):
            raise HTTPException(403, f"this page is for the {role.name} role and above")
        return session

    return dependency


reviewer, supervisor, admin = (require(r) for r in Role)
AnyReviewer = Annotated[Session, Depends(reviewer)]
Supervisor = Annotated[Session, Depends(supervisor)]
Admin = Annotated[Session, Depends(admin)]


async def csrf_checked(request: Request) -> None:
    form = await request.form()
    token = form.get("csrf")
    if not request.state.session.csrf_ok(token if isinstance(token, str) else None):
        raise HTTPException(403, "the form has expired or did not come from this site")


def create_app(settings: Settings) -> FastAPI:
    store = store_for(settings)
    codec = auth.AnonymousCodec(auth.session_secret(settings), settings.review_session_idle_s)
    passes = RevealPass(auth.session_secret(settings), REVEAL_IMAGE_S)
    idle_s, max_s = settings.review_session_idle_s, settings.review_session_max_s
    limits = auth.sign_in_limits(settings)

    def session_for(request: Request) -> Session:
        """The signed-in session the cookie's id names, if it is still alive (read from the
        store each time: a revoked session or a disabled user ends at once); else the
        anonymous one the sign-in form's cookie carries, or a new one."""
        session_id = request.cookies.get(auth.COOKIE)
        if session_id:
            stored = store.session(auth.id_hash(session_id))
            now = utcnow()
            if stored is not None and auth.alive(stored, now, idle_s, max_s):
                if (now - stored.seen_at).total_seconds() > auth.TOUCH_S:
                    store.touch_session(auth.id_hash(session_id), now)
                found = auth.session_of(stored, session_id)
                if found is not None:
                    return found
        return codec.load(request.cookies.get(auth.ANONYMOUS_COOKIE)) or auth.anonymous()

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    app = FastAPI(title="rekey review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.store = settings, store

    @app.middleware("http")
    async def sessions(request: Request, call_next) -> Response:
        request.state.session = await run_in_threadpool(session_for, request)
        request.state.nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        session: Session | None = getattr(request.state, "session", None)
        cookie = {"httponly": True, "samesite": "strict", "path": "/"}
        if session is not None and session.id is not None:
            if request.cookies.get(auth.COOKIE) != session.id:
                response.set_cookie(auth.COOKIE, session.id, **cookie)
            if auth.ANONYMOUS_COOKIE in request.cookies:
                response.delete_cookie(auth.ANONYMOUS_COOKIE, path="/")
        elif session is not None:  # re-signed each time: used, the sign-in form stays valid
            response.set_cookie(auth.ANONYMOUS_COOKIE, codec.dump(session), **cookie)
            if auth.COOKIE in request.cookies:
                response.delete_cookie(auth.COOKIE, path="/")
        else:
            response.delete_cookie(auth.COOKIE, path="/")
            response.delete_cookie(auth.ANONYMOUS_COOKIE, path="/")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
            f"script-src 'nonce-{request.state.nonce}'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        return response

    @app.exception_handler(SignInNeeded)
    async def to_sign_in(request: Request, _exc: SignInNeeded) -> Response:
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        session: Session = request.state.session
        html = env.get_template(name).render(
            session=session,
            csrf=session.csrf,
            nonce=request.state.nonce,
            Role=Role,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        return render(request, "error.html", status_code=exc.status_code, message=str(exc.detail))

    def load_case(case_id: str) -> Case:
        case = store.get(case_id)
        if case is None:
            raise HTTPException(404, "no such case")
        return case

    # -- sign-in -------------------------------------------------------------------------
    @app.get("/login")
    def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=safe_next(next), error=None)

    @app.post("/login", dependencies=[Depends(csrf_checked)])
    def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        name = username.strip()[:80]
        address = request.client.host if request.client else "unknown"
        keys = [f"user:{name.lower()}", f"address:{address}"]
        now = utcnow()

        def refused(status: int, error: str, outcome: str, **detail) -> Response:
            store.record_event(outcome, "anonymous", user=name, address=address, **detail)
            return render(
                request, "login.html", status_code=status, next=safe_next(next), error=error
            )

        until = store.sign_in_blocked_until(keys, now)
        if until is not None:  # the password is not even checked
            message = auth.retry_message(until, now)
            return refused(429, message, "sign_in:refused", until=until.isoformat())
        user = store.user(name)
        if not auth.password_matches(user.password_hash if user else None, password):
            until = store.record_sign_in_failure(
                keys, now, limits.block_seconds, limits.forget_after
            )
            error = "Wrong user name or password."
            if until is not None:
                error += " " + auth.retry_message(until, now)
            return refused(401, error, "sign_in:failed")
        assert user is not None
        if user.disabled:
            message = "This user is disabled; ask an administrator."
            return refused(403, message, "sign_in:refused", why="disabled")
        store.clear_sign_in_failures(keys[0])
        before: Session = request.state.session
        if before.id is not None:  # signing in again replaces the session, never adds one
            store.revoke_session(auth.id_hash(before.id))
        session_id, csrf = auth.new_session_id(), secrets.token_urlsafe(24)
        over = now - timedelta(seconds=max_s)  # sessions past their lifetime: deleted
        store.open_session(user.username, auth.id_hash(session_id), csrf, forget_before=over)
        store.record_event("sign_in:ok", user.username, user=user.username, address=address)
        request.state.session = Session(
            csrf, user.username, auth.role_named(user.role), now.timestamp(), session_id
        )
        return RedirectResponse(safe_next(next), status_code=303)

    @app.post("/logout", dependencies=[Depends(reviewer), Depends(csrf_checked)])
    def logout(request: Request) -> Response:
        session: Session = request.state.session
        if session.id is not None:
            store.revoke_session(auth.id_hash(session.id))
        request.state.session = None
        return RedirectResponse("/login", status_code=303)

    # -- queue ---------------------------------------------------------------------------
    @app.get("/")
    def queue(
        request: Request,
        session: AnyReviewer,
        doc_type: str = "",
        rule: str = "",
        min_age: float | None = None,
        page: int = 1,
    ) -> Response:
        filters = Filters(doc_type or None, rule or None, min_age, max(page, 1))
        total, rows = queue_page(store, settings, filters, utcnow())
        doc_types, rules = facets(settings)
        pages = max(1, -(-total // settings.review_page_size))
        return render(
            request,
            "queue.html",
            rows=rows,
            total=total,
            filters=filters,
            doc_types=doc_types,
            rules=rules,
            pages=pages,
            sla_hours=settings.review_sla_hours,
        )

    # -- a case --------------------------------------------------------------------------
    def case_page(
        request: Request,
        case: Case,
        page: int = 1,
        notice: str | None = None,
        error: str | None = None,
        status_code: int = 200,
        reveal: bool = False,
    ) -> Response:
        session: Session = request.state.session
        folder = case_dir(settings, case)
        identifiers = identifier_fields(settings, case.template)
        view = shown(case, identifiers, reveal and may_reveal(session.role, case.state))
        numbers = page_numbers(folder)
        page = page if page in numbers else (numbers[0] if numbers else 0)
        image_pass = passes.issue(case.id, session.id) if view.revealed and session.id else None
        by_field: dict[str, list] = {}
        for finding in case.findings:
            for name in finding.fields or ["(case)"]:
                by_field.setdefault(name, []).append(finding)
        return render(
            request,
            "case.html",
            status_code=status_code,
            case=case,
            page=page,
            numbers=numbers,
            by_field=by_field,
            age=age_of(case, utcnow(), settings.review_sla_hours),
            events=store.events(case.id),
            approvers=actions.approvers(store, case),
            needed=actions.approvals_needed(case, settings),
            blocking=actions.blocking(case),
            notice=NOTICES.get(notice or ""),
            error=error,
            screenshots=case.receipt.screenshots if case.receipt else [],
            shown=view,
            image_pass=image_pass,
            may_reveal=bool(identifiers) and may_reveal(session.role, case.state),
            line_items=line_items,
        )

    @app.get("/cases/{case_id}")
    def show_case(
        request: Request,
        case_id: str,
        session: AnyReviewer,
        page: int = 1,
        notice: str | None = None,
    ) -> Response:
        return case_page(request, load_case(case_id), page, notice)

    @app.get("/cases/{case_id}/pages/{number}")
    def page_image(case_id: str, number: int, session: AnyReviewer, reveal: str = "") -> Response:
        """A page image; the boxes of the case's identifier fields filled opaque unless the
        request carries the pass of this session's audited reveal and may still reveal."""
        case = load_case(case_id)
        path = case_dir(settings, case) / f"page-{number}.png"
        if not path.is_file():
            raise HTTPException(404, "no such page")
        revealed = passes.valid(reveal, case.id, session.id) and may_reveal(
            session.role, case.state
        )
        boxes = identifier_boxes(case, identifier_fields(settings, case.template), number)
        if revealed or not boxes:
            return FileResponse(path, media_type="image/png")
        try:
            return Response(covered_png(path, boxes), media_type="image/png")
        except OSError as exc:
            raise HTTPException(500, f"page {number} of case {case.id} cannot be shown") from exc

    @app.get("/cases/{case_id}/evidence/{index}")
    def evidence(case_id: str, index: int, session: AnyReviewer) -> Response:
        case = load_case(case_id)
        shots = case.receipt.screenshots if case.receipt else []
        if not 0 <= index < len(shots) or not Path(shots[index]).is_file():
            raise HTTPException(404, "no such screenshot")
        return FileResponse(shots[index], media_type="image/png")

    @app.post("/cases/{case_id}/reveal", dependencies=[Depends(reviewer), Depends(csrf_checked)])
    def reveal(
        request: Request, case_id: str, session: AnyReviewer, page: Annotated[int, Form()] = 1
    ) -> Response:
        """The case page with its identifiers unmasked, once the reveal is audited."""
        case = load_case(case_id)
        if not may_reveal(session.role, case.state):
            raise HTTPException(
                403, f"the identifiers of a {case.state.value} case are shown to supervisors only"
            )
        fields = identifier_fields(settings, case.template)
        store.record_event("review:revealed", session.user or "", case_id=case.id, fields=fields)
        return case_page(request, case, page, reveal=True)

    def refused(request: Request, case: Case, page: int, exc: RekeyError) -> Response:
        return case_page(request, case, page, error=str(exc), status_code=409)

    @app.post(
        "/cases/{case_id}/fields/{name}", dependencies=[Depends(reviewer), Depends(csrf_checked)]
    )
    def correct(
        request: Request,
        case_id: str,
        name: str,
        session: AnyReviewer,
        value: Annotated[str, Form()] = "",
        page: Annotated[int, Form()] = 1,
    ) -> Response:
        case = load_case(case_id)
        try:
            actions.correct(store, settings, case, name, value, session.user)
        except RekeyError as exc:
            return refused(request, load_case(case_id), page, exc)
        return RedirectResponse(
            f"/cases/{case_id}?page={page}&notice=corrected#field-{quote(name)}", status_code=303
        )

    @app.post("/cases/{case_id}/approve", dependencies=[Depends(reviewer), Depends(csrf_checked)])
    def approve(
        request: Request,
        case_id: str,
        session: AnyReviewer,
        page: Annotated[int, Form()] = 1,
    ) -> Response:
        case = load_case(case_id)
        try:
            approval = actions.approve(store, settings, case, session.user)
        except RekeyError as exc:
            return refused(request, case, page, exc)
        notice = "approved" if approval.complete else "approval"
        if approval.complete and settings.review_key_at_once:
            keyed = actions.key_now(approval.case, settings)
            notice = "keyed" if keyed.state is CaseState.done else "failed"
        return RedirectResponse(f"/cases/{case_id}?notice={notice}", status_code=303)

    @app.post("/cases/{case_id}/reject", dependencies=[Depends(reviewer), Depends(csrf_checked)])
    def reject(
        request: Request,
        case_id: str,
        session: AnyReviewer,
        reason: Annotated[str, Form()] = "",
        page: Annotated[int, Form()] = 1,
    ) -> Response:
        case = load_case(case_id)
        try:
            actions.reject(store, case, reason, session.user)
        except RekeyError as exc:
            return refused(request, case, page, exc)
        return RedirectResponse(f"/cases/{case_id}?notice=rejected", status_code=303)

    # -- supervisor and admin ------------------------------------------------------------
    def audit_page(request: Request, session: Session, reveal: bool = False) -> Response:
        """The latest review events, identifiers masked per case unless ``reveal``; a reveal
        is recorded in the history of each case whose identifiers it shows."""
        kinds = ("review:", "user:") + (SIGN_INS if session.may(Role.admin) else ())
        events = [e for e in store.events() if e.action.startswith(kinds)][-AUDIT_EVENTS:][::-1]
        views = audit_views(events)
        hidden = {
            case_id: view
            for case_id, view in views.items()
            if hides_something(view, [e for e in events if e.case_id == case_id])
        }
        if reveal:
            for case_id, view in hidden.items():
                fields = sorted(view.identifiers)
                store.record_event(
                    "review:revealed",
                    session.user or "",
                    case_id=case_id,
                    fields=fields,
                    on="audit",
                )
            views = {k: Shown(v.identifiers, v.pairs, revealed=True) for k, v in views.items()}
        return render(
            request,
            "audit.html",
            events=events,
            views=views,
            plain=Shown(frozenset()),
            revealed=reveal and bool(hidden),
            may_reveal=bool(hidden) and not reveal,
        )

    def audit_views(events: list[AuditEvent]) -> dict[str, Shown]:
        """How each case's events are shown (masked), by case id."""
        views = {}
        for case_id in dict.fromkeys(e.case_id for e in events if e.case_id):
            case = store.get(case_id)
            theirs = [e for e in events if e.case_id == case_id]
            if case is None:  # its identifiers unknown: every field's values masked
                named = frozenset(e.detail["field"] for e in theirs if e.detail.get("field"))
                views[case_id] = Shown(named)
                continue
            names = identifier_fields(settings, case.template)
            views[case_id] = shown_with_history(case, names, theirs, revealed=False)
        return views

    @app.get("/audit")
    def audit(request: Request, session: Supervisor) -> Response:
        return audit_page(request, session)

    @app.post("/audit/reveal", dependencies=[Depends(supervisor), Depends(csrf_checked)])
    def audit_reveal(request: Request, session: Supervisor) -> Response:
        """The audit page with identifiers unmasked (supervisors may reveal any case)."""
        return audit_page(request, session, reveal=True)

    @app.get("/admin/users")
    def users_page(request: Request, session: Admin, notice: str | None = None) -> Response:
        return render(
            request, "users.html", users=store.users(), notice=NOTICES.get(notice or ""), error=None
        )

    @app.post("/admin/users", dependencies=[Depends(admin), Depends(csrf_checked)])
    def add_user(
        request: Request,
        session: Admin,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "reviewer",
    ) -> Response:
        try:
            create_user(store, username, password, role)
        except RekeyError as exc:
            return render(
                request,
                "users.html",
                status_code=400,
                users=store.users(),
                notice=None,
                error=str(exc),
            )
        return RedirectResponse("/admin/users?notice=user", status_code=303)

    @app.post(
        "/admin/users/{username}/disabled", dependencies=[Depends(admin), Depends(csrf_checked)]
    )
    def disable_user(
        request: Request, username: str, session: Admin, disabled: Annotated[str, Form()] = "1"
    ) -> Response:
        off = disabled == "1"
        if off and username == session.user:
            raise HTTPException(409, "you cannot disable yourself")
        try:
            store.change_user(username, session.user or "", disabled=off)
        except RekeyError as exc:
            raise HTTPException(404, str(exc)) from exc
        notice = "disabled" if off else "enabled"
        return RedirectResponse(f"/admin/users?notice={notice}", status_code=303)

    return app


def app_from_environment() -> FastAPI:
    """The app for settings from the environment (what each worker process builds)."""
    return create_app(Settings())


def create_user(store, username: str, password: str, role: str):
    """A new user with an argon2-hashed password; ConfigError or StoreError when refused."""
    from rekey.errors import ConfigError

    username = username.strip()
    if not username or len(username) > 80 or not username.isprintable() or " " in username:
        raise ConfigError("a user name is 1 to 80 characters without spaces", key="username")
    role = auth.role_named(role).name
    return store.add_user(username, auth.hash_password(password, username), role)


def set_password(store, username: str, password: str, actor: str):
    """A new password for ``username`` (the policy applies); their sessions end."""
    return store.change_user(username, actor, password_hash=auth.hash_password(password, username))


def page_numbers(folder: Path) -> list[int]:
    """The numbers of the page images kept with a case, in order."""
    numbers = []
    for path in folder.glob("page-*.png"):
        stem = path.stem.removeprefix("page-")
        if stem.isdigit():
            numbers.append(int(stem))
    return sorted(numbers)


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
