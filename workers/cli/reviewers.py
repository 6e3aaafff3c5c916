"""``childreg reviewers …``: the reviewers' console passwords."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from web.console.signin import PasswordRejected, hash_password
from workers.bootstrap import reviewer_credentials
from workers.cli.common import resolved_or_exit

reviewers_app = typer.Typer(help="The reviewers' sign-in to the console.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``reviewers`` to the ``childreg`` command."""
    app.add_typer(reviewers_app, name="reviewers")


@reviewers_app.command("set-password")
def set_password(
    reviewer_id: Annotated[str, typer.Argument(help="A reviewer of the registry.")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Set REVIEWER_ID's console password (argon2id); clears any lock. The password is read from
    standard input (one line) when it is not a terminal or with --password-stdin, else prompted."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password)
    except PasswordRejected as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    with reviewer_credentials(resolved_or_exit()) as (credentials, registry):
        reviewer = registry.reviewer(reviewer_id)
        if reviewer is None:
            typer.echo("error: reviewer_id: no reviewer with this id in the registry", err=True)
            raise typer.Exit(1)
        credentials.set_password(reviewer_id, password_hash, datetime.now(UTC))
    note = "" if reviewer.active else " (the reviewer is inactive: they cannot sign in)"
    typer.echo(f"password set for {reviewer_id}{note}")
