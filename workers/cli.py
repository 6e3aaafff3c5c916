"""The ``childreg`` command: one entry point for operators, reviewers, auditors and upstreams."""

from __future__ import annotations

import json

import typer

from domain.contract import CONTRACT_MODELS

app = typer.Typer(
    name="childreg",
    help="Register an electronic-transaction account for a child (VssID).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Register an electronic-transaction account for a child (VssID)."""


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


def main() -> None:
    app()
