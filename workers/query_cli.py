"""``childreg status|queue|guardian|stats`` and ``childreg projections …``: the read models.

Each query prints a table, or with ``--json`` the answer's stable fields (README: "Queries").
``--wait-for POSITION`` first waits (up to ``--timeout`` seconds) until the read model has
applied the event at POSITION, the position a command reported: read-your-writes.
Exit codes: 0 answered, 1 not found or no read model, 2 bad usage, 3 timed out waiting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from psycopg_pool import ConnectionPool
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from domain.contract import VIETNAM
from domain.errors import InvalidValue
from domain.values import OfficeCode, SocialInsuranceCode, parse
from projections.catalogue import NAMES, UnknownReadModel, digest_key
from projections.guardians import GuardianChildren
from projections.queries import ProjectionBehind, ReadModelError, ReadModels
from projections.queue import OfficeQueue
from projections.rebuild import rebuild
from projections.statistics import OfficeStatistics
from projections.status import StatusRecord
from workers.bootstrap import Resolved, resolve
from workers.persistence import event_store_env
from workers.projector import projector
from workers.settings import SettingsError, load_settings

projections_app = typer.Typer(
    help="The read models: their positions, and rebuilding them from the event store.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (stable field names).")]
WaitOption = Annotated[
    int | None,
    typer.Option(
        "--wait-for",
        metavar="POSITION",
        help="First wait until the read model has applied the event at this position "
        "(the notification id a command reported).",
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="How long --wait-for waits.")
]


def register(app: typer.Typer) -> None:
    """Add the query commands, ``projections`` and ``projector`` to the ``childreg`` command."""
    app.command()(status)
    app.command()(queue)
    app.command()(guardian)
    app.command()(stats)
    app.command()(projector)
    app.add_typer(projections_app, name="projections")


def _resolved() -> Resolved:
    try:
        return resolve(load_settings())
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _read_models(wait_for: int | None, timeout: float, name: str) -> Iterator[ReadModels]:
    resolved = _resolved()
    pool: ConnectionPool = ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=False)
    pool.open()
    try:
        models = ReadModels(pool, digest_key(resolved.link_secret))
        if wait_for is not None:
            models.wait_for(wait_for, timeout, names=(name,))
        yield models
    except ProjectionBehind as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(3) from None
    except ReadModelError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        pool.close()


def status(
    key: Annotated[str, typer.Argument(metavar="REQUEST_ID|REGISTRATION_ID")],
    as_json: JsonOption = False,
    wait_for: WaitOption = None,
    timeout: TimeoutOption = 10.0,
) -> None:
    """A registration's status, by its request id or registration id."""
    with _read_models(wait_for, timeout, "registration_status") as models:
        answer = models.status_record(key)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
    else:
        Console().print(status_table(answer))


def _checked(kind: Any, field: str) -> Callable[[str | None], str | None]:
    """A typer callback: the argument as the domain's value type, or a usage error naming the
    rule (never the value)."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            checked: str = parse(kind, value, field)
        except InvalidValue as invalid:
            raise typer.BadParameter(invalid.rule) from None
        return checked

    return check


def queue(
    office_code: Annotated[
        str, typer.Argument(metavar="OFFICE_CODE", callback=_checked(OfficeCode, "office_code"))
    ],
    supervisor: Annotated[
        bool, typer.Option("--supervisor", help="Only the registrations escalated to supervisors.")
    ] = False,
    as_json: JsonOption = False,
    wait_for: WaitOption = None,
    timeout: TimeoutOption = 10.0,
) -> None:
    """An office's registrations awaiting review: overdue first, then by deadline."""
    with _read_models(wait_for, timeout, "review_queue") as models:
        answer = models.queue(office_code, supervisor=supervisor)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
    else:
        Console().print(queue_table(answer))


def guardian(
    code: Annotated[
        str,
        typer.Argument(
            metavar="CODE",
            help="The guardian's social-insurance code.",
            callback=_checked(SocialInsuranceCode, "code"),
        ),
    ],
    as_json: JsonOption = False,
    wait_for: WaitOption = None,
    timeout: TimeoutOption = 10.0,
) -> None:
    """A guardian's children, their registrations and account status."""
    with _read_models(wait_for, timeout, "guardian_children") as models:
        answer = models.guardian(code)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
    else:
        Console().print(guardian_table(answer))


def stats(
    office_code: Annotated[
        str | None,
        typer.Argument(
            metavar="[OFFICE_CODE]",
            help="One office; all when omitted.",
            callback=_checked(OfficeCode, "office_code"),
        ),
    ] = None,
    as_json: JsonOption = False,
    wait_for: WaitOption = None,
    timeout: TimeoutOption = 10.0,
) -> None:
    """Office statistics: registrations per state, decisions per day, time to decision, overdue."""
    with _read_models(wait_for, timeout, "office_statistics") as models:
        answers = [models.stats(office_code)] if office_code else models.all_stats()
    if as_json:
        if office_code:
            typer.echo(answers[0].model_dump_json(indent=2))
        else:
            offices = [answer.model_dump(mode="json") for answer in answers]
            typer.echo(json.dumps({"offices": offices}, ensure_ascii=False, indent=2))
        return
    console = Console()
    if not answers:
        console.print("No registrations yet.")
    for answer in answers:
        console.print(stats_table(answer))


@projections_app.command()
def positions(as_json: JsonOption = False) -> None:
    """The notification id each read model has applied events up to."""
    with _read_models(None, 0, "") as models:
        reached = models.positions()
    if as_json:
        typer.echo(json.dumps(reached, indent=2))
        return
    table = Table("read model", "position")
    for name, position in reached.items():
        table.add_row(name, str(position))
    Console().print(table)


@projections_app.command("rebuild")
def rebuild_command(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help=f"One of {', '.join(NAMES)}; all when omitted."),
    ] = None,
) -> None:
    """Replay the event store into fresh tables and swap them in; queries keep answering."""
    resolved = _resolved()
    env = event_store_env(resolved.database_url, resolved.cipher_key)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def show(model: str, reached: int, target: int) -> None:
            if model not in tasks:
                tasks[model] = progress.add_task(model, total=target or 1)
            progress.update(tasks[model], completed=reached if target else 1, total=target or 1)

        try:
            reports = rebuild(
                env, digest_key(resolved.link_secret), [name] if name else None, progress=show
            )
        except UnknownReadModel as error:
            raise typer.BadParameter(str(error), param_hint="NAME") from None
    for report in reports:
        console.print(
            f"{report.name}: {report.events} events replayed, swapped in at position {report.position}"
        )


# --- tables --------------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    """A moment as a reader in Vietnam reads it: local time, with its offset (JSON keeps UTC)."""
    return moment.astimezone(VIETNAM).isoformat(timespec="minutes") if moment else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def status_table(answer: StatusRecord) -> Table:
    table = Table("field", "value", title=f"Registration {answer.request_id}")
    flags = ", ".join(
        flag for flag, on in (("overdue", answer.overdue), ("escalated", answer.escalated)) if on
    )
    for field, value in (
        ("registration id", str(answer.registration_id)),
        ("state", answer.state),
        ("waiting for", answer.waiting_for),
        ("office", answer.office_code),
        ("child", answer.child_code_masked or "-"),
        ("submitted", _when(answer.submitted_at)),
        ("review deadline", _when(answer.review_deadline)),
        ("expires", _when(answer.expires_at)),
        ("flags", flags or "-"),
        ("supplement rounds", str(answer.supplement_rounds)),
        ("outcome", answer.outcome or "-"),
        ("reason", answer.reason_code or "-"),
        ("decided by", answer.decided_by or "-"),
        ("decided", _when(answer.decided_at)),
        ("warnings", ", ".join(answer.warnings) or "-"),
        ("child account", answer.child_account_id or "-"),
        ("as of position", str(answer.as_of_position)),
    ):
        table.add_row(field, value)
    return table


def queue_table(answer: OfficeQueue) -> Table:
    title = f"Office {answer.office_code}: " + (
        "escalated to supervisors" if answer.supervisor_view else "awaiting review"
    )
    table = Table(
        "request id", "child", "round", "deadline", "overdue", "escalated", "warnings", title=title
    )
    for entry in answer.entries:
        table.add_row(
            entry.request_id,
            entry.child_code_masked or "-",
            str(entry.round),
            _when(entry.deadline),
            "yes" if entry.overdue else "",
            "yes" if entry.escalated else "",
            ", ".join(entry.warnings),
        )
    table.caption = f"{len(answer.entries)} registrations, as of position {answer.as_of_position}"
    return table


def guardian_table(answer: GuardianChildren) -> Table:
    table = Table(
        "child", "account", "request id", "office", "state", "submitted", title="Children"
    )
    for child in answer.children:
        for number, registration in enumerate(child.registrations):
            table.add_row(
                (child.child_code_masked or "-") if number == 0 else "",
                child.account_status if number == 0 else "",
                registration.request_id,
                registration.office_code,
                registration.state,
                _when(registration.submitted_at),
            )
    table.caption = f"as of position {answer.as_of_position}"
    return table


def stats_table(answer: OfficeStatistics) -> Table:
    table = Table("measure", "value", title=f"Office {answer.office_code}")
    table.add_row("registrations", str(answer.registrations))
    for state, count in answer.counts.items():
        if count:
            table.add_row(f"  {state}", str(count))
    table.add_row("overdue now", str(answer.overdue))
    table.add_row("ever overdue", str(answer.overdue_total))
    table.add_row(
        "decisions", f"{answer.decisions} ({answer.approved} approved, {answer.rejected} rejected)"
    )
    table.add_row("median time to decision", _duration(answer.median_seconds_to_decision))
    table.add_row("90th percentile", _duration(answer.p90_seconds_to_decision))
    for day in answer.decisions_per_day:
        table.add_row(
            f"  {day.date.isoformat()}", f"{day.approved} approved, {day.rejected} rejected"
        )
    table.caption = f"as of position {answer.as_of_position}"
    return table
