"""``childreg notifications preview``: print what a guardian receives at each milestone.

The milestones are an example registration read from a JSON file (``--example``; in a checkout the
tests' example, ``tests/builders/example.json``: the request of README "The public contract"),
rendered by the real templates. The service ships no example data of its own.
"""

from __future__ import annotations

import json
import sys
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


CHECKOUT_EXAMPLE = Path("tests/builders/example.json")


def example_milestone(
    kind: NotificationKind, source: Path = CHECKOUT_EXAMPLE
) -> NotifyGuardianInput:
    """The example registration of ``source`` at the milestone ``kind``."""
    example: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return NotifyGuardianInput.model_validate(
        example["milestone"] | {"kind": kind} | example["details"].get(kind.value, {})
    )


@notifications_app.command()
def preview(
    kinds: Annotated[
        list[NotificationKind] | None,
        typer.Argument(metavar="[KIND]...", help="The milestones to print; all when omitted."),
    ] = None,
    example: Annotated[
        Path,
        typer.Option(
            "--example",
            exists=True,
            dir_okay=False,
            help="The example registration (JSON); default: the checkout's tests/builders/example.json.",
        ),
    ] = CHECKOUT_EXAMPLE,
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
        sys.stdout.write(render_preview(renderer, example_milestone(kind, example)) + "\n")
    if pdf is not None:
        received = example_milestone(NotificationKind.RECEIVED, example)
        pdf.write_bytes(
            render_declaration(
                received.request,
                registration_id=received.registration_id,
                office_name=received.office_name,
            )
        )
