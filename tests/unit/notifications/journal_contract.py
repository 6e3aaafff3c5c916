"""What every NotificationJournal must do. Subclass with a ``journal`` fixture to run it against an
adapter (``test_in_memory_journal.py`` runs it against the fake,
``tests/integration/test_notification_journal.py`` against the event store)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID

from activities.notifications.journal import (
    DeliveryStatus,
    NotificationJournal,
    NotificationRecord,
)
from activities.notifications.kinds import (
    Channel,
    NotificationKind,
    delivery_name,
    email_message_id,
    sms_message_id,
)

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
KIND = NotificationKind.RECEIVED
SUPPLEMENT = NotificationKind.SUPPLEMENT_REQUESTED


def a_record(
    registration_id: UUID,
    channel: Channel = Channel.EMAIL,
    *,
    kind: NotificationKind = KIND,
    occasion: int = 1,
) -> NotificationRecord:
    email = channel is Channel.EMAIL
    return NotificationRecord(
        registration_id=registration_id,
        kind=kind,
        occasion=occasion,
        channel=channel,
        template_id=f"{channel}/{kind}",
        template_version=1,
        recipient_masked="an.n***@example.vn" if email else "+8491*****78",
        body_sha256="b" * 64,
        attachment_sha256="p" * 64 if email else None,
        message_id=(
            email_message_id(registration_id, kind, "no-reply@vssid.example.vn", occasion=occasion)
            if email
            else sms_message_id(registration_id, kind, occasion=occasion)
        ),
        at=T0,
        subject="Đã nhận hồ sơ đăng ký" if email else None,
        body="Hồ sơ đăng ký của con đã được tiếp nhận.",
    )


class NotificationJournalContract:
    """Each test gets ``journal`` and a ``registration_id`` the journal can record against."""

    def test_nothing_is_recorded_for_a_new_delivery(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        assert journal.delivery_status(registration_id, KIND, Channel.EMAIL) is None

    def test_a_prepared_delivery_is_prepared(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED
        )

    def test_a_sent_delivery_is_sent_and_stays_sent(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id)
        journal.prepared(record)

        journal.sent(registration_id, KIND, Channel.EMAIL, record.message_id, T0)
        journal.sent(registration_id, KIND, Channel.EMAIL, record.message_id, T0)

        assert journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SENT

    def test_preparing_again_on_a_retry_keeps_it_prepared(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id)
        journal.prepared(record)

        journal.prepared(dataclasses.replace(record, at=T0 + timedelta(seconds=30)))

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED
        )

    def test_a_transient_failure_leaves_the_delivery_to_be_retried(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        journal.failed(registration_id, KIND, Channel.EMAIL, "SMTPConnectError", False, T0)

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.PREPARED
        )

    def test_a_permanent_failure_is_final(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.prepared(a_record(registration_id))

        journal.failed(registration_id, KIND, Channel.EMAIL, "smtp 550", True, T0)

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.FAILED
        )

    def test_a_skipped_delivery_is_skipped(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.skipped(registration_id, KIND, Channel.EMAIL, "no email on file", T0)

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SKIPPED
        )

    def test_channels_are_recorded_apart(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        journal.skipped(registration_id, KIND, Channel.EMAIL, "no email on file", T0)

        journal.prepared(a_record(registration_id, Channel.SMS))

        assert (
            journal.delivery_status(registration_id, KIND, Channel.EMAIL) is DeliveryStatus.SKIPPED
        )
        assert (
            journal.delivery_status(registration_id, KIND, Channel.SMS) is DeliveryStatus.PREPARED
        )

    def test_the_first_occasion_is_named_by_the_bare_kind(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id, kind=SUPPLEMENT)
        journal.prepared(record)

        journal.sent(registration_id, record.delivery, Channel.EMAIL, record.message_id, T0)

        assert record.delivery == "supplement_requested"
        assert (
            journal.delivery_status(registration_id, SUPPLEMENT, Channel.EMAIL)
            is DeliveryStatus.SENT
        )

    def test_each_occasion_is_its_own_delivery(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        second = delivery_name(SUPPLEMENT, 2)
        first = a_record(registration_id, kind=SUPPLEMENT)
        journal.prepared(first)
        journal.sent(registration_id, first.delivery, Channel.EMAIL, first.message_id, T0)
        assert journal.delivery_status(registration_id, second, Channel.EMAIL) is None

        record = a_record(registration_id, kind=SUPPLEMENT, occasion=2)
        journal.prepared(record)
        assert (
            journal.delivery_status(registration_id, second, Channel.EMAIL)
            is DeliveryStatus.PREPARED
        )
        journal.sent(registration_id, second, Channel.EMAIL, record.message_id, T0)

        assert record.delivery == second == "supplement_requested.2"
        assert (
            journal.delivery_status(registration_id, second, Channel.EMAIL) is DeliveryStatus.SENT
        )
        assert (
            journal.delivery_status(registration_id, SUPPLEMENT, Channel.EMAIL)
            is DeliveryStatus.SENT
        )
        assert (
            journal.delivery_status(registration_id, delivery_name(SUPPLEMENT, 3), Channel.EMAIL)
            is None
        )

    def test_a_final_status_of_one_occasion_does_not_end_another(
        self, journal: NotificationJournal, registration_id: UUID
    ) -> None:
        second = delivery_name(SUPPLEMENT, 2)
        journal.skipped(registration_id, SUPPLEMENT, Channel.EMAIL, "no email on file", T0)
        journal.prepared(a_record(registration_id, Channel.SMS, kind=SUPPLEMENT))
        journal.failed(registration_id, SUPPLEMENT, Channel.SMS, "http 400", True, T0)

        journal.skipped(registration_id, second, Channel.EMAIL, "no email on file", T0)
        journal.prepared(a_record(registration_id, Channel.SMS, kind=SUPPLEMENT, occasion=2))
        journal.failed(registration_id, second, Channel.SMS, "http 503", False, T0)

        assert (
            journal.delivery_status(registration_id, second, Channel.EMAIL)
            is DeliveryStatus.SKIPPED
        )
        assert (
            journal.delivery_status(registration_id, second, Channel.SMS) is DeliveryStatus.PREPARED
        )
        assert (
            journal.delivery_status(registration_id, SUPPLEMENT, Channel.SMS)
            is DeliveryStatus.FAILED
        )
