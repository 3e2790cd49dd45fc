"""``rekey review``, ``rekey users add|disable|enable|passwd|log`` and ``rekey key-approved``."""

from __future__ import annotations

import typer

from rekey.settings import Settings

users_app = typer.Typer(no_args_is_help=True, help="Users of the review station.")


def register(app: typer.Typer) -> None:
    """Add the review station's commands to the ``rekey`` command line."""
    app.command()(review)
    app.command(name="key-approved")(key_approved)
    app.add_typer(users_app, name="users")


def review(
    host: str | None = typer.Option(None, help="Address (default: REKEY_REVIEW_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: REKEY_REVIEW_PORT)."),
    workers: int | None = typer.Option(None, help="Processes (default: REKEY_REVIEW_WORKERS)."),
) -> None:
    """Serve the review station until interrupted; its URL is printed once it answers."""
    from rekey.cli import console
    from rekey.review.server import serve

    settings = Settings()

    def ready(url: str) -> None:
        console.print(f"review station: {url}  (add users with `rekey users add NAME`)")

    serve(settings, host, port, workers, on_ready=ready)


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="The user name to sign in with."),
    role: str = typer.Option("reviewer", help="reviewer, supervisor or admin."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="REKEY_NEW_USER_PASSWORD",
        help="Asked for when not given (or taken from REKEY_NEW_USER_PASSWORD).",
    ),
) -> None:
    """Create a user of the review station (the password is stored argon2-hashed)."""
    from rekey.cli import console
    from rekey.pipeline import store_for
    from rekey.review.app import create_user

    user = create_user(store_for(Settings()), username, password, role)
    console.print(f"user [bold]{user.username}[/] added with role {user.role}")


def _change(username: str, **change) -> None:
    from rekey.cli import console
    from rekey.errors import RekeyError
    from rekey.pipeline import store_for

    try:
        user = store_for(Settings()).change_user(username, "cli", **change)
    except RekeyError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    state = "disabled" if user.disabled else "enabled"
    console.print(f"user [bold]{user.username}[/] is {state}; their sessions have ended")


@users_app.command("disable")
def disable(username: str = typer.Argument(..., help="The user to disable.")) -> None:
    """Stop a user from signing in; their open sessions end at once."""
    _change(username, disabled=True)


@users_app.command("enable")
def enable(username: str = typer.Argument(..., help="The user to enable again.")) -> None:
    """Let a disabled user sign in again."""
    _change(username, disabled=False)


@users_app.command("passwd")
def passwd(
    username: str = typer.Argument(..., help="The user whose password changes."),
    password: str = typer.Option(
        ...,
        prompt="New password",
        hide_input=True,
        confirmation_prompt=True,
        envvar="REKEY_NEW_USER_PASSWORD",
        help="Asked for when not given (or taken from REKEY_NEW_USER_PASSWORD).",
    ),
) -> None:
    """Set a new password (12+ characters, not easy to guess); the user's sessions end."""
    from rekey.cli import console
    from rekey.errors import RekeyError
    from rekey.pipeline import store_for
    from rekey.review.app import set_password

    try:
        set_password(store_for(Settings()), username, password, "cli")
    except RekeyError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"password of [bold]{username}[/] changed; their sessions have ended")


@users_app.command("log")
def log(
    limit: int = typer.Option(50, help="How many of the latest events."),
    user: str | None = typer.Option(None, help="Only this user's."),
) -> None:
    """Sign-ins (successful, failed, refused) and changes to users, latest last."""
    from rekey.cli import console
    from rekey.pipeline import store_for

    events = [
        e
        for e in store_for(Settings()).events()
        if e.action.startswith(("sign_in:", "user:"))
        and (user is None or e.detail.get("user") == user)
    ]
    for e in events[-limit:]:  # one line each, to read or to grep
        detail = {"by": e.actor} | e.detail
        text = " ".join(f"{k}={v}" for k, v in detail.items())
        console.print(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.action:<16} {text}", markup=False, soft_wrap=True
        )


def key_approved() -> None:
    """Key every case a reviewer approved (the Prefect flow ``key_approved``)."""
    from rekey.cli import console, outcome_table
    from rekey.runtime import configure_prefect, with_password

    settings = with_password(Settings())
    configure_prefect(settings)
    from flows.process import key_approved as flow
    from rekey.prefect_env import quiet_flows

    with quiet_flows():
        outcomes = flow(settings)
    console.print(outcome_table(outcomes))


DEMO_USERS = (("reviewer", "reviewer"), ("supervisor", "supervisor"))


def demo_users(settings: Settings) -> list[tuple[str, str]]:
    """The demo's review station users (two, for four-eyes approvals), each with a password
    generated once into the data folder (``review/NAME.password``, owner-only); returns
    (user, password file) pairs."""
    import secrets

    from rekey.pipeline import store_for
    from rekey.review.app import create_user

    store = store_for(settings)
    made = []
    for name, role in DEMO_USERS:
        path = settings.review_dir / f"{name}.password"
        if store.user(name) is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            path.touch(mode=0o600)
            password = secrets.token_urlsafe(12)
            path.write_text(password)
            create_user(store, name, password, role)
        made.append((name, str(path)))
    return made


def demo_message(settings: Settings) -> str:
    """How to open the review station on the demo's cases."""
    from rekey.models import CaseState
    from rekey.pipeline import store_for

    users = demo_users(settings)
    waiting = len(store_for(settings).list([CaseState.review]))
    names = " and ".join(name for name, _ in users)
    return (
        f"  review:       run `rekey review`, then open "
        f"http://{settings.review_host}:{settings.review_port}/\n"
        f"                ({waiting} cases waiting; users {names}, passwords in "
        f"{settings.review_dir}/NAME.password)"
    )
