"""``rekey review``, ``rekey users add`` and ``rekey key-approved``."""

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
) -> None:
    """Serve the review station until interrupted."""
    from rekey.cli import console
    from rekey.review.server import serve

    settings = Settings()
    console.print(
        f"review station: http://{host or settings.review_host}:{port or settings.review_port}/"
        "  (add users with `rekey users add NAME --role reviewer`)"
    )
    serve(settings, host, port)


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


def key_approved() -> None:
    """Key every case a reviewer approved (the Prefect flow ``key_approved``)."""
    from rekey.cli import console, outcome_table, with_password
    from rekey.runtime import configure_prefect

    settings = with_password(Settings())
    configure_prefect(settings)
    from flows.process import key_approved as flow
    from rekey.prefect_env import quiet_flows

    with quiet_flows():
        outcomes = flow(settings)
    console.print(outcome_table(outcomes))
