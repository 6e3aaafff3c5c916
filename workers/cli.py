"""The ``childreg`` command: one entry point for operators, reviewers, auditors and upstreams."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from domain.contract import CONTRACT_MODELS
from workers.audit_cli import register as register_audit_commands
from workers.codec_server import codec_server
from workers.dev import dev
from workers.query_cli import register as register_query_commands
from workers.registry_cli import registry_app
from workers.settings import ENV_PREFIX, LogFormat
from workers.workflow_cli import register as register_workflow_commands

app = typer.Typer(
    name="childreg",
    help="Register an electronic-transaction account for a child (VssID).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(registry_app, name="registry")
db_app = typer.Typer(help="The database: schema set-up.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command()(dev)
app.command("codec-server")(codec_server)
register_workflow_commands(app)
register_query_commands(app)
register_audit_commands(app)


@app.callback()
def _root(
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format", help="console, json or auto (console on a terminal); every command."
        ),
    ] = None,
) -> None:
    """Register an electronic-transaction account for a child (VssID)."""
    if log_format is not None:
        # The switch is a setting like any other: hand it to the settings loader every command uses.
        os.environ[f"{ENV_PREFIX}LOG_FORMAT"] = log_format.value


@app.command()
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
    from workers.bootstrap import resolve
    from workers.migrate import migrate
    from workers.settings import load_settings

    parts = migrate(resolve(load_settings()).database_url)
    typer.echo(f"schema ready: {', '.join(parts)}")


@app.command("web")
def web(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8080,
) -> None:
    """Serve the web tier: guardians' declaration links, POST /v1/documents, /healthz, /readyz."""
    import asyncio

    from workers.logs import configure_logging
    from workers.migrate import SchemaMissing
    from workers.settings import load_settings
    from workers.web import run_web

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(run_web(settings, host, port))
    except SchemaMissing as missing:
        typer.echo(str(missing), err=True)
        raise typer.Exit(code=1) from None


def main() -> None:
    app()
