"""``childreg db migrate`` and ``childreg schema``: the database's tables and the contract's
JSON Schema."""

from __future__ import annotations

import json

import typer

from domain.contract import CONTRACT_MODELS
from workers.cli.common import resolved_or_exit

db_app = typer.Typer(help="The database: schema set-up.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``db`` and ``schema`` to the ``childreg`` command."""
    app.add_typer(db_app, name="db")
    app.command()(schema)


def schema(
    name: str = typer.Argument(None, help="One model of the contract; all of them when omitted."),
) -> None:
    """Print the JSON Schema of the public contract's messages."""
    if name is None:
        schemas = {key: model.model_json_schema() for key, model in CONTRACT_MODELS.items()}
    elif name in CONTRACT_MODELS:
        schemas = CONTRACT_MODELS[name].model_json_schema()
    else:
        raise typer.BadParameter(
            f"unknown model; one of {', '.join(CONTRACT_MODELS)}", param_hint="NAME"
        )
    typer.echo(json.dumps(schemas, ensure_ascii=False, indent=2))


@db_app.command("migrate")
def db_migrate() -> None:
    """Create every table the service needs (idempotent: running it again changes nothing)."""
    from workers.bootstrap import migrate

    parts = migrate(resolved_or_exit().database_url)
    typer.echo(f"schema ready: {', '.join(parts)}")
