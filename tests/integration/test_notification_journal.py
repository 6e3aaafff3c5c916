"""The notification journal over the event store: each delivery's life as events, recorded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from activities.notifications.activities import NotificationActivities
from activities.notifications.event_store_journal import EventStoreNotificationJournal
from activities.notifications.journal import DeliveryStatus, NotificationRecord
from activities.notifications.kinds import Channel, NotificationKind, delivery_name
from domain.contract import parse_request
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from tests.builders import a_request
from tests.builders import notifications as examples
from tests.fakes.notifications import RecordingMailer, RecordingSmsGateway
from tests.unit.notifications.journal_contract import NotificationJournalContract, a_record
from workers.bootstrap import registration_service

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
        occasion=1,
        channel=Channel.EMAIL,
        template_id="received.email",
        template_version=1,
        recipient_masked="an.n***@example.vn",
        body_sha256=body,
        attachment_sha256="p" * 64,
        message_id="<received.email@childreg>",
        at=T0,
        subject="Đã nhận hồ sơ đăng ký",
        body="Hồ sơ đăng ký của con đã được tiếp nhận.",
    )


def event_names(service: RegistrationService, registration_id: UUID) -> list[str]:
    return [type(event).__name__ for event in service.history(registration_id)][1:]


class TestEventStoreNotificationJournal(NotificationJournalContract):
    """The port's contract, against the event store."""

    @pytest.fixture
    def journal(self, service: RegistrationService) -> EventStoreNotificationJournal:
        return EventStoreNotificationJournal(service)


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
        journal.delivery_status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
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
        journal.delivery_status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
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
        journal.delivery_status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
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
        journal.delivery_status(registration_id, NotificationKind.RECEIVED, Channel.EMAIL)
        is DeliveryStatus.SKIPPED
    )
    assert event_names(service, registration_id) == ["NotificationSkipped"]


SUPPLEMENT = NotificationKind.SUPPLEMENT_REQUESTED


def test_two_supplement_rounds_are_recorded_as_two_deliveries_each_once(
    service: RegistrationService, registration_id: UUID
) -> None:
    journal = EventStoreNotificationJournal(service)

    for occasion in (1, 2, 2):
        round_ = a_record(registration_id, kind=SUPPLEMENT, occasion=occasion)
        journal.prepared(round_)
        journal.sent(registration_id, round_.delivery, Channel.EMAIL, round_.message_id, T0)

    assert event_names(service, registration_id) == [
        "NotificationPrepared",
        "GuardianNotified",
        "NotificationPrepared",
        "GuardianNotified",
    ]
    sent = [
        e for e in service.history(registration_id) if isinstance(e, Registration.GuardianNotified)
    ]
    assert [(event.kind, event.channel) for event in sent] == [
        ("supplement_requested", "email"),
        ("supplement_requested.2", "email"),
    ]
    assert sent[1].message_id == (
        f"<childreg.{registration_id}.supplement_requested.2.email@vssid.example.vn>"
    )
    assert service.get(registration_id).notifications == {
        "supplement_requested/email": "sent",
        "supplement_requested.2/email": "sent",
    }
    assert (
        journal.delivery_status(registration_id, SUPPLEMENT, Channel.EMAIL) is DeliveryStatus.SENT
    )
    assert (
        journal.delivery_status(registration_id, delivery_name(SUPPLEMENT, 2), Channel.EMAIL)
        is DeliveryStatus.SENT
    )
    assert (
        journal.delivery_status(registration_id, delivery_name(SUPPLEMENT, 3), Channel.EMAIL)
        is None
    )


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def sms() -> RecordingSmsGateway:
    return RecordingSmsGateway()


@pytest.fixture
def activities(
    service: RegistrationService, mailer: RecordingMailer, sms: RecordingSmsGateway
) -> NotificationActivities:
    """``notify_guardian`` over the event store's journal, sending to recording fakes."""
    return examples.notification_activities(EventStoreNotificationJournal(service), mailer, sms)


async def test_the_activity_over_the_event_store_tells_each_supplement_round_once(
    service: RegistrationService,
    registration_id: UUID,
    activities: NotificationActivities,
    mailer: RecordingMailer,
    sms: RecordingSmsGateway,
) -> None:
    for occasion in (1, 2, 2, 1):
        await activities.notify_guardian(
            examples.an_input(SUPPLEMENT, registration_id=registration_id, occasion=occasion)
        )

    assert len(mailer.sent) == 2
    assert len(sms.sent) == 2
    assert event_names(service, registration_id).count("GuardianNotified") == 4
    assert service.get(registration_id).notifications == {
        "supplement_requested/email": "sent",
        "supplement_requested/sms": "sent",
        "supplement_requested.2/email": "sent",
        "supplement_requested.2/sms": "sent",
    }


async def test_the_event_store_keeps_each_message_s_text_as_it_was_sent(
    service: RegistrationService,
    registration_id: UUID,
    activities: NotificationActivities,
    mailer: RecordingMailer,
    sms: RecordingSmsGateway,
) -> None:
    await activities.notify_guardian(
        examples.an_input(NotificationKind.APPROVED, registration_id=registration_id)
    )

    prepared = {
        event.channel: event
        for event in service.history(registration_id)
        if isinstance(event, Registration.NotificationPrepared)
    }
    (email,), (text,) = mailer.sent, sms.sent
    plain = email.get_body(("plain",))
    assert plain is not None
    assert prepared["email"].subject == email["Subject"]
    # The message on the wire ends its lines in CRLF (SMTP); the kept text ends them in LF.
    assert prepared["email"].body == plain.get_content().replace("\r\n", "\n")
    assert prepared["sms"].subject is None
    assert prepared["sms"].body == text.text
