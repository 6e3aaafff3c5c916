"""What every NotificationJournal must do. Subclass with a ``journal`` fixture to run it against an
adapter (``test_in_memory_journal.py`` runs it against the fake)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID

from activities.notifications.journal import (
    DeliveryStatus,
    NotificationJournal,
    NotificationRecord,
)
from activities.notifications.kinds import Channel, NotificationKind

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
KIND = NotificationKind.RECEIVED


def a_record(registration_id: UUID, channel: Channel = Channel.EMAIL) -> NotificationRecord:
    return NotificationRecord(
        registration_id=registration_id,
        kind=KIND,
        channel=channel,
        template_id=f"{channel}/received",
        template_version=1,
        recipient_masked="an.n***@example.vn",
        body_sha256="b" * 64,
        attachment_sha256="p" * 64 if channel is Channel.EMAIL else None,
        message_id=f"<childreg.{registration_id}.received.{channel}@vssid.example.vn>",
        at=T0,
    )


class NotificationJournalContract:
    """Each test gets ``journal`` and a ``registration_id`` the journal can record against."""

    def test_nothing_is_recorded_for_a_new_delivery(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        assert journal.status(registration_id, KIND, Channel.EMAIL) is None

    def test_a_prepared_delivery_is_prepared(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED

    def test_a_sent_delivery_is_sent_and_stays_sent(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id)
        journal.prepared(record)

        journal.sent(registration_id, KIND, Channel.EMAIL, record.message_id, T0)
        journal.sent(registration_id, KIND, Channel.EMAIL, record.message_id, T0)

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SENT

    def test_preparing_again_on_a_retry_keeps_it_prepared(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id)
        journal.prepared(record)

        journal.prepared(dataclasses.replace(record, at=T0 + timedelta(seconds=30)))

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED

    def test_a_transient_failure_leaves_the_delivery_to_be_retried(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        journal.failed(registration_id, KIND, Channel.EMAIL, "SMTPConnectError", False, T0)

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED

    def test_a_permanent_failure_is_final(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        journal.failed(registration_id, KIND, Channel.EMAIL, "smtp 550", True, T0)

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.FAILED

    def test_a_skipped_delivery_is_skipped(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.skipped(registration_id, KIND, Channel.EMAIL, "no email on file", T0)

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SKIPPED

    def test_channels_are_recorded_apart(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.skipped(registration_id, KIND, Channel.EMAIL, "no email on file", T0)

        journal.prepared(a_record(registration_id, Channel.SMS))

        assert journal.status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SKIPPED
        assert journal.status(registration_id, KIND, Channel.SMS) is DeliveryStatus.PREPARED
