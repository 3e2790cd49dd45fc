"""ClaimBase 2000: a small server-rendered legacy back office for rekey to key cases into.

Routes::

    /login  /logout                       sign-in (CSRF-checked), server-side session cookie
    /        /menu  /welcome              the shell: a frameset, menu frame + "main" frame
    /claims?policy=&ext_ref=              claim search (by policy number, external reference)
    /claims/new                           claim entry, step 1: policy details
    /claims/new/{draft}                   claim entry, step 2: payout account and line items
    /claims/{reference}[/saved]           the read-only record, and the save confirmation
    /customers?name=&ext_ref=             customer search
    /customers/new                        customer (account) entry, one step
    /customers/{reference}[/saved]        the read-only record, and the save confirmation
    /policies?number=                     policy inquiry (the policy register, read-only)

Legacy habits on purpose: meaningless input names (``f_0031``), captions in plain table
cells, dates as DD/MM/YYYY, amounts with separators, select boxes posting numeric codes,
a JavaScript ``confirm()`` before each save, validation messages on the page. A session
ends after ``idle_timeout_s`` without a request. :class:`~samples.backoffice.chaos.Chaos`
adds latency, HTTP 500s, dropped sessions, shuffled fields and saves that commit then fail.
"""

from __future__ import annotations

import asyncio
import csv
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from samples.backoffice import forms
from samples.backoffice.chaos import Chaos
from samples.backoffice.forms import FormField
from samples.backoffice.sessions import COOKIE, Session, Sessions
from samples.backoffice.store import BackOfficeStore

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_POLICIES = Path(__file__).parent.parent / "reference" / "policies.csv"
ERROR_PAGE = (
    "<!doctype html><html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1><p>ClaimBase 2000 could not complete the request."
    "</p></body></html>"
)

ENTITIES = {
    "claims": {
        "title": "Claim",
        "fields": forms.CLAIM_FIELDS + forms.PAYOUT_FIELDS,
        "search": (
            ("policy", "Policy number", "s_0001", "policy_number"),
            ("ext_ref", "External ref", "s_0002", "external_ref"),
        ),
        "columns": (
            ("Policy", "policy_number"),
            ("Claimant", "claimant_name"),
            ("Date of loss", "date_of_loss"),
            ("Amount", "amount"),
            ("Currency", "currency"),
        ),
    },
    "customers": {
        "title": "Customer",
        "fields": forms.CUSTOMER_FIELDS,
        "search": (
            ("name", "Full name", "s_0011", "full_name"),
            ("ext_ref", "External ref", "s_0012", "external_ref"),
        ),
        "columns": (
            ("Name", "full_name"),
            ("Date of birth", "date_of_birth"),
            ("Nationality", "nationality"),
        ),
    },
}


class NotSignedIn(Exception):
    """Raised by :func:`require_user`; answered with a redirect to the sign-in page."""


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def create_app(
    db_path: Path,
    users: dict[str, str],
    *,
    idle_timeout_s: float = 900,
    chaos: Chaos | None = None,
    policies_csv: Path = DEFAULT_POLICIES,
) -> FastAPI:
    """Build the back office over the SQLite database at *db_path* for these *users*; its
    policy register is loaded from *policies_csv*."""
    if not users:
        raise ValueError("the back office needs at least one user")
    chaos = chaos or Chaos()
    store = BackOfficeStore(db_path)
    with Path(policies_csv).open(encoding="utf-8", newline="") as handle:
        store.load_policies(list(csv.DictReader(handle)))
    sessions = Sessions(
        idle_timeout_s, chaos.session_ttl_s, ttl_requests=chaos.session_ttl_requests
    )
    drafts: dict[str, dict] = {}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    app = FastAPI(title="ClaimBase 2000", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.sessions, app.state.chaos = store, sessions, chaos

    @app.middleware("http")
    async def legacy(request: Request, call_next) -> Response:
        delay = chaos.delay_s()
        if delay:
            await asyncio.sleep(delay)
        if chaos.fail_request():
            return HTMLResponse(ERROR_PAGE, status_code=500)
        token = request.cookies.get(COOKIE)
        request.state.session = sessions.get(token) or sessions.new()
        response = await call_next(request)
        session: Session = request.state.session
        if session.token != token:
            response.set_cookie(COOKIE, session.token, httponly=True, samesite="lax")
        response.headers["Cache-Control"] = "no-store"
        return response

    def session_of(request: Request) -> Session:
        return request.state.session

    def require_user(request: Request) -> str:
        user = sessions.current_user(session_of(request))
        if not user:
            raise NotSignedIn
        return user

    async def submitted(
        request: Request, fields: tuple[forms.FormField, ...]
    ) -> tuple[dict, dict, list[str]]:
        """The posted form read for ``fields``: (as typed, as stored, validation errors)."""
        raw = forms.read_form(fields, await posted(request))
        clean, errors = forms.validate(fields, raw)
        return raw, clean, errors

    async def posted(request: Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        expected = session_of(request).csrf
        if not secrets.compare_digest(expected, form.get("_csrf", "")):
            raise HTTPException(status_code=403, detail="Invalid or missing CSRF token")
        return form

    def render(request: Request, name: str, status_code: int = 200, **context) -> Response:
        session = session_of(request)
        context |= {"user": session.user, "csrf": session.csrf}
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)

    @app.exception_handler(NotSignedIn)
    async def to_login(request: Request, exc: NotSignedIn) -> Response:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    # sign-in and the shell -------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        return render(request, "login.html", next=safe_next(next), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await posted(request)
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
        request.state.session = sessions.sign_in(session_of(request), username)
        return RedirectResponse(safe_next(form.get("next")), status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await posted(request)
        session_of(request).user = None
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    def shell(request: Request) -> Response:
        require_user(request)
        return render(request, "shell.html")

    @app.get("/menu", response_class=HTMLResponse)
    def menu(request: Request) -> Response:
        require_user(request)
        return render(request, "menu.html")

    @app.get("/welcome", response_class=HTMLResponse)
    def welcome(request: Request) -> Response:
        require_user(request)
        return render(request, "welcome.html")

    # search, records ---------------------------------------------------------------------

    def search_page(request: Request, table: str) -> Response:
        require_user(request)
        entity = ENTITIES[table]
        asked = {
            param: request.query_params.get(param, "").strip() for param, *_ in entity["search"]
        }
        where = {column: asked[param] for param, _, _, column in entity["search"]}
        fields = entity["fields"]
        found = [forms.display(fields, r) for r in store.search(table, **where)]
        return render(
            request,
            "search.html",
            table=table,
            entity=entity,
            asked=asked,
            records=found,
            searched=any(asked.values()),
        )

    def load(table: str, reference: str) -> dict:
        record = store.get(table, reference)
        if record is None:
            raise HTTPException(status_code=404, detail=f"No record {reference}")
        shown = forms.display(ENTITIES[table]["fields"], record)
        shown["lines"] = [forms.display(forms.LINE_FIELDS, x) for x in record.get("lines", [])]
        return shown

    def record_page(request: Request, table: str, reference: str) -> Response:
        require_user(request)
        entity = ENTITIES[table]
        return render(
            request,
            "record.html",
            entity=entity,
            record=load(table, reference),
            fields=entity["fields"],
            line_fields=forms.LINE_FIELDS if table == "claims" else (),
        )

    def saved_page(request: Request, table: str, reference: str) -> Response:
        require_user(request)
        record = load(table, reference)
        return render(request, "saved.html", table=table, entity=ENTITIES[table], record=record)

    @app.get("/claims", response_class=HTMLResponse)
    def claim_search(request: Request) -> Response:
        return search_page(request, "claims")

    @app.get("/customers", response_class=HTMLResponse)
    def customer_search(request: Request) -> Response:
        return search_page(request, "customers")

    @app.get("/policies", response_class=HTMLResponse)
    def policy_inquiry(request: Request, number: str = "") -> Response:
        require_user(request)
        policy = store.policy(number) if number.strip() else None
        if policy is not None:
            policy["coverage"] = f"{Decimal(policy['coverage']):,.2f}"
            policy["status"] = policy["status"].capitalize()
        return render(request, "policies.html", number=number, policy=policy)

    # entry forms -------------------------------------------------------------------------

    def entry(
        request: Request,
        *,
        title: str,
        action: str,
        fields: tuple[FormField, ...],
        values: dict,
        errors: list[str],
        submit: str,
        confirm: str | None = None,
        lines: list[dict] | None = None,
        summary: str = "",
    ) -> Response:
        rows = chaos.order(fields)
        line_fields = chaos.order(forms.LINE_FIELDS) if lines is not None else []
        return render(
            request,
            "entry.html",
            status_code=422 if errors else 200,
            title=title,
            action=action,
            rows=rows,
            values=values,
            errors=errors,
            submit=submit,
            confirm=confirm,
            lines=(lines or [{}]) if lines is not None else None,
            line_fields=line_fields,
            max_lines=forms.MAX_LINES,
            summary=summary,
        )

    def failed_after_commit() -> Response | None:
        return HTMLResponse(ERROR_PAGE, status_code=500) if chaos.fail_after_commit() else None

    @app.get("/claims/new", response_class=HTMLResponse)
    def claim_step1(request: Request) -> Response:
        require_user(request)
        return claim_form1(request, {}, [])

    def claim_form1(request: Request, values: dict, errors: list[str]) -> Response:
        return entry(
            request,
            title="Claim entry - step 1 of 2: policy details",
            action="/claims/new",
            fields=forms.CLAIM_FIELDS,
            values=values,
            errors=errors,
            submit="Next",
        )

    @app.post("/claims/new")
    async def claim_step1_post(request: Request) -> Response:
        user = require_user(request)
        raw, clean, errors = await submitted(request, forms.CLAIM_FIELDS)
        if errors:
            return claim_form1(request, raw, errors)
        draft = secrets.token_urlsafe(12)
        drafts[draft] = {"user": user, "values": clean}
        return RedirectResponse(f"/claims/new/{draft}", status_code=303)

    def claim_form2(
        request: Request, draft: str, values: dict, lines: list[dict], errors: list[str]
    ) -> Response:
        return entry(
            request,
            title="Claim entry - step 2 of 2: payout and expenses",
            action=f"/claims/new/{draft}",
            fields=forms.PAYOUT_FIELDS,
            values=values,
            errors=errors,
            submit="Save",
            confirm="Save claim?",
            lines=lines,
            summary="Policy number " + drafts[draft]["values"]["policy_number"],
        )

    def own_draft(draft: str, user: str) -> dict:
        found = drafts.get(draft)
        if found is None or found["user"] != user:
            raise HTTPException(status_code=404, detail="This claim entry has expired")
        return found

    @app.get("/claims/new/{draft}", response_class=HTMLResponse)
    def claim_step2(request: Request, draft: str) -> Response:
        own_draft(draft, require_user(request))
        return claim_form2(request, draft, {}, [], [])

    @app.post("/claims/new/{draft}")
    async def claim_save(request: Request, draft: str) -> Response:
        user = require_user(request)
        step1 = own_draft(draft, user)["values"]
        form = await posted(request)
        raw, raw_lines = forms.read_form(forms.PAYOUT_FIELDS, form), forms.read_lines(form)
        clean, errors = forms.validate(forms.PAYOUT_FIELDS, raw)
        lines, line_errors = forms.validate_lines(raw_lines)
        if errors or line_errors:
            return claim_form2(request, draft, raw, raw_lines, errors + line_errors)
        reference = store.add("claims", step1 | clean, user, lines)
        drafts.pop(draft, None)
        return failed_after_commit() or RedirectResponse(
            f"/claims/{reference}/saved", status_code=303
        )

    @app.get("/customers/new", response_class=HTMLResponse)
    def customer_entry(request: Request) -> Response:
        require_user(request)
        return customer_form(request, {}, [])

    def customer_form(request: Request, values: dict, errors: list[str]) -> Response:
        return entry(
            request,
            title="Customer entry",
            action="/customers/new",
            fields=forms.CUSTOMER_FIELDS,
            values=values,
            errors=errors,
            submit="Save",
            confirm="Save customer?",
        )

    @app.post("/customers/new")
    async def customer_save(request: Request) -> Response:
        user = require_user(request)
        raw, clean, errors = await submitted(request, forms.CUSTOMER_FIELDS)
        if errors:
            return customer_form(request, raw, errors)
        reference = store.add("customers", clean, user)
        return failed_after_commit() or RedirectResponse(
            f"/customers/{reference}/saved", status_code=303
        )

    @app.get("/claims/{reference}/saved", response_class=HTMLResponse)
    def claim_saved(request: Request, reference: str) -> Response:
        return saved_page(request, "claims", reference)

    @app.get("/claims/{reference}", response_class=HTMLResponse)
    def claim_view(request: Request, reference: str) -> Response:
        return record_page(request, "claims", reference)

    @app.get("/customers/{reference}/saved", response_class=HTMLResponse)
    def customer_saved(request: Request, reference: str) -> Response:
        return saved_page(request, "customers", reference)

    @app.get("/customers/{reference}", response_class=HTMLResponse)
    def customer_view(request: Request, reference: str) -> Response:
        return record_page(request, "customers", reference)

    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: Path = Path("var/backoffice.db"),
    users: dict[str, str] | None = None,
    *,
    idle_timeout_s: float = 900,
    chaos: Chaos | None = None,
    policies_csv: Path = DEFAULT_POLICIES,
    fd: int | None = None,
    log_level: str = "info",
) -> None:
    """Run the back office with uvicorn until interrupted (on socket *fd* if given)."""
    import uvicorn

    app = create_app(
        db_path, users or {}, idle_timeout_s=idle_timeout_s, chaos=chaos, policies_csv=policies_csv
    )
    if fd is not None:
        uvicorn.run(app, fd=fd, log_level=log_level)
    else:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
