"""``childreg registry …``: load the registry's CSV files and show what the registry holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from activities.registry import REGISTRY_FILES, PostgresRegistry, RegistryStoreError, read_registry
from domain.registry import RegistryLoadError
from workers.bootstrap import registry
from workers.cli.common import resolved_or_exit
from workers.cli.tables import print_registry_summary

_DIRECTORY_HELP = f"A directory holding any of {', '.join(REGISTRY_FILES)}."

registry_app = typer.Typer(
    help="The registry: offices, reviewers, persons, accounts and holidays offices check against.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``registry`` to the ``childreg`` command."""
    app.add_typer(registry_app, name="registry")


@contextmanager
def _registry() -> Iterator[PostgresRegistry]:
    """The registry of the configured (or embedded) database, its schema created if missing;
    its store errors end the command with exit code 1."""
    try:
        with registry(resolved_or_exit()) as store:
            yield store
    except RegistryStoreError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@registry_app.command()
def load(
    directory: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, dir_okay=True, help=_DIRECTORY_HELP),
    ],
) -> None:
    """Validate the CSV files in DIRECTORY and upsert them: all of them, or nothing on any problem."""
    present = [name for name in REGISTRY_FILES if (directory / name).is_file()]
    if not present:
        typer.echo(f"error: {directory} holds none of {', '.join(REGISTRY_FILES)}", err=True)
        raise typer.Exit(1)
    for path in sorted(directory.glob("*.csv")):
        if path.name not in REGISTRY_FILES:
            typer.echo(f"warning: {path.name} is not a registry file: ignored", err=True)

    try:
        data = read_registry(directory)
        with _registry() as registry:
            report = registry.load(data)
    except RegistryLoadError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        count = len(error.problems)
        typer.echo(f"nothing loaded: {count} problem{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(1) from None

    for kind, counts in report.tables.items():
        typer.echo(
            f"{kind}: {counts.inserted} inserted, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )
    typer.echo("loaded" if report.changed else "nothing changed")


@registry_app.command()
def show() -> None:
    """Summarise the registry: rows per table, offices with their reviewers, holiday years."""
    with _registry() as registry:
        summary = registry.summary()

    print_registry_summary(Console(), summary)
