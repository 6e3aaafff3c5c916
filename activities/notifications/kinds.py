"""What is sent, through which channel, and the deterministic ids that make a delivery idempotent."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID


class NotificationKind(StrEnum):
    """One notification per milestone of a registration."""

    RECEIVED = "received"
    """The receipt: the declaration reached the office (the 2-hour acknowledgement rule)."""
    SUPPLEMENT_REQUESTED = "supplement_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    """Rejected by a reviewer, with a reason from the catalogue."""
    AUTO_REJECTED = "auto_rejected"
    """Rejected by the system's checks before any reviewer saw it."""
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


ATTACHES_DECLARATION = frozenset({NotificationKind.RECEIVED, NotificationKind.APPROVED})
"""The emails that carry the declaration as a PDF; every other message links to it."""

NEEDS_REASON = frozenset({NotificationKind.REJECTED, NotificationKind.AUTO_REJECTED})

MAX_OCCASIONS = 3
"""How many times one kind can be told for one registration: a supplement can be requested in up
to three rounds (``domain.registration.MAX_SUPPLEMENT_ROUNDS``); every other kind happens once."""


def short_reference(registration_id: UUID) -> str:
    """What a guardian quotes on the phone: ``DK-`` and the id's first 8 hex digits, upper case."""
    return "DK-" + registration_id.hex[:8].upper()


def delivery_name(kind: NotificationKind, occasion: int = 1) -> str:
    """What is delivered, as the journal and the event store name it (with the registration and
    the channel, it identifies one delivery).

    The first occasion is the bare kind (``supplement_requested``), as it was before occasions
    existed, so that events recorded earlier keep their meaning; a later one carries its number
    (``supplement_requested.2`` for the second supplement round).
    """
    if not 1 <= occasion <= MAX_OCCASIONS:
        raise ValueError(f"occasion: {occasion} is not between 1 and {MAX_OCCASIONS}")
    return kind.value if occasion == 1 else f"{kind.value}.{occasion}"


def delivery_key(
    registration_id: UUID, kind: NotificationKind, channel: Channel, *, occasion: int = 1
) -> str:
    """The natural key of one delivery; every id derived from it is the same on every retry."""
    return f"childreg.{registration_id}.{delivery_name(kind, occasion)}.{channel}"


def email_message_id(
    registration_id: UUID, kind: NotificationKind, sender_address: str, *, occasion: int = 1
) -> str:
    """The email's ``Message-ID``: deterministic, so a re-send after a crash is recognisable.

    The right-hand side is the sender's domain (a Message-ID without a real domain scores as
    spam); the left-hand side carries no personal data.
    """
    domain = sender_address.rpartition("@")[2].strip(" >") or "childreg.invalid"
    return f"<{delivery_key(registration_id, kind, Channel.EMAIL, occasion=occasion)}@{domain}>"


def sms_message_id(registration_id: UUID, kind: NotificationKind, *, occasion: int = 1) -> str:
    """The SMS's id at the gateway: the outbox's file name and the HTTP gateway's idempotency key."""
    return delivery_key(registration_id, kind, Channel.SMS, occasion=occasion)
