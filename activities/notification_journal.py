"""The notification journal over the event store: each step of a delivery becomes an event of
the registration (NotificationPrepared, GuardianNotified, NotificationFailed, NotificationSkipped).

Command ids are derived from the delivery and its content, so an activity retried by Temporal
records each fact once; each transient failure is its own fact, keyed by the time of the attempt.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from activities.notifications.journal import DeliveryStatus, NotificationRecord
from activities.notifications.kinds import Channel, NotificationKind
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService

ACTOR_ID = "notifier"


class EventStoreNotificationJournal:
    """Implements ``activities.notifications.journal.NotificationJournal`` over the event store."""

    def __init__(self, service: RegistrationService) -> None:
        self._service = service

    def status(
        self, registration_id: UUID, kind: NotificationKind, channel: Channel
    ) -> DeliveryStatus | None:
        status = self._service.get(registration_id).notifications.get(
            f"{kind.value}/{channel.value}"
        )
        return DeliveryStatus(status) if status else None

    def prepared(self, record: NotificationRecord) -> None:
        step = f"prepared:{record.message_id}:{record.body_sha256[:16]}:{(record.attachment_sha256 or '')[:16]}"
        self._service.command(
            record.registration_id,
            lambda r: r.prepare_notification(
                record.kind.value,
                record.channel.value,
                record.template_id,
                record.template_version,
                record.recipient_masked,
                record.body_sha256,
                record.attachment_sha256,
                record.message_id,
                _cause(r, record.kind, record.channel, step, record.at),
            ),
        )

    def sent(
        self,
        registration_id: UUID,
        kind: NotificationKind,
        channel: Channel,
        message_id: str,
        at: datetime,
    ) -> None:
        self._service.command(
            registration_id,
            lambda r: r.notification_sent(
                kind.value, channel.value, message_id, _cause(r, kind, channel, "sent", at)
            ),
        )

    def failed(
        self,
        registration_id: UUID,
        kind: NotificationKind,
        channel: Channel,
        error: str,
        permanent: bool,
        at: datetime,
    ) -> None:
        step = "failed" if permanent else f"attempt-failed:{at.isoformat()}"
        self._service.command(
            registration_id,
            lambda r: r.notification_failed(
                kind.value, channel.value, error, permanent, _cause(r, kind, channel, step, at)
            ),
        )

    def skipped(
        self,
        registration_id: UUID,
        kind: NotificationKind,
        channel: Channel,
        why: str,
        at: datetime,
    ) -> None:
        self._service.command(
            registration_id,
            lambda r: r.notification_skipped(
                kind.value, channel.value, why, _cause(r, kind, channel, "skipped", at)
            ),
        )


def _cause(
    registration: Registration, kind: NotificationKind, channel: Channel, step: str, at: datetime
) -> Cause:
    return Cause(
        ActorKind.SYSTEM,
        ACTOR_ID,
        f"registration-{registration.request_id}",
        f"notification:{kind.value}:{channel.value}:{step}",
        at,
        causation_id=f"notification:{kind.value}:{channel.value}",
    )
