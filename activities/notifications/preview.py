"""Print what a guardian receives, rendered by the real templates from the contract's example.

    python -m activities.notifications.preview [KIND ...] [--pdf FILE]

For reviewing template changes; the README's sample is this command's output. Uses a fixed
preview link secret: the links it prints are not valid anywhere else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from activities.notifications.activities import message_context
from activities.notifications.declaration import render_declaration
from activities.notifications.kinds import NotificationKind
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.models import NotifyGuardianInput
from activities.notifications.render import Renderer
from activities.notifications.sms import split

PREVIEW_SECRET = "preview-secret-not-for-production"  # noqa: S105 (signs preview links only)
PREVIEW_BASE_URL = "http://localhost:8080"


def example_input(kind: NotificationKind) -> NotifyGuardianInput:
    """The contract's example registration at the milestone ``kind``: the tests' example data
    (``tests/builders``), so the preview renders what the tests check. A tool for a checkout."""
    from tests.builders.notifications import an_input

    return an_input(kind)


def preview_links() -> DeclarationLinks:
    return DeclarationLinks(LinkSigner(PREVIEW_SECRET), PREVIEW_BASE_URL, 30)


def render_preview(renderer: Renderer, kind: NotificationKind) -> str:
    context = message_context(example_input(kind), preview_links())
    email = renderer.email(context)
    sms = renderer.sms(context)
    parts = split(sms.text)
    return (
        f"=== {kind}: email ({email.template_id} v{email.template_version})\n"
        f"Subject: {email.subject}\n\n{email.text}\n"
        f"=== {kind}: SMS ({sms.template_id} v{sms.template_version}, "
        f"{len(sms.text)} characters, {len(parts)} segment{'s' if len(parts) > 1 else ''})\n"
        f"{sms.text}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kinds", nargs="*", metavar="KIND", help=", ".join(NotificationKind))
    parser.add_argument("--pdf", type=Path, help="also write the example's declaration PDF here")
    arguments = parser.parse_args(argv)
    renderer = Renderer()
    for name in arguments.kinds or [k.value for k in NotificationKind]:
        sys.stdout.write(render_preview(renderer, NotificationKind(name)) + "\n")
    if arguments.pdf:
        example = example_input(NotificationKind.RECEIVED)
        arguments.pdf.write_bytes(
            render_declaration(
                example.request,
                registration_id=example.registration_id,
                office_name=example.office_name,
            )
        )


if __name__ == "__main__":
    main()
