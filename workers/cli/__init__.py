"""The ``childreg`` command: one entry point for operators, reviewers, auditors and upstreams.

One module per command group, each with a ``register(app)``:

- ``run``: the processes (``worker``, ``projector``, ``web``, ``dev``, ``codec-server``);
- ``workflow``: an upstream's and a reviewer's commands (``documents``, ``submit``, ``review``,
  ``withdraw``);
- ``query``: the read models (``status``, ``queue``, ``guardian``, ``stats``, ``projections``);
- ``audit``: the auditors' commands; ``registry``: the registry's data; ``db``: ``db migrate`` and
  ``schema``; ``notifications``: ``notifications preview``; ``reviewers``: console passwords;
  ``privacy``: erasure, export and retention of children's data.

``common`` holds what they share (the settings or exit 2, "JSON or a table"), ``tables`` how the
answers print.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from workers.cli import (
    audit,
    db,
    notifications,
    privacy,
    query,
    registry,
    reviewers,
    run,
    workflow,
)
from workers.settings import ENV_PREFIX, LogFormat

app = typer.Typer(
    name="childreg",
    help="Register an electronic-transaction account for a child (VssID).",
    no_args_is_help=True,
    add_completion=False,
)
for group in (registry, db, run, workflow, query, audit, notifications, reviewers, privacy):
    group.register(app)


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


def main() -> None:
    app()
