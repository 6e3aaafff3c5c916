"""``childreg notifications preview``: print what a guardian receives at each milestone.

The milestones are the contract's example registration (``preview_example.json`` beside this
module, the request of README "The public contract"), rendered by the real templates.
"""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer

from activities.notifications.declaration import render_declaration
from activities.notifications.kinds import NotificationKind
from activities.notifications.models import NotifyGuardianInput
from activities.notifications.preview import render_preview
from activities.notifications.render import Renderer

notifications_app = typer.Typer(help="The guardians' messages.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``notifications`` to the ``childreg`` command."""
    app.add_typer(notifications_app, name="notifications")


def _example() -> dict[str, Any]:
    text = (files("workers.cli") / "preview_example.json").read_text(encoding="utf-8")
    example: dict[str, Any] = json.loads(text)
    return example


def example_milestone(kind: NotificationKind) -> NotifyGuardianInput:
    """The example registration at the milestone ``kind``."""
    example = _example()
    return NotifyGuardianInput.model_validate(
        example["milestone"] | {"kind": kind} | example["details"].get(kind.value, {})
    )


@notifications_app.command()
def preview(
    kinds: Annotated[
        list[NotificationKind] | None,
        typer.Argument(metavar="[KIND]...", help="The milestones to print; all when omitted."),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf", dir_okay=False, help="Also write the example's declaration PDF here."
        ),
    ] = None,
) -> None:
    """Print the email and SMS a guardian receives, rendered from the contract's example."""
    renderer = Renderer()
    for kind in kinds or list(NotificationKind):
        sys.stdout.write(render_preview(renderer, example_milestone(kind)) + "\n")
    if pdf is not None:
        example = example_milestone(NotificationKind.RECEIVED)
        pdf.write_bytes(
            render_declaration(
                example.request,
                registration_id=example.registration_id,
                office_name=example.office_name,
            )
        )
