"""The notification journal over the event store: each step of a delivery becomes an event of
the registration (NotificationPrepared, GuardianNotified, NotificationFailed, NotificationSkipped).

The events' ``kind`` is the delivery's name (``kinds.delivery_name``): the bare kind for a first
occasion, as before occasions existed, and e.g. ``supplement_requested.2`` for the second
supplement round, so that the registration keeps each round's delivery apart.

Command ids are derived from the delivery and its content, so an activity retried by Temporal
records each fact once; each transient failure is its own fact, keyed by the time of the attempt.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from activities.notifications.journal import DeliveryStatus, NotificationRecord
from activities.notifications.kinds import Channel
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService

ACTOR_ID = "notifier"


class EventStoreNotificationJournal:
    """Implements ``activities.notifications.journal.NotificationJournal`` over the event store."""

    def __init__(self, service: RegistrationService) -> None:
        self._service = service

    def delivery_status(
        self, registration_id: UUID, delivery: str, channel: Channel
    ) -> DeliveryStatus | None:
        status = self._service.get(registration_id).notifications.get(
            f"{_name(delivery)}/{channel.value}"
        )
        return DeliveryStatus(status) if status else None

    def prepared(self, record: NotificationRecord) -> None:
        step = f"prepared:{record.message_id}:{record.body_sha256[:16]}:{(record.attachment_sha256 or '')[:16]}"
        delivery = record.delivery
        self._service.execute(
            record.registration_id,
            Registration.prepare_notification,
            delivery,
            record.channel.value,
            record.template_id,
            record.template_version,
            record.recipient_masked,
            record.body_sha256,
            record.attachment_sha256,
            record.message_id,
            self._cause(record.registration_id, delivery, record.channel, step, record.at),
            subject=record.subject,
            body=record.body,
        )

    def sent(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        message_id: str,
        at: datetime,
    ) -> None:
        name = _name(delivery)
        self._service.execute(
            registration_id,
            Registration.notification_sent,
            name,
            channel.value,
            message_id,
            self._cause(registration_id, name, channel, "sent", at),
        )

    def failed(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        error: str,
        permanent: bool,
        at: datetime,
    ) -> None:
        name = _name(delivery)
        step = "failed" if permanent else f"attempt-failed:{at.isoformat()}"
        self._service.execute(
            registration_id,
            Registration.notification_failed,
            name,
            channel.value,
            error,
            permanent,
            self._cause(registration_id, name, channel, step, at),
        )

    def skipped(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        why: str,
        at: datetime,
    ) -> None:
        name = _name(delivery)
        self._service.execute(
            registration_id,
            Registration.notification_skipped,
            name,
            channel.value,
            why,
            self._cause(registration_id, name, channel, "skipped", at),
        )

    def _cause(
        self, registration_id: UUID, delivery: str, channel: Channel, step: str, at: datetime
    ) -> Cause:
        # The delivery's name is in the command id: the second round's "sent" is not the first's.
        request_id = self._service.request_id_of(registration_id)
        return Cause(
            ActorKind.SYSTEM,
            ACTOR_ID,
            f"registration-{request_id}",
            f"notification:{delivery}:{channel.value}:{step}",
            at,
            causation_id=f"notification:{delivery}:{channel.value}",
        )


def _name(delivery: str) -> str:
    """The plain string (a ``NotificationKind`` is a ``str`` subclass: store its value)."""
    return str(delivery)
