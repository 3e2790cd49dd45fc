"""Sessions kept in the case store and sign-in limits, over real HTTP against a served
station: the cookie holds only a random id, sign-out and disabling a user end sessions at
once, the role is read on every request, failed sign-ins are refused for a growing time per
user and per address, weak passwords are refused, and sign-ins are audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from typer.testing import CliRunner

from rekey.cli import app as cli
from rekey.errors import ConfigError
from rekey.models import utcnow
from rekey.pipeline import store_for
from rekey.review import auth
from rekey.review.app import create_user
from rekey.review.server import running_review
from rekey.settings import Settings
from rekey.store import sign_in_failures, users
from tests.review_support import add_user, csrf_of, post_form, signed_in


@pytest.fixture()
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A served station of its own (sign-in limits count per address: all of these tests
    come from 127.0.0.1), with the command line pointed at the same data folder."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    monkeypatch.setenv("REKEY_DATA_DIR", str(tmp_path / "var"))
    with running_review(settings) as url:
        yield settings, url


def sign_in(url: str, user: str, password: str, forwarded_for: str = "") -> httpx.Response:
    """One sign-in attempt; ``forwarded_for``: sent as a proxy would (X-Forwarded-For)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    with httpx.Client(base_url=url, follow_redirects=False, headers=headers) as client:
        token = csrf_of(client.get("/login").text)
        return client.post("/login", data={"username": user, "password": password, "csrf": token})


@contextmanager
def station_with(tmp_path: Path, **options) -> Iterator[tuple[Settings, str]]:
    """A served station of its own with these settings."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", **options)  # type: ignore[call-arg]
    with running_review(settings) as url:
        yield settings, url


def addresses(settings: Settings) -> tuple[list[str], set[str]]:
    """The addresses the sign-in events name, and the keys failures are counted under."""
    trail = [e.detail["address"] for e in store_for(settings).events() if "address" in e.detail]
    with store_for(settings).engine.connect() as tx:
        keys = set(tx.execute(sa.select(sign_in_failures.c.key)).scalars())
    return trail, keys


def with_cookie(url: str, cookie: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False)
    client.cookies.set(auth.COOKIE, cookie)
    return client


def test_the_cookie_is_a_random_id_and_sign_out_revokes_it(station):
    settings, url = station
    password = add_user(settings, "rosa", "admin")
    with closing(signed_in(url, "rosa", password)) as rosa:
        cookie = rosa.cookies[auth.COOKIE]
        assert "rosa" not in cookie and "admin" not in cookie and len(cookie) >= 40
        stored = store_for(settings).session(auth.id_hash(cookie))
        assert stored.username == "rosa" and stored.revoked_at is None
        with closing(with_cookie(url, cookie)) as copy:  # the cookie alone opens pages
            assert copy.get("/admin/users").status_code == 200
        # the role is read from the store on every request, not from the cookie
        with store_for(settings).engine.begin() as tx:
            tx.execute(users.update().where(users.c.username == "rosa").values(role="reviewer"))
        assert rosa.get("/admin/users").status_code == 403
        assert post_form(rosa, "/", "/logout").status_code == 303
    with closing(with_cookie(url, cookie)) as copy:  # kept after sign-out: opens nothing
        assert copy.get("/").status_code == 303
    assert store_for(settings).session(auth.id_hash(cookie)).revoked_at is not None


def test_a_deleted_users_cookie_stops_working_at_once(station):
    settings, url = station
    password = add_user(settings, "dora")
    with closing(signed_in(url, "dora", password)) as dora:
        assert dora.get("/").status_code == 200
        with store_for(settings).engine.begin() as tx:
            tx.execute(users.delete().where(users.c.username == "dora"))
        assert dora.get("/").status_code == 303


def test_disable_enable_and_passwd_from_the_command_line(station):
    settings, url = station
    password = add_user(settings, "vic")
    runner = CliRunner()
    with closing(signed_in(url, "vic", password)) as vic:
        off = runner.invoke(cli, ["users", "disable", "vic"])
        assert off.exit_code == 0, off.output
        assert vic.get("/").status_code == 303  # the open session ended at once
    refused = sign_in(url, "vic", password)
    assert refused.status_code == 403 and "disabled" in refused.text
    assert runner.invoke(cli, ["users", "enable", "vic"]).exit_code == 0
    with closing(signed_in(url, "vic", password)) as vic:
        weak = runner.invoke(cli, ["users", "passwd", "vic"], input="password\npassword\n")
        assert weak.exit_code != 0 and "12 characters" in weak.output
        assert vic.get("/").status_code == 200  # a refused change ends nothing
        new = "violet tram sixty lanterns"
        changed = runner.invoke(cli, ["users", "passwd", "vic"], input=f"{new}\n{new}\n")
        assert changed.exit_code == 0, changed.output
        assert vic.get("/").status_code == 303
    assert sign_in(url, "vic", password).status_code == 401
    assert sign_in(url, "vic", "violet tram sixty lanterns").status_code == 303
    missing = runner.invoke(cli, ["users", "disable", "nobody"])
    assert missing.exit_code != 0 and "no user named 'nobody'" in missing.output


def test_an_admin_disables_a_user_on_the_users_page(station):
    settings, url = station
    root, rita = add_user(settings, "root", "admin"), add_user(settings, "rita")
    with (
        closing(signed_in(url, "rita", rita)) as reviewer,
        closing(signed_in(url, "root", root)) as admin,
    ):
        off = post_form(admin, "/admin/users", "/admin/users/rita/disabled", disabled="1")
        assert off.status_code == 303
        assert "disabled" in admin.get("/admin/users").text
        assert reviewer.get("/").status_code == 303
        itself = post_form(admin, "/admin/users", "/admin/users/root/disabled", disabled="1")
        assert itself.status_code == 409
        on = post_form(admin, "/admin/users", "/admin/users/rita/disabled", disabled="0")
        assert on.status_code == 303
    assert sign_in(url, "rita", rita).status_code == 303


def unblock(settings: Settings) -> None:
    """Let the refusals run out, as time would."""
    past = utcnow() - timedelta(seconds=1)
    with store_for(settings).engine.begin() as tx:
        tx.execute(sign_in_failures.update().values(blocked_until=past))


def test_failed_sign_ins_are_refused_for_a_growing_time_per_user(station):
    settings, url = station
    password = add_user(settings, "una")
    free = settings.review_sign_in_free_failures
    answers = [sign_in(url, "una", f"guess-number-{n}") for n in range(free + 1)]
    assert [a.status_code for a in answers] == [401] * (free + 1)
    assert "try again after" not in answers[0].text
    assert "Too many failed sign-ins: try again after" in answers[-1].text
    right = sign_in(url, "una", password)  # refused at once, the password not even checked
    assert right.status_code == 429 and "(in 30 s)" in right.text
    unblock(settings)
    again = sign_in(url, "una", "guess-number-again")  # one more failure: twice as long
    assert again.status_code == 401 and "(in 60 s)" in again.text
    unblock(settings)
    assert sign_in(url, "una", password).status_code == 303
    with store_for(settings).engine.connect() as tx:  # success forgets the user's failures
        keys = set(tx.execute(sa.select(sign_in_failures.c.key)).scalars())
    assert "user:una" not in keys and "address:127.0.0.1" in keys


def test_failed_sign_ins_from_one_address_block_it_for_every_user(station):
    settings, url = station
    password = add_user(settings, "ike")
    for n in range(settings.review_sign_in_free_failures + 1):  # a different name each time
        assert sign_in(url, f"someone{n}", "wrong-password").status_code == 401
    refused = sign_in(url, "ike", password)
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    unblock(settings)
    assert sign_in(url, "ike", password).status_code == 303


def test_the_back_off_doubles_up_to_an_hour():
    limits = auth.sign_in_limits(Settings(_env_file=None))  # type: ignore[call-arg]
    assert [limits.block_seconds(n) for n in range(1, 9)] == [0, 0, 0, 0, 30, 60, 120, 240]
    assert limits.block_seconds(40) == limits.block_seconds(10_000) == 3600
    assert limits.forget_after == timedelta(days=1)


def test_the_limits_are_settings_and_a_lower_one_takes_effect(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("REKEY_REVIEW_SIGN_IN_FREE_FAILURES", "1")
    monkeypatch.setenv("REKEY_REVIEW_SIGN_IN_FIRST_BLOCK_S", "5")
    monkeypatch.setenv("REKEY_REVIEW_SIGN_IN_MAX_BLOCK_S", "8")
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    limits = auth.sign_in_limits(settings)
    assert [limits.block_seconds(n) for n in range(1, 5)] == [0, 5, 8, 8]
    password = add_user(settings, "lou")
    with running_review(settings) as url:
        assert sign_in(url, "lou", "guess-one").status_code == 401
        second = sign_in(url, "lou", "guess-two")
        assert second.status_code == 401 and "(in 5 s)" in second.text
        assert sign_in(url, "lou", password).status_code == 429
    monkeypatch.setenv("REKEY_REVIEW_SIGN_IN_MAX_BLOCK_S", "2")
    with pytest.raises(ValidationError, match="REKEY_REVIEW_SIGN_IN_MAX_BLOCK_S"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("REKEY_REVIEW_SIGN_IN_FREE_FAILURES", "-1")
    with pytest.raises(ValidationError, match="review_sign_in_free_failures"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_forwarded_address_is_ignored_unless_a_trusted_proxy_sent_it(tmp_path: Path):
    for n, trusted in enumerate(([], ["10.9.9.9"])):  # none, or not the one connecting
        with station_with(tmp_path / str(n), review_trusted_proxies=trusted) as station:
            settings, url = station
            assert sign_in(url, "mo", "wrong-password", "203.0.113.9").status_code == 401
            trail, keys = addresses(settings)
            assert trail == ["127.0.0.1"] and "address:127.0.0.1" in keys
            assert not [k for k in keys if "203.0.113" in k]


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_address(tmp_path: Path):
    options = {"review_trusted_proxies": ["127.0.0.0/8"], "review_sign_in_free_failures": 1}
    with station_with(tmp_path, **options) as station:
        settings, url = station
        password = add_user(settings, "nia")
        for n in range(2):
            answer = sign_in(url, f"guesser{n}", "wrong-password", "203.0.113.9")
            assert answer.status_code == 401
        refused = sign_in(url, "nia", password, "203.0.113.9")  # that client is refused
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        assert sign_in(url, "nia", password, "198.51.100.7").status_code == 303  # another is not
        trail, keys = addresses(settings)
    assert trail == ["203.0.113.9"] * 3 + ["198.51.100.7"]
    assert "address:203.0.113.9" in keys and "address:127.0.0.1" not in keys


@pytest.mark.parametrize(
    "weak",
    ["password", "12345678", "short-pw", "passwordpassword", "qwertyuiop123", "Password123!"],
)
def test_weak_passwords_are_refused(tmp_path: Path, weak: str):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    with pytest.raises(ConfigError):
        create_user(store_for(settings), "wendy", weak, "reviewer")
    assert store_for(settings).user("wendy") is None
    assert auth.password_problem("wendy-wendy-wendy-1", "wendy") is not None  # the name itself
    assert auth.password_problem("correct horse battery") is None


def test_the_users_page_refuses_a_weak_password(station):
    settings, url = station
    root = add_user(settings, "root", "admin")
    with closing(signed_in(url, "root", root)) as admin:
        for weak, why in (("12345678", "at least 12"), ("password1234", "too easy to guess")):
            data = {"username": "wes", "password": weak, "role": "reviewer"}
            added = post_form(admin, "/admin/users", "/admin/users", **data)
            assert added.status_code == 400 and why in added.text
    assert store_for(settings).user("wes") is None


def test_signing_in_again_replaces_the_session(station):
    settings, url = station
    password = add_user(settings, "sal")
    with closing(signed_in(url, "sal", password)) as sal:
        first = sal.cookies[auth.COOKIE]
        again = post_form(sal, "/login", "/login", username="sal", password=password)
        assert again.status_code == 303 and sal.cookies[auth.COOKIE] != first
        assert sal.get("/").status_code == 200
    with closing(with_cookie(url, first)) as old:
        assert old.get("/").status_code == 303


def test_sign_ins_are_audited_for_admins_without_passwords(station):
    settings, url = station
    root = add_user(settings, "root", "admin")
    boss = add_user(settings, "boss", "supervisor")
    assert sign_in(url, "root", "not-the-password-1").status_code == 401
    assert sign_in(url, "ghost", "not-the-password-2").status_code == 401
    trail = [e for e in store_for(settings).events() if e.action.startswith("sign_in:")]
    assert [(e.action, e.detail["user"]) for e in trail] == [
        ("sign_in:failed", "root"),
        ("sign_in:failed", "ghost"),
    ]
    assert all(e.detail["address"] == "127.0.0.1" for e in trail)
    assert "not-the-password" not in str([e.detail for e in store_for(settings).events()])
    with closing(signed_in(url, "root", root)) as admin:
        page = admin.get("/audit").text
        assert "sign_in:failed ghost from 127.0.0.1" in page and "sign_in:ok root" in page
    with closing(signed_in(url, "boss", boss)) as supervisor:
        assert "sign_in:" not in supervisor.get("/audit").text
    log = CliRunner().invoke(cli, ["users", "log"], terminal_width=200)
    assert log.exit_code == 0, log.output
    assert "sign_in:failed" in log.output and "ghost" in log.output
    assert "sign_in:ok" in log.output
