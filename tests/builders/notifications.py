"""The example registration (the request of the README's "The public contract") at each
milestone, as ``notify_guardian`` takes it, and the notification activities wired to fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from activities.notifications.activities import NotificationActivities
from activities.notifications.gateways import SmsGateway
from activities.notifications.journal import NotificationJournal
from activities.notifications.kinds import Channel, NotificationKind, delivery_name
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.mail import Mailer
from activities.notifications.models import NotifyGuardianInput
from activities.notifications.render import Renderer
from domain.contract import RegistrationRequest, parse_request
from tests.builders.requests import EXAMPLE, EXAMPLE_REQUEST, a_request

REGISTRATION_ID = UUID(EXAMPLE["milestone"]["registration_id"])
REFERENCE = "DK-1A2B3C4D"
OFFICE_NAME: str = EXAMPLE["milestone"]["office_name"]
LINK_SECRET = "a-link-secret-for-the-tests-only"
BASE_URL = "https://dichvucong.example.vn"
SENDER = "VssID - BHXH Việt Nam <no-reply@vssid.example.vn>"
GUARDIAN_EMAIL = EXAMPLE_REQUEST["guardian"]["email"]
OCCURRED_AT = datetime(2026, 11, 25, 2, 0, 5, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 2, 0, 6, tzinfo=UTC)

EXAMPLE_DETAILS: dict[NotificationKind, dict[str, Any]] = {
    NotificationKind(kind): details for kind, details in EXAMPLE["details"].items()
}


def parsed_request(*, email: str | None = GUARDIAN_EMAIL, **guardian: Any) -> RegistrationRequest:
    """The example request as the contract reads it, with the guardian's ``email`` and fields."""
    changes = {f"guardian__{name}": value for name, value in guardian.items()}
    return parse_request(a_request(guardian__email=email, **changes))


def an_input(
    kind: NotificationKind = NotificationKind.RECEIVED,
    *,
    request: RegistrationRequest | None = None,
    registration_id: UUID = REGISTRATION_ID,
    **fields: Any,
) -> NotifyGuardianInput:
    return NotifyGuardianInput.model_validate(
        {
            "registration_id": registration_id,
            "request_id": EXAMPLE_REQUEST["request_id"],
            "kind": kind,
            "request": request or parsed_request(),
            "office_name": OFFICE_NAME,
            "occurred_at": OCCURRED_AT,
            **EXAMPLE_DETAILS.get(kind, {}),
            **fields,
        }
    )


def links() -> DeclarationLinks:
    return DeclarationLinks(LinkSigner(LINK_SECRET), BASE_URL, 30)


def notification_activities(
    journal: NotificationJournal, mailer: Mailer, sms: SmsGateway
) -> NotificationActivities:
    return NotificationActivities(journal, mailer, sms, Renderer(), links(), clock=lambda: NOW)


def key(
    channel: Channel,
    kind: NotificationKind = NotificationKind.RECEIVED,
    registration_id: UUID = REGISTRATION_ID,
    *,
    occasion: int = 1,
) -> tuple[UUID, str, Channel]:
    """One delivery as the journal names it: ``journal.delivery_status(*key(...))``."""
    return (registration_id, delivery_name(kind, occasion), channel)
