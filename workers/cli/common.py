"""What every ``childreg`` command shares: the settings or exit 2, and "JSON or a table"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console, RenderableType

from workers.bootstrap import Resolved, resolve
from workers.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (stable field names).")]


def settings_or_exit(**overrides: object) -> Settings:
    """The settings (overrides win); a setting that cannot be used ends the command with one
    line naming it on stderr and exit code 2 (bad usage), not a traceback."""
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def resolved_or_exit() -> Resolved:
    """:func:`settings_or_exit` with the embedded defaults filled in."""
    return resolve(settings_or_exit())


def model_json(answer: BaseModel) -> str:
    return answer.model_dump_json(indent=2)


def print_json_or_table(
    answer: T,
    as_json: bool,
    table: Callable[[T], RenderableType],
    json_of: Callable[[T], str] = model_json,  # type: ignore[assignment]
) -> None:
    """Print ``answer`` as JSON (its stable field names) with ``--json``, else as a table."""
    if as_json:
        typer.echo(json_of(answer))
    else:
        Console().print(table(answer))
