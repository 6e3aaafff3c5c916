"""Print what a guardian receives, rendered by the real templates from the contract's example.

    python -m activities.notifications.preview [KIND ...] [--pdf FILE]

For reviewing template changes; the README's sample is this command's output. Uses a fixed
preview link secret: the links it prints are not valid anywhere else.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from activities.notifications.activities import message_context
from activities.notifications.declaration import render_declaration
from activities.notifications.kinds import NotificationKind
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.models import NotifyGuardianInput
from activities.notifications.render import Renderer
from activities.notifications.sms import split
from domain.contract import VIETNAM, parse_request

EXAMPLE_REGISTRATION_ID = UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
EXAMPLE_OFFICE = "BHXH cơ sở Sài Gòn, BHXH Thành phố Hồ Chí Minh"
PREVIEW_SECRET = "preview-secret-not-for-production"  # noqa: S105 (signs preview links only)
PREVIEW_BASE_URL = "http://localhost:8080"

EXAMPLE_REQUEST = {
    "request_id": "vssid-20261125-000123",
    "submitted_at": "2026-11-25T09:00:00+07:00",
    "guardian": {
        "social_insurance_code": "0123456789",
        "full_name": "Nguyễn Văn An",
        "relationship": "father",
        "phone": "0912345678",
        "email": "an.nguyen@example.vn",
    },
    "child": {
        "social_insurance_code": "7912345678",
        "full_name": "Nguyễn Minh Khôi",
        "date_of_birth": "2019-03-14",
    },
    "documents": {"portrait": "sha256:" + "a" * 64, "birth_certificate": "sha256:" + "b" * 64},
    "office_code": "79001",
    "commitment": {"accepted": True, "accepted_at": "2026-11-25T08:59:40+07:00"},
}
"""The request of DESIGN §6."""


EXAMPLE_DETAILS: dict[NotificationKind, dict[str, object]] = {
    NotificationKind.SUPPLEMENT_REQUESTED: {
        "supplement_documents": ["birth_certificate"],
        "supplement_due": date(2026, 12, 2),
        "note": "Ảnh giấy khai sinh bị mờ ở phần họ tên của cha.",
    },
    NotificationKind.APPROVED: {"child_account_id": "7912345678"},
    NotificationKind.REJECTED: {"reason_code": "BIRTH_CERTIFICATE_MISMATCH"},
    NotificationKind.AUTO_REJECTED: {"reason_code": "CHILD_DETAILS_MISMATCH"},
}


def example_input(kind: NotificationKind) -> NotifyGuardianInput:
    """The contract's example registration at the milestone ``kind``."""
    extra = EXAMPLE_DETAILS.get(kind, {})
    return NotifyGuardianInput.model_validate(
        {
            "registration_id": EXAMPLE_REGISTRATION_ID,
            "request_id": EXAMPLE_REQUEST["request_id"],
            "kind": kind,
            "request": parse_request(EXAMPLE_REQUEST),
            "office_name": EXAMPLE_OFFICE,
            "occurred_at": datetime(2026, 11, 25, 9, 0, 5, tzinfo=VIETNAM),
            **extra,
        }
    )


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
                example.request, registration_id=example.registration_id, office_name=EXAMPLE_OFFICE
            )
        )


if __name__ == "__main__":
    main()
