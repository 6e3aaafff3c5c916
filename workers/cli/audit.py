"""``childreg audit …``: the auditors' commands over the event store (README: "Auditing").

- ``history KEY``: the timeline of one registration (table, or ``--json`` JSON lines);
- ``state KEY --at TIME | --version N``: the registration as it stood then (JSON);
- ``verify [KEY | --all]``: hash chains and seals; exit 1 on any finding;
- ``rebuild --check``: replay into scratch read models and compare with the live ones;
- ``seal``: extend the sealed global chain (the projector does it too; needs write access);
- ``replay-workflows``: replay recorded Temporal histories with the current workflow code.

KEY is a request id or a registration id. Nothing printed holds personal data, except
``state --personal``, which adds the submitted request on purpose. Every command but ``seal``
opens read-only transactions, through ``CHILDREG_AUDIT_DATABASE_URL`` when it is set.
Exit codes: 0 clean, 1 a finding (or not found), 2 bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.contract import VIETNAM
from domain.registration import Registration
from projections.audit import seal as sealing
from projections.audit.rebuild_check import check as rebuild_check
from projections.audit.store import (
    ErasedData,
    EventDecoder,
    StoredRow,
    UndecodableEvent,
    stream,
)
from projections.audit.timeline import (
    NoSuchMoment,
    TimelineEntry,
    erased_entry,
    registration_key,
    state_at,
    timeline,
    version_at,
)
from projections.audit.verify import Finding, VerifyReport, verify_all, verify_registration
from projections.catalogue import NAMES
from workers.bootstrap import AuditUnavailable, AuditWiring, audit_wiring
from workers.bootstrap import auditing as _auditing
from workers.cli.common import JsonOption, settings_or_exit
from workers.run.sealer import seal_once

audit_app = typer.Typer(
    help="Auditors: history, state at any moment, tamper evidence, read-model and workflow checks.",
    no_args_is_help=True,
)

KeyArgument = Annotated[
    str, typer.Argument(metavar="REQUEST_ID|REGISTRATION_ID", help="A request or registration id.")
]


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the ``childreg`` command."""
    app.add_typer(audit_app, name="audit")


def _wiring() -> AuditWiring:
    return audit_wiring(settings_or_exit())


@contextmanager
def auditing(wiring: AuditWiring) -> Iterator[tuple[psycopg.Connection[Any], EventDecoder]]:
    try:
        with _auditing(wiring) as opened:
            yield opened
    except AuditUnavailable as error:
        raise _fail(str(error)) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _events(wiring: AuditWiring, registration_id: UUID) -> list[Registration.Event]:
    """One registration's readable events (see :func:`_read`)."""
    return _read(wiring, registration_id)[0]


def _read(
    wiring: AuditWiring, registration_id: UUID
) -> tuple[list[Registration.Event], list[StoredRow]]:
    """One registration's events, checked first: an auditor is told when the history they are
    about to read does not verify (and what they see is then only up to the break). The events
    of an erased registration that can no longer be read come second (they are not a break)."""
    with auditing(wiring) as (connection, decoder):
        with connection.transaction():
            rows = stream(connection, registration_id)
        if not rows:
            raise _fail(f"no registration {registration_id} in the event store")
        report = verify_registration(connection, decoder, registration_id)
        events = []
        erased: list[StoredRow] = []
        for row in rows:
            try:
                events.append(decoder.decode(row))
            except ErasedData:
                erased.append(row)
            except UndecodableEvent as error:
                typer.echo(f"warning: {error}", err=True)
                break
    for finding in report.findings:
        typer.echo(f"warning: this history does not verify: {_finding_line(finding)}", err=True)
    return events, erased


@audit_app.command()
def history(key: KeyArgument, as_json: JsonOption = False) -> None:
    """The ordered timeline: version, time, event, actor, cause and a one-line summary."""
    events, erased = _read(_wiring(), registration_key(key))
    erasure = next((event for event in events if isinstance(event, Registration.Erased)), None)
    entries = sorted(
        [
            *timeline(events),
            *(erased_entry(row.originator_version, row.topic, erasure) for row in erased),
        ],
        key=lambda entry: entry.version,
    )
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.as_dict(), ensure_ascii=False))
        return
    Console(width=200).print(timeline_table(entries))


def timeline_table(entries: list[TimelineEntry]) -> Table:
    first = entries[0] if entries else None
    title = f"registration {first.correlation_id}" if first else "registration"
    table = Table("v", "time (UTC)", "event", "actor", "cause", "summary", title=title)
    for entry in entries:
        table.add_row(
            str(entry.version),
            entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry.event,
            f"{entry.actor_kind}:{entry.actor_id}",
            entry.cause,
            entry.summary,
        )
    return table


def _moment(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            "an ISO 8601 time such as 2026-11-25T09:30:00+07:00", param_hint="--at"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=VIETNAM)


@audit_app.command()
def state(
    key: KeyArgument,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="ISO 8601 time; without an offset, Vietnam time (UTC+7).",
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", metavar="N", help="The version to show.")
    ] = None,
    personal: Annotated[
        bool,
        typer.Option(
            "--personal",
            help="Also print the submitted request (names, codes, contacts): personal data.",
        ),
    ] = False,
) -> None:
    """The registration as it stood at a time or a version, as JSON (no personal data unless
    --personal)."""
    if (at is None) == (version is None):
        raise typer.BadParameter("give exactly one of --at TIME and --version N")
    moment = _moment(at) if at is not None else None
    events = _events(_wiring(), registration_key(key))
    try:
        chosen = version if version is not None else version_at(events, moment)  # type: ignore[arg-type]
        answer = state_at(events, chosen, personal=personal)
    except NoSuchMoment as error:
        raise _fail(str(error)) from None
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@audit_app.command()
def verify(
    key: Annotated[
        str | None,
        typer.Argument(metavar="[REQUEST_ID|REGISTRATION_ID]", help="One registration."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every registration, the seals and the global chain.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chains and compare with the seals; exit 1 on any finding."""
    if (key is None) == (not every):
        raise typer.BadParameter("give a registration, or --all")
    wiring = _wiring()
    with auditing(wiring) as (connection, decoder):
        if key is not None:
            report = verify_registration(connection, decoder, registration_key(key))
        else:
            with _progress(as_json) as progress:
                task = progress.add_task("verifying", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                report = verify_all(connection, decoder, advance)
    _print_report(report, as_json)
    if not report.clean:
        raise typer.Exit(1)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )


def _finding_line(finding: Finding) -> str:
    where = str(finding.registration_id) if finding.registration_id else "global chain"
    version = f" version {finding.version}" if finding.version is not None else ""
    return f"{where}{version}: {finding.what}"


def _print_report(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        plain: dict[str, Any] = {
            "registrations": report.registrations,
            "events": report.events,
            "sealed_events": report.sealed_events,
            "unsealed_events": report.unsealed_events,
            "findings": [finding.as_dict() for finding in report.findings],
        }
        typer.echo(json.dumps(plain, indent=2))
        return
    for finding in report.findings:
        typer.echo(f"FINDING {_finding_line(finding)}")
    summary = f"{report.registrations} registrations, {report.events} events checked"
    if report.sealed_events or report.unsealed_events:
        summary += (
            f"; {report.sealed_events} sealed in the global chain, "
            f"{report.unsealed_events} recorded since the last seal"
        )
    verdict = "clean" if report.clean else f"{len(report.findings)} finding(s)"
    typer.echo(f"{summary}: {verdict}")


@audit_app.command()
def rebuild(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help=f"One of {', '.join(NAMES)}; all when omitted."),
    ] = None,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Compare only (required: an auditor never swaps)."),
    ] = False,
) -> None:
    """Replay the events into scratch read models and compare them with the live ones, row by
    row; exit 1 on any difference. (Rebuilding for real is ``childreg projections rebuild``.)"""
    if not check_only:
        raise typer.BadParameter("auditors only compare: add --check")
    if name is not None and name not in NAMES:
        raise typer.BadParameter(f"unknown read model; one of {', '.join(NAMES)}")
    wiring = _wiring()
    with auditing(wiring) as (connection, decoder), _progress(False) as progress:
        tasks: dict[str, Any] = {}

        def advance(model: str, done: int, total: int) -> None:
            if model not in tasks:
                tasks[model] = progress.add_task(model, total=total)
            progress.update(tasks[model], completed=done, total=total)

        results = rebuild_check(
            connection,
            wiring.event_store_env(),
            wiring.digest_key,
            decoder,
            [name] if name else None,
            advance,
        )
    differences = 0
    for result in results:
        for difference in result.differences:
            typer.echo(
                f"DIFFERENCE {difference.read_model} {difference.table} "
                f"{difference.registration_id}: {difference.what}"
            )
        differences += len(result.differences)
        verdict = "same" if not result.differences else f"{len(result.differences)} difference(s)"
        typer.echo(
            f"{result.name}: {result.rows} live rows at position {result.position}: {verdict}"
        )
    if differences:
        raise typer.Exit(1)


@audit_app.command()
def seal(
    every: Annotated[
        int, typer.Option("--every", min=1, help="A periodic checkpoint every N events.")
    ] = sealing.DEFAULT_EVERY,
) -> None:
    """Extend the sealed global chain over the events recorded since the last seal (the
    projector does this continuously; this command needs the service's role, not the audit
    role). Prints the head digest: publish it somewhere the database's administrators can't
    change, and later heads can be checked against it."""
    wiring = _wiring()
    report = seal_once(wiring.write_url, every)
    head = report.head
    if head is None:
        typer.echo("nothing to seal: the event store is empty")
        return
    typer.echo(
        f"sealed {report.sealed} new event(s); head: {head.events} events up to notification id "
        f"{head.notification_id}, digest {head.digest}"
    )


@audit_app.command("replay-workflows")
def replay_workflows(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="[DIR]", help="Recorded histories (*.json); tests/histories by default."
        ),
    ] = None,
    from_server: Annotated[
        str | None,
        typer.Option(
            "--from-server",
            metavar="QUERY",
            help="Fetch histories from Temporal with a visibility query instead "
            "(e.g. \"WorkflowType='ChildAccountRegistration'\").",
        ),
    ] = None,
) -> None:
    """Replay recorded workflow histories with the current workflow code; exit 1 if any
    replay is non-deterministic (the change would break running registrations)."""
    from workers.replay import replay_directory, replay_from_server

    if directory is not None and from_server is not None:
        raise typer.BadParameter("give DIR or --from-server, not both")
    settings = settings_or_exit()
    if from_server is not None:
        results = replay_from_server(settings, from_server)
    else:
        results = replay_directory(directory or Path("tests/histories"), settings)
    failed = 0
    for result in results:
        verdict = "ok" if result.failure is None else f"FAILED: {result.failure}"
        typer.echo(f"{result.name}: {verdict}")
        failed += result.failure is not None
    typer.echo(f"{len(results)} histories replayed, {failed} failed")
    if failed or not results:
        raise typer.Exit(1)
