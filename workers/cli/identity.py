"""Who is deciding: ``childreg review`` proves the reviewer before anything goes to Temporal.

``--reviewer`` alone is no proof: the reviewer's console password is checked by the console's own
:class:`~web.console.signin.Authenticator` (the same argon2id hashes, the same lock after 5 failures,
each attempt recorded in ``reviewer_sign_ins`` with ``client = 'cli'``), or, when the organisation's
OIDC provider is configured, an ID token it issued (``--oidc-token-file``) names the reviewer. A
refusal ends the command with one line on stderr and exit code 1; nothing is sent.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from activities.reviewer_credentials import SignInClient
from web.console.oidc import OidcRefused, verify_id_token
from web.console.signin import Authenticator, SignInResult
from workers.bootstrap import oidc_config, resolve, reviewer_credentials
from workers.logs import configure_logging
from workers.settings import Settings, SettingsError

ReviewerOption = Annotated[
    str | None,
    typer.Option(
        "--reviewer",
        help="The reviewer's id in the registry (with an ID token: its claim, when omitted).",
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the reviewer's console password from standard input (one line). It is also "
        "read from standard input when that is not a terminal, else prompted for.",
    ),
]
OidcTokenFile = Annotated[
    Path | None,
    typer.Option(
        "--oidc-token-file",
        exists=True,
        dir_okay=False,
        readable=True,
        help="An ID token of the organisation's OIDC provider (CHILDREG_OIDC_ISSUER) instead "
        "of the password.",
    ),
]

REFUSALS = {
    SignInResult.FAILED: "refused: wrong reviewer id or password; nothing was sent",
    SignInResult.LOCKED: "refused: the reviewer's account is locked for 15 minutes after "
    "5 failed attempts; nothing was sent",
    SignInResult.INACTIVE: "refused: the reviewer is not active in the registry; nothing was sent",
}


@dataclass(frozen=True)
class Proof:
    """What the reviewer gave: a password for ``reviewer_id``, or a verified ID token's reviewer."""

    reviewer_id: str
    password: str | None = None


def _refuse(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=code)


def proof_of(
    settings: Settings, reviewer: str | None, password_stdin: bool, token_file: Path | None
) -> Proof:
    """Read the password (or verify the ID token) before the decision is built."""
    if token_file is not None:
        try:
            config = oidc_config(settings)
        except SettingsError as error:
            raise _refuse(f"error: {error}", 2) from None
        if config is None:
            raise _refuse("error: --oidc-token-file: CHILDREG_OIDC_ISSUER is not set", 2)
        try:
            named = verify_id_token(config, token_file.read_text("utf-8"), datetime.now(UTC))
        except (OidcRefused, UnicodeDecodeError) as refused:
            raise _refuse(f"refused: {refused}; nothing was sent") from None
        if reviewer is not None and reviewer != named:
            raise _refuse("refused: --reviewer: not the reviewer the ID token names")
        return Proof(named)
    if reviewer is None:
        raise _refuse("error: --reviewer: required (or --oidc-token-file)", 2)
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Mật khẩu", hide_input=True)
    if not password:
        raise _refuse("error: password: empty (give it on standard input or at the prompt)", 2)
    return Proof(reviewer, password)


def authenticate(settings: Settings, proof: Proof) -> None:
    """Check the proof against the credentials store and the registry; exit 1 when refused."""
    configure_logging(settings.log_format, "warning")  # stdout is the command's JSON answer
    with reviewer_credentials(resolve(settings)) as (credentials, registry):
        authenticator = Authenticator(
            credentials, registry, lambda: datetime.now(UTC), client=SignInClient.CLI
        )
        if proof.password is None:
            outcome = authenticator.signed_in_by_provider(proof.reviewer_id)
        else:
            outcome = authenticator.sign_in(proof.reviewer_id, proof.password)
    if outcome.result is SignInResult.FAILED and proof.password is None:
        raise _refuse("refused: the ID token names no reviewer of the registry; nothing was sent")
    if outcome.result is not SignInResult.SIGNED_IN:
        raise _refuse(REFUSALS[outcome.result])
