"""The ``childreg`` commands of the registration workflow: documents, submit, review, withdraw.
Reviewers' decisions go through the update ``decide``, so a refusal comes back as an
error and a non-zero exit. A decision is sent only once the reviewer proved who they are
(their console password or an OIDC ID token: ``workers/cli/identity.py``)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import psycopg
import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.documents import DocumentRefused
from domain.contract import DecideUpdate, Outcome, RegistrationStatus, WithdrawSignal
from domain.errors import InvalidValue
from domain.registration import registration_id_for
from domain.values import RequestId, describe_validation_error, parse
from workers.bootstrap import cipher_key, data_keys, document_store, latest_position, resolve
from workers.cli.common import settings_or_exit
from workers.cli.identity import (
    OidcTokenFile,
    PasswordStdin,
    ReviewerOption,
    authenticate,
    proof_of,
)
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect
from workflows.registration import WORKFLOW_TYPE, workflow_id_for

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

documents_app = typer.Typer(help="The document intake.", no_args_is_help=True)
review_app = typer.Typer(
    help="A reviewer's decisions (through the update 'decide').", no_args_is_help=True
)

Note = Annotated[str | None, typer.Option("--note", help="A note for the guardian.")]
DecisionId = Annotated[
    str | None,
    typer.Option("--decision-id", help="Makes the decision idempotent; random when omitted."),
]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
OptionalFile = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def register(app: typer.Typer) -> None:
    """Add the workflow's commands to the ``childreg`` command."""
    app.command()(submit)
    app.command()(withdraw)
    app.add_typer(documents_app, name="documents")
    app.add_typer(review_app, name="review")


async def _client(settings: Settings) -> Client:
    return await connect(
        temporal_address(settings),
        settings.temporal_namespace,
        cipher_key(settings),
        data_keys=data_keys(resolve(settings)),
    )


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run one client call. The SDK's runtime threads can crash the interpreter's finalisation
    (PyGILState_Release) after a successful call, turning success into a failed exit; a command
    that talked to Temporal therefore leaves through :func:`_done`.

    The server's refusals (no such registration, already finished) and a server out of reach
    end the command with one line on stderr and exit code 1, not a traceback."""
    try:
        return asyncio.run(work)
    except RPCError as error:
        message = error.message
    except RuntimeError as error:
        if not str(error).startswith("Failed client connect"):
            raise
        message = f"Temporal is out of reach: {error}"
    typer.echo(f"error: {message}", err=True)
    return _done(1)


def _done(code: int = 0) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


@documents_app.command("put")
def documents_put(
    file: ExistingFile,
) -> None:
    """Check a JPEG or PNG by its content, put it into the intake and print its reference."""
    settings = settings_or_exit()
    try:
        store = document_store(settings, cipher_key(settings))
        reference = store.put(file.read_bytes())
    except DocumentRefused as refused:
        raise _fail(f"{file.name}: {refused.rule} ({refused.reason_code})") from None
    typer.echo(reference)


def submit(
    request: Annotated[
        Path,
        typer.Option("--request", exists=True, dir_okay=False, help="The request as JSON."),
    ],
    portrait: OptionalFile = None,
    birth_certificate: OptionalFile = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the outcome and print it.")
    ] = False,
) -> None:
    """Start a registration (the same as an upstream service does through Temporal)."""
    settings = settings_or_exit()
    body = _request_body(request)
    try:
        # The workflow id is made of it: checked here, before any document goes into the intake.
        request_id: str = parse(RequestId, body.get("request_id"), "request_id")
    except InvalidValue as invalid:
        raise _fail(f"{request.name}: {invalid}") from None
    store = document_store(settings, cipher_key(settings))
    try:
        for name, path in (("portrait", portrait), ("birth_certificate", birth_certificate)):
            if path is not None:
                documents = body.setdefault("documents", {})
                if not isinstance(documents, dict):
                    raise _fail(f"{request.name}: documents: must be a JSON object")
                documents[name] = store.put(path.read_bytes())
    except DocumentRefused as refused:
        raise _fail(f"documents: {refused.rule} ({refused.reason_code})") from None

    async def start() -> None:
        client = await _client(settings)
        try:
            handle = await client.start_workflow(
                WORKFLOW_TYPE,
                body,
                id=workflow_id_for(request_id),
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            # A finished id is not reused: starting again answers with the same registration.
            handle = client.get_workflow_handle(workflow_id_for(request_id))
        typer.echo(
            json.dumps(
                {"workflow_id": handle.id, "registration_id": str(registration_id_for(request_id))}
            )
        )
        if wait:
            typer.echo(json.dumps(await handle.result(), default=str, ensure_ascii=False))

    _run(start())
    _done()


def _request_body(request: Path) -> dict[str, Any]:
    """The request file as a JSON object; an error names the file and the rule, never the content."""
    try:
        body = json.loads(request.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(f"{request.name}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise _fail(f"{request.name}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(body, dict):
        raise _fail(f"{request.name}: must be a JSON object (a RegistrationRequest)")
    return body


def _message(model: type[M], **fields: Any) -> M:
    """A decision or signal as the contract has it; a bad option names the field and the rule
    (never the value: a note may name the child)."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(str(problem) for problem in describe_validation_error(error))
        raise _fail(f"error: {problems}") from None


def _decide(
    request_id: str,
    who: tuple[str | None, bool, Path | None],
    decision_id: str | None,
    outcome: Outcome,
    **fields: Any,
) -> None:
    """Prove the reviewer (``who``: ``--reviewer``, ``--password-stdin``, ``--oidc-token-file``),
    then send the ``decide`` update of ``outcome`` with ``fields`` as that reviewer."""
    settings = settings_or_exit()
    proof = proof_of(settings, *who)
    decision = _message(
        DecideUpdate,
        decision_id=decision_id or uuid.uuid4().hex,
        reviewer_id=proof.reviewer_id,
        outcome=outcome,
        **fields,
    )
    authenticate(settings, proof)  # exits before anything is sent when refused

    async def send() -> RegistrationStatus:
        client = await _client(settings)
        handle = client.get_workflow_handle(workflow_id_for(request_id))
        status: RegistrationStatus = await handle.execute_update(
            "decide", decision, result_type=RegistrationStatus
        )
        return status

    try:
        status = _run(send())
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        why = cause.message if isinstance(cause, ApplicationError) else str(cause)
        typer.echo(f"refused: {why}", err=True)
        _done(1)
    answer = status.model_dump(mode="json") | {"position": _store_position(settings)}
    typer.echo(json.dumps(answer, ensure_ascii=False))
    _done()


def _store_position(settings: Settings) -> int | None:
    """The event store's newest position once the decision is recorded: ``childreg status ID
    --wait-for POSITION`` then answers with the decision (None when the store is out of reach:
    the decision stands all the same)."""
    try:
        return latest_position(resolve(settings).database_url)
    except psycopg.OperationalError:
        return None


@review_app.command("approve")
def review_approve(
    request_id: str,
    reviewer: ReviewerOption = None,
    note: Note = None,
    decision_id: DecisionId = None,
    password_stdin: PasswordStdin = False,
    oidc_token_file: OidcTokenFile = None,
) -> None:
    """Approve a registration awaiting review."""
    _decide(
        request_id,
        (reviewer, password_stdin, oidc_token_file),
        decision_id,
        Outcome.APPROVE,
        note=note,
    )


@review_app.command("reject")
def review_reject(
    request_id: str,
    reviewer: ReviewerOption = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="A reviewer's reason code.")
    ] = None,
    note: Note = None,
    decision_id: DecisionId = None,
    password_stdin: PasswordStdin = False,
    oidc_token_file: OidcTokenFile = None,
) -> None:
    """Reject a registration with a reason code (OTHER needs a note)."""
    _decide(
        request_id,
        (reviewer, password_stdin, oidc_token_file),
        decision_id,
        Outcome.REJECT,
        reason_code=reason,
        note=note,
    )


@review_app.command("request-supplement")
def review_request_supplement(
    request_id: str,
    document: Annotated[
        list[str], typer.Option("--document", help="A document to supplement (repeatable).")
    ],
    note: Annotated[str, typer.Option("--note", help="What the guardian should supplement.")],
    reviewer: ReviewerOption = None,
    decision_id: DecisionId = None,
    password_stdin: PasswordStdin = False,
    oidc_token_file: OidcTokenFile = None,
) -> None:
    """Ask the guardian for supplementary documents."""
    _decide(
        request_id,
        (reviewer, password_stdin, oidc_token_file),
        decision_id,
        Outcome.REQUEST_SUPPLEMENT,
        documents=document,
        note=note,
    )


@review_app.command("confirm-rejection")
def review_confirm_rejection(
    request_id: str,
    reviewer: ReviewerOption = None,
    decision_id: DecisionId = None,
    password_stdin: PasswordStdin = False,
    oidc_token_file: OidcTokenFile = None,
) -> None:
    """Four-eyes offices: confirm another reviewer's proposed rejection (never your own)."""
    _decide(
        request_id,
        (reviewer, password_stdin, oidc_token_file),
        decision_id,
        Outcome.CONFIRM_REJECTION,
    )


@review_app.command("decline-rejection")
def review_decline_rejection(
    request_id: str,
    reviewer: ReviewerOption = None,
    note: Note = None,
    decision_id: DecisionId = None,
    password_stdin: PasswordStdin = False,
    oidc_token_file: OidcTokenFile = None,
) -> None:
    """Four-eyes offices: decline another reviewer's proposed rejection (back to review)."""
    _decide(
        request_id,
        (reviewer, password_stdin, oidc_token_file),
        decision_id,
        Outcome.DECLINE_REJECTION,
        note=note,
    )


def withdraw(
    request_id: str,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
) -> None:
    """Withdraw a registration before a decision (for the guardian, through the upstream)."""
    settings = settings_or_exit()
    signal = _message(WithdrawSignal, reason=reason)

    async def send() -> None:
        client = await _client(settings)
        await client.get_workflow_handle(workflow_id_for(request_id)).signal("withdraw", signal)

    _run(send())
    typer.echo(json.dumps({"workflow_id": workflow_id_for(request_id), "signal": "withdraw"}))
    _done()
