"""The notification journal: the port through which deliveries become events in the event store.

The activity asks the journal before it sends anything and tells it each step, so that each
(registration, delivery, channel) is delivered once and an auditor can see what was said to whom.
The delivery is named by ``kinds.delivery_name``: the kind for its first occasion
(``supplement_requested``), the kind and the occasion's number for a later one
(``supplement_requested.2``, the second supplement round):

    status(...) is None or PREPARED  ->  prepared(record)  ->  send  ->  sent(...)
                                                                    ->  failed(..., permanent=True)
    no email on file                 ->  skipped(...)

The adapter calls a synchronous eventsourcing application, so the port is synchronous and the
activity calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from activities.notifications.kinds import Channel, NotificationKind, delivery_name


class DeliveryStatus(StrEnum):
    PREPARED = "prepared"
    """The intent is recorded; the message may or may not have left (a crash in between)."""
    SENT = "sent"
    """The server or gateway accepted the message."""
    FAILED = "failed"
    """Permanently refused (e.g. SMTP 550, SMS gateway 4xx): it will not be tried again."""
    SKIPPED = "skipped"
    """Deliberately not sent (e.g. no email address on file)."""


FINAL_STATUSES = frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """The intent to send one message: what an auditor needs to prove what was said.

    No full address: the masked recipient. The SHA-256 of the rendered body (and of the
    attachment) is compared against a re-rendering of the same template version from the
    registration's events; the text itself (``subject``, ``body``) is kept for the guardian's
    access request, encrypted with the registration's data key and erased with it.
    """

    registration_id: UUID
    kind: NotificationKind
    occasion: int
    """1, or the supplement round of a ``supplement_requested`` (see ``NotifyGuardianInput``)."""
    channel: Channel
    template_id: str
    template_version: int
    recipient_masked: str
    body_sha256: str
    attachment_sha256: str | None
    message_id: str
    at: datetime
    subject: str | None
    """An email's subject; ``None`` for an SMS."""
    body: str
    """The text as sent: an email's plain-text part, an SMS's text."""

    @property
    def delivery(self) -> str:
        """The delivery's name, as the journal's other methods take it."""
        return delivery_name(self.kind, self.occasion)


class NotificationJournal(Protocol):
    """Records each delivery's life; implemented over the event store (and by an in-memory fake).

    ``delivery`` is the delivery's name (``kinds.delivery_name``, ``NotificationRecord.delivery``;
    a ``NotificationKind`` is the name of its first occasion); deliveries of different names are
    recorded apart, like channels.

    Every method is idempotent: recording the same fact twice records it once. ``prepared`` is
    called before every attempt; a record equal to the last one but for ``at`` is the same intent
    (record it once), one that differs (a retry after the templates changed) is a new intent.
    """

    def delivery_status(
        self, registration_id: UUID, delivery: str, channel: Channel
    ) -> DeliveryStatus | None:
        """The latest status of that delivery; None when nothing was recorded yet."""

    def prepared(self, record: NotificationRecord) -> None:
        """The message is about to be sent (recorded before every attempt)."""

    def sent(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        message_id: str,
        at: datetime,
    ) -> None:
        """The server or gateway accepted the message."""

    def failed(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        error: str,
        permanent: bool,
        at: datetime,
    ) -> None:
        """An attempt failed. ``error`` names the failure class and code, never an address.

        ``permanent=True`` is final: the status becomes FAILED. ``permanent=False`` records a
        failed attempt that Temporal will retry: the status stays PREPARED.
        """

    def skipped(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        why: str,
        at: datetime,
    ) -> None:
        """Not sent on purpose; ``why`` is a fixed phrase such as "no email on file"."""


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def mask_email(address: str) -> str:
    """``an.nguyen@example.vn`` -> ``an.n***@example.vn``: enough to tell two addresses apart."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    keep = max(1, min(4, len(local) // 2))
    return f"{local[:keep]}***@{domain}"


def mask_phone(e164: str) -> str:
    """``+84912345678`` -> ``+8491*****78``."""
    if len(e164) < 8:
        return "*" * len(e164)
    return e164[:5] + "*" * (len(e164) - 7) + e164[-2:]
