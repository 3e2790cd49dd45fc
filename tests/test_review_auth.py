"""Who may reach what in the review station: every route needs a session (anonymous
requests go to sign-in), admin pages need the admin role, every POST needs the session's
CSRF token, passwords are argon2-hashed, and sessions expire."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from itsdangerous import URLSafeTimedSerializer

from rekey.models import CaseState, utcnow
from rekey.pipeline import store_for
from rekey.review.app import create_app
from rekey.review.auth import password_matches, session_secret
from rekey.review.server import running_review
from rekey.settings import Settings
from rekey.store import review_sessions
from tests.review_support import add_user, csrf_of, review_case
from tests.review_support import signed_in as client_for

PUBLIC = {("GET", "/login"), ("POST", "/login")}
ADMIN_ONLY = {
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{username}/disabled"),
}
SUPERVISOR = {("GET", "/audit")}


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("review-auth")
    settings = Settings(_env_file=None, data_dir=tmp / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp / "docs", 11, currency="GBPX")
    assert case.state is CaseState.review
    passwords = {name: add_user(settings, name, name) for name in ("reviewer", "supervisor")}
    passwords["admin"] = add_user(settings, "admin", "admin")
    with running_review(settings) as url:
        yield settings, case, url, passwords


def routes(settings: Settings) -> list[tuple[str, str]]:
    """Every (method, path template) the station serves."""
    app = create_app(settings)
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


def concrete(path: str, case_id: str) -> str:
    return (
        path.replace("{case_id}", case_id)
        .replace("{name}", quote("currency"))
        .replace("{number}", "1")
        .replace("{index}", "0")
        .replace("{username}", "reviewer")
    )


def test_the_route_list_is_what_the_checks_below_cover(station):
    settings, *_ = station
    found = routes(settings)
    assert set(found) >= PUBLIC | ADMIN_ONLY | SUPERVISOR
    assert ("POST", "/cases/{case_id}/approve") in found
    assert len(found) >= 12


def test_anonymous_requests_are_sent_to_sign_in(station):
    settings, case, url, _ = station
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        for method, path in routes(settings):
            if (method, path) in PUBLIC:
                continue
            answer = client.request(method, concrete(path, case.id), data={"csrf": "x"})
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/login"), (method, path)
        login = client.get("/login")
        assert login.status_code == 200 and 'name="password"' in login.text
    assert store_for(settings).get(case.id).fields["currency"].value == "GBPX"


def test_roles_gate_the_supervisor_and_admin_pages(station):
    _, case, url, passwords = station
    with closing(client_for(url, "reviewer", passwords["reviewer"])) as reviewer:
        assert reviewer.get("/").status_code == 200
        assert reviewer.get(f"/cases/{case.id}").status_code == 200
        assert reviewer.get("/admin/users").status_code == 403
        assert reviewer.get("/audit").status_code == 403
        token = csrf_of(reviewer.get("/").text)
        off = reviewer.post("/admin/users/admin/disabled", data={"csrf": token, "disabled": "1"})
        assert off.status_code == 403
        token = csrf_of(reviewer.get("/").text)
        added = reviewer.post(
            "/admin/users",
            data={"csrf": token, "username": "mallory", "password": "x" * 12, "role": "admin"},
        )
        assert added.status_code == 403
    with closing(client_for(url, "supervisor", passwords["supervisor"])) as supervisor:
        assert supervisor.get("/audit").status_code == 200
        assert supervisor.get("/admin/users").status_code == 403
    with closing(client_for(url, "admin", passwords["admin"])) as admin:
        assert admin.get("/audit").status_code == 200
        page = admin.get("/admin/users")
        assert page.status_code == 200 and "supervisor" in page.text
        added = admin.post(
            "/admin/users",
            data={
                "csrf": csrf_of(page.text),
                "username": "carol",
                "password": "correct horse battery",
                "role": "reviewer",
            },
        )
        assert added.status_code == 303
        assert "carol" in admin.get("/admin/users").text
    assert client_for(url, "carol", "correct horse battery").get("/").status_code == 200
    with pytest.raises(AssertionError):
        client_for(url, "mallory", "x" * 12)


def test_a_post_without_a_valid_csrf_token_is_refused(station):
    settings, case, url, passwords = station
    with closing(client_for(url, "admin", passwords["admin"])) as admin:
        for method, path in routes(settings):
            if method != "POST":
                continue
            target = concrete(path, case.id)
            form = {"value": "GBP", "reason": "no", "username": "eve", "password": "p" * 10}
            for token in (None, "forged-token"):
                data = form if token is None else {**form, "csrf": token}
                answer = admin.post(target, data=data)
                assert answer.status_code == 403, (path, token, answer.status_code)
        assert admin.get("/").status_code == 200  # still signed in: logout was refused too
    stored = store_for(settings).get(case.id)
    assert stored.state is CaseState.review
    assert stored.fields["currency"].value == "GBPX"
    assert all(u.username != "eve" for u in store_for(settings).users())


def test_sign_in_refuses_a_wrong_password_and_stores_only_a_hash(station):
    settings, _, url, passwords = station
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)
        wrong = client.post(
            "/login", data={"username": "reviewer", "password": "not-it", "csrf": token}
        )
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        assert client.get("/").status_code == 303
    stored = store_for(settings).user("reviewer")
    assert stored.password_hash.startswith("$argon2id$")
    assert passwords["reviewer"] not in stored.password_hash
    assert password_matches(stored.password_hash, passwords["reviewer"])
    assert not password_matches(None, passwords["reviewer"])


def age_sessions(settings: Settings, user: str, **seconds: float) -> None:
    """Move the stored sessions of ``user`` back in time (``seen_at=..., created_at=...``)."""
    store = store_for(settings)
    table = review_sessions
    with store.engine.begin() as tx:
        for column, back in seconds.items():
            when = utcnow() - timedelta(seconds=back)
            tx.execute(table.update().where(table.c.username == user).values({column: when}))


def test_sessions_expire_when_idle_and_after_their_lifetime(station):
    settings, _, url, passwords = station
    idle_s = settings.review_session_idle_s
    with closing(client_for(url, "supervisor", passwords["supervisor"])) as idle:
        assert idle.get("/").status_code == 200
        age_sessions(settings, "supervisor", seen_at=idle_s - 60)
        assert idle.get("/").status_code == 200  # used within the idle time: still open
        age_sessions(settings, "supervisor", seen_at=idle_s + 1)
        assert idle.get("/").status_code == 303  # idle too long
    with closing(client_for(url, "supervisor", passwords["supervisor"])) as old:
        age_sessions(settings, "supervisor", created_at=settings.review_session_max_s + 1)
        assert old.get("/").status_code == 303  # used all along, but signed in too long ago
    # a cookie of the former kind (signed, carrying a user and a role) opens nothing
    forged = URLSafeTimedSerializer(session_secret(settings), salt="rekey-review-session")
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        client.cookies.set("rekey_review", forged.dumps(["x", "admin", "admin", time.time()]))
        assert client.get("/").status_code == 303


def test_users_are_added_from_the_command_line(tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from rekey.cli import app

    monkeypatch.setenv("REKEY_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(
        app, ["users", "add", "dana", "--role", "supervisor"], input="long-enough-pw\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "dana" in result.output
    store = store_for(Settings(_env_file=None, data_dir=tmp_path / "var"))  # type: ignore[call-arg]
    user = store.user("dana")
    assert user.role == "supervisor" and password_matches(user.password_hash, "long-enough-pw")
    refused = CliRunner().invoke(
        app, ["users", "add", "erin", "--role", "boss"], input="long-enough-pw\n" * 2
    )
    assert refused.exit_code != 0 and store.user("erin") is None
