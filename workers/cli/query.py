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
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from domain.errors import InvalidValue
from domain.values import OfficeCode, SocialInsuranceCode, parse
from projections.catalogue import NAMES, UnknownReadModel, digest_key
from projections.queries import ProjectionBehind, ReadModelError, ReadModels
from projections.rebuild import rebuild
from projections.statistics import OfficeStatistics
from workers.bootstrap import event_store_env, latest_position, read_models
from workers.cli.common import JsonOption, model_json, print_json_or_table, resolved_or_exit
from workers.cli.tables import guardian_table, queue_table, stats_table, status_table

T = TypeVar("T")

projections_app = typer.Typer(
    help="The read models: their positions, and rebuilding them from the event store.",
    no_args_is_help=True,
)

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
    """Add the query commands and ``projections`` to the ``childreg`` command."""
    app.command()(status)
    app.command()(queue)
    app.command()(guardian)
    app.command()(stats)
    app.add_typer(projections_app, name="projections")


@contextmanager
def _read_models(wait_for: int | None, timeout: float, name: str) -> Iterator[ReadModels]:
    """The read models, once ``name`` has reached ``wait_for``; their errors end the command."""
    try:
        with read_models(resolved_or_exit()) as models:
            if wait_for is not None:
                models.wait_for(wait_for, timeout, names=(name,))
            yield models
    except ProjectionBehind as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(3) from None
    except ReadModelError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _answer(
    name: str,
    read: Callable[[ReadModels], T],
    table: Callable[[T], RenderableType],
    *,
    as_json: bool,
    wait_for: int | None,
    timeout: float,
    json_of: Callable[[T], str] = model_json,  # type: ignore[assignment]
) -> None:
    """The shape of every query: read the read model ``name``, then print JSON or a table."""
    with _read_models(wait_for, timeout, name) as models:
        answer = read(models)
    print_json_or_table(answer, as_json, table, json_of)


def status(
    key: Annotated[str, typer.Argument(metavar="REQUEST_ID|REGISTRATION_ID")],
    as_json: JsonOption = False,
    wait_for: WaitOption = None,
    timeout: TimeoutOption = 10.0,
) -> None:
    """A registration's status, by its request id or registration id."""
    _answer(
        "registration_status",
        lambda models: models.status_record(key),
        status_table,
        as_json=as_json,
        wait_for=wait_for,
        timeout=timeout,
    )


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
    _answer(
        "review_queue",
        lambda models: models.queue(office_code, supervisor=supervisor),
        queue_table,
        as_json=as_json,
        wait_for=wait_for,
        timeout=timeout,
    )


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
    _answer(
        "guardian_children",
        lambda models: models.guardian(code),
        guardian_table,
        as_json=as_json,
        wait_for=wait_for,
        timeout=timeout,
    )


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
    if office_code:
        _answer(
            "office_statistics",
            lambda models: models.stats(office_code),
            stats_table,
            as_json=as_json,
            wait_for=wait_for,
            timeout=timeout,
        )
        return
    _answer(
        "office_statistics",
        lambda models: models.all_stats(),
        _all_stats_tables,
        as_json=as_json,
        wait_for=wait_for,
        timeout=timeout,
        json_of=_all_stats_json,
    )


def _all_stats_tables(answers: list[OfficeStatistics]) -> RenderableType:
    if not answers:
        return Text("No registrations yet.")
    return Group(*(stats_table(answer) for answer in answers))


def _all_stats_json(answers: list[OfficeStatistics]) -> str:
    offices = [answer.model_dump(mode="json") for answer in answers]
    return json.dumps({"offices": offices}, ensure_ascii=False, indent=2)


@projections_app.command()
def positions(as_json: JsonOption = False) -> None:
    """The notification id each read model has applied events up to, and how far behind the
    event store each is (``--json``: ``{name: position, …, "store": N, "behind": {name: n}}``)."""
    _answer(
        "",
        _behind,
        _positions_table,
        as_json=as_json,
        wait_for=None,
        timeout=0,
        json_of=lambda reached: json.dumps(reached, indent=2),
    )


def _behind(models: ReadModels) -> dict[str, Any]:
    """Each read model's position (as before), the store's, and how far behind each one is."""
    reached: dict[str, Any] = dict(models.positions())
    store = latest_position(resolved_or_exit().database_url)
    behind = {name: max(store - position, 0) for name, position in reached.items()}
    return {**reached, "store": store, "behind": behind}


def _positions_table(reached: dict[str, Any]) -> Table:
    table = Table(
        "read model", "position", "behind the store", title=f"store at {reached['store']}"
    )
    for name, behind in reached["behind"].items():
        table.add_row(name, str(reached[name]), str(behind))
    return table


@projections_app.command("rebuild")
def rebuild_command(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help=f"One of {', '.join(NAMES)}; all when omitted."),
    ] = None,
) -> None:
    """Replay the event store into fresh tables and swap them in; queries keep answering."""
    resolved = resolved_or_exit()
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
