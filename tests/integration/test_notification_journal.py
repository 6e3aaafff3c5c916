"""The notification journal over the event store: each delivery's life as events, recorded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from activities.notification_journal import EventStoreNotificationJournal
from activities.notifications.journal import DeliveryStatus, NotificationRecord
from activities.notifications.kinds import Channel, NotificationKind
from domain.contract import parse_request
from domain.registration import ActorKind, Cause
from domain.service import RegistrationService
from tests.unit.test_contract import a_request
from workers.persistence import registration_service

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def service(database_url: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, None)
    yield app
    app.close()


@pytest.fixture
def registration_id(service: RegistrationService) -> UUID:
    cause = Cause(
        ActorKind.UPSTREAM,
        "vssid",
        "registration-vssid-20261125-000123",
        "vssid-20261125-000123",
        T0,
    )
    return service.submit(parse_request(a_request()), cause).registration_id


def record(registration_id: UUID, body: str = "b" * 64) -> NotificationRecord:
    return NotificationRecord(
        registration_id=registration_id,
        kind=NotificationKind.RECEIVED,
        channel=Channel.EMAIL,
        template_id="received.email",
        template_version=1,
        recipient_masked="an.n***@example.vn",
        body_sha256=body,
        attachment_sha256="p" * 64,
        message_id="<received.email@childreg>",
        at=T0,
    )


def event_names(service: RegistrationService, registration_id: UUID) -> list[str]:
    return [type(event).__name__ for event in service.history(registration_id)][1:]


def test_a_delivery_is_prepared_then_sent_once_even_when_retried(
    service: RegistrationService, registration_id: UUID
) -> None:
    journal = EventStoreNotificationJournal(service)

    for _ in range(2):
        journal.prepared(record(registration_id))
        journal.sent(
            registration_id,
            NotificationKind.RECEIVED,
            Channel.EMAIL,
            "<received.email@childreg>",
            T0,
        )

    assert (
        journal.status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
        is DeliveryStatus.SENT
    )
    assert event_names(service, registration_id) == ["NotificationPrepared", "GuardianNotified"]
    prepared = service.history(registration_id)[1]
    assert prepared.recipient_masked == "an.n***@example.vn"  # type: ignore[attr-defined]
    assert prepared.template_id == "received.email"  # type: ignore[attr-defined]


def test_transient_failures_are_each_recorded_and_the_delivery_stays_prepared(
    service: RegistrationService, registration_id: UUID
) -> None:
    journal = EventStoreNotificationJournal(service)
    journal.prepared(record(registration_id))

    journal.failed(
        registration_id, NotificationKind.RECEIVED, Channel.EMAIL, "SMTPConnectError", False, T0
    )
    journal.failed(
        registration_id,
        NotificationKind.RECEIVED,
        Channel.EMAIL,
        "SMTPConnectError",
        False,
        T0 + timedelta(seconds=5),
    )

    assert (
        journal.status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
        is DeliveryStatus.PREPARED
    )
    assert event_names(service, registration_id) == [
        "NotificationPrepared",
        "NotificationFailed",
        "NotificationFailed",
    ]


def test_a_permanent_failure_is_final(service: RegistrationService, registration_id: UUID) -> None:
    journal = EventStoreNotificationJournal(service)
    journal.prepared(record(registration_id))

    journal.failed(
        registration_id,
        NotificationKind.RECEIVED,
        Channel.EMAIL,
        "SMTPRecipientRefused 550",
        True,
        T0,
    )
    journal.sent(
        registration_id, NotificationKind.RECEIVED, Channel.EMAIL, "<received.email@childreg>", T0
    )

    assert (
        journal.status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
        is DeliveryStatus.FAILED
    )
    assert event_names(service, registration_id) == ["NotificationPrepared", "NotificationFailed"]


def test_a_changed_intent_is_recorded_again(
    service: RegistrationService, registration_id: UUID
) -> None:
    journal = EventStoreNotificationJournal(service)

    journal.prepared(record(registration_id, body="b" * 64))
    journal.prepared(record(registration_id, body="c" * 64))

    assert event_names(service, registration_id) == ["NotificationPrepared", "NotificationPrepared"]


def test_no_email_on_file_is_recorded_as_skipped(
    service: RegistrationService, registration_id: UUID
) -> None:
    journal = EventStoreNotificationJournal(service)

    journal.skipped(
        registration_id, NotificationKind.RECEIVED, Channel.EMAIL, "no email on file", T0
    )
    journal.skipped(
        registration_id, NotificationKind.RECEIVED, Channel.EMAIL, "no email on file", T0
    )

    assert (
        journal.status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
        is DeliveryStatus.SKIPPED
    )
    assert event_names(service, registration_id) == ["NotificationSkipped"]
