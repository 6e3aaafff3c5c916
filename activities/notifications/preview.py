"""What a guardian receives, as text: one milestone's email and SMS rendered by the real templates.

``childreg notifications preview`` prints it for reviewing template changes (the README's sample
is its output). Links are signed with a preview key of their own: they are valid nowhere else.
"""

from __future__ import annotations

from activities.notifications.activities import message_context
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.models import NotifyGuardianInput
from activities.notifications.render import Renderer
from activities.notifications.sms import split

PREVIEW_SECRET = "preview-secret-not-for-production"  # noqa: S105 (signs preview links only)
PREVIEW_BASE_URL = "http://localhost:8080"


def preview_links() -> DeclarationLinks:
    return DeclarationLinks(LinkSigner(PREVIEW_SECRET), PREVIEW_BASE_URL, 30)


def render_preview(renderer: Renderer, milestone: NotifyGuardianInput) -> str:
    """The milestone's email (subject and text part) and SMS (with its length and segments)."""
    context = message_context(milestone, preview_links())
    email = renderer.email(context)
    sms = renderer.sms(context)
    parts = split(sms.text)
    kind = milestone.kind
    return (
        f"=== {kind}: email ({email.template_id} v{email.template_version})\n"
        f"Subject: {email.subject}\n\n{email.text}\n"
        f"=== {kind}: SMS ({sms.template_id} v{sms.template_version}, "
        f"{len(sms.text)} characters, {len(parts)} segment{'s' if len(parts) > 1 else ''})\n"
        f"{sms.text}\n"
    )
