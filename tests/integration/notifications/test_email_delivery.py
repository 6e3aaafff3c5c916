"""The notification activity against the real SMTP sink on loopback."""

from __future__ import annotations

import email
import io
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications.activities import NotificationActivities
from activities.notifications.gateways import OutboxSmsGateway
from activities.notifications.journal import DeliveryStatus
from activities.notifications.kinds import Channel, NotificationKind
from activities.notifications.mail import SmtpMailer
from tests.builders.notifications import (
    REFERENCE,
    REGISTRATION_ID,
    SENDER,
    an_input,
    key,
    notification_activities,
    parsed_request,
)
from tests.fakes.notifications import InMemoryNotificationJournal, WorkerDied
from workers.run.smtp_sink import SmtpSink, start_sink

EMAIL = key(Channel.EMAIL)
SUBJECT = "Đã tiếp nhận tờ khai đăng ký tài khoản giao dịch điện tử cho con - DK-1A2B3C4D"


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def journal() -> InMemoryNotificationJournal:
    return InMemoryNotificationJournal()


@pytest.fixture
def outbox(tmp_path: Path) -> OutboxSmsGateway:
    return OutboxSmsGateway(tmp_path / "sms")


@pytest.fixture
def activities(
    journal: InMemoryNotificationJournal, mailer: SmtpMailer, outbox: OutboxSmsGateway
) -> NotificationActivities:
    return notification_activities(journal, mailer, outbox)


async def test_the_received_email_arrives_with_vietnamese_headers_parts_and_the_declaration(
    activities: NotificationActivities, sink: SmtpSink
) -> None:
    await ActivityEnvironment().run(activities.notify_guardian, an_input())

    [path] = sink.messages()
    raw = path.read_bytes()
    message = read(path)
    assert message["Subject"] == SUBJECT
    assert b"Subject: =?utf-8?" in raw
    assert message["To"].addresses[0].display_name == "Nguyễn Văn An"
    assert message["To"].addresses[0].addr_spec == "an.nguyen@example.vn"
    assert message["From"].addresses[0].display_name == "VssID - BHXH Việt Nam"
    assert message["Message-ID"] == f"<childreg.{REGISTRATION_ID}.received.email@vssid.example.vn>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Kính gửi ông/bà Nguyễn Văn An," in text.get_content()
    assert "<strong>Nguyễn Minh Khôi</strong>" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"to-khai-{REFERENCE}.pdf"
    pdf_text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Nguyễn Minh Khôi" in pdf_text
    assert "Nguyễn Văn An" in pdf_text


async def test_the_email_is_retried_while_the_server_is_down_and_delivered_once_when_it_is_up(
    journal: InMemoryNotificationJournal,
    outbox: OutboxSmsGateway,
    free_port: int,
    mail_dir: Path,
) -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port, sender=SENDER, timeout_seconds=2)
    activities = notification_activities(journal, mailer, outbox)
    with pytest.raises(ApplicationError) as raised:
        await activities.notify_guardian(an_input())
    assert not raised.value.non_retryable
    assert journal.delivery_status(*EMAIL) is DeliveryStatus.PREPARED

    with start_sink(mail_dir, free_port) as sink:
        result = await activities.notify_guardian(an_input())
        await mailer.close()

    assert result.email.status is DeliveryStatus.SENT
    assert result.sms.already is True
    assert len(sink.messages()) == 1
    assert journal.steps(EMAIL) == ["prepared", "failed", "sent"]


async def test_a_refused_recipient_is_recorded_as_failed_without_failing_the_workflow(
    activities: NotificationActivities, journal: InMemoryNotificationJournal, sink: SmtpSink
) -> None:
    refused = an_input(request=parsed_request(email="refuse.me@example.vn"))

    result = await activities.notify_guardian(refused)

    assert result.email.status is DeliveryStatus.FAILED
    assert result.email.detail == "smtp 550"
    assert result.sms.status is DeliveryStatus.SENT
    failure = journal.last(EMAIL)
    assert (failure.step, failure.permanent, failure.error) == ("failed", True, "smtp 550")
    assert sink.messages() == []


async def test_the_same_activity_run_twice_delivers_one_message(
    activities: NotificationActivities, sink: SmtpSink
) -> None:
    await activities.notify_guardian(an_input())

    await activities.notify_guardian(an_input())

    assert len(sink.messages()) == 1
    assert sink.duplicates == 0


async def test_a_worker_dying_before_recording_the_send_leaves_one_message_in_the_mailbox(
    activities: NotificationActivities, journal: InMemoryNotificationJournal, sink: SmtpSink
) -> None:
    journal.die_before_recording_sent = True
    with pytest.raises(WorkerDied):
        await activities.notify_guardian(an_input())

    result = await activities.notify_guardian(an_input())

    assert result.email.status is DeliveryStatus.SENT
    assert len(sink.messages()) == 1
    assert sink.duplicates == 1


async def test_a_guardian_without_email_gets_only_the_sms(
    activities: NotificationActivities,
    journal: InMemoryNotificationJournal,
    outbox: OutboxSmsGateway,
    sink: SmtpSink,
) -> None:
    result = await activities.notify_guardian(an_input(request=parsed_request(email=None)))

    assert result.email.status is DeliveryStatus.SKIPPED
    assert journal.last(EMAIL).why == "no email on file"
    assert sink.messages() == []
    assert len(list(outbox.directory.glob("*.json"))) == 1


async def test_one_connection_carries_many_messages(
    mailer: SmtpMailer, activities: NotificationActivities, sink: SmtpSink
) -> None:
    for number in range(3):
        registration_id = REGISTRATION_ID.__class__(int=REGISTRATION_ID.int + number)
        await activities.notify_guardian(an_input(registration_id=registration_id))

    assert len(sink.messages()) == 3
    assert len({received.peer for received in sink.received}) == 1
    assert mailer.connections_opened == 1


async def test_the_mailer_reconnects_when_the_server_dropped_the_connection(
    journal: InMemoryNotificationJournal, outbox: OutboxSmsGateway, free_port: int, mail_dir: Path
) -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port, sender=SENDER, timeout_seconds=2)
    activities = notification_activities(journal, mailer, outbox)
    with start_sink(mail_dir, free_port):
        await activities.notify_guardian(an_input())

    with start_sink(mail_dir, free_port) as restarted:
        later = an_input(registration_id=REGISTRATION_ID.__class__(int=REGISTRATION_ID.int + 1))
        result = await activities.notify_guardian(later)
        await mailer.close()

    assert result.email.status is DeliveryStatus.SENT
    assert len(restarted.messages()) == 2
    assert mailer.connections_opened == 2


async def test_each_supplement_round_reaches_the_mailbox_and_the_outbox_once(
    activities: NotificationActivities,
    journal: InMemoryNotificationJournal,
    outbox: OutboxSmsGateway,
    sink: SmtpSink,
) -> None:
    for occasion in (1, 2, 2, 1):
        result = await activities.notify_guardian(
            an_input(NotificationKind.SUPPLEMENT_REQUESTED, occasion=occasion)
        )
        assert result.occasion == occasion

    messages = [read(path) for path in sink.messages()]
    assert sorted(message["Message-ID"] for message in messages) == [
        f"<childreg.{REGISTRATION_ID}.supplement_requested.2.email@vssid.example.vn>",
        f"<childreg.{REGISTRATION_ID}.supplement_requested.email@vssid.example.vn>",
    ]
    assert sink.duplicates == 0
    assert sorted(path.name for path in outbox.directory.glob("*.json")) == [
        f"childreg.{REGISTRATION_ID}.supplement_requested.2.sms.json",
        f"childreg.{REGISTRATION_ID}.supplement_requested.sms.json",
    ]
    for occasion in (1, 2):
        supplement = key(Channel.EMAIL, NotificationKind.SUPPLEMENT_REQUESTED, occasion=occasion)
        assert journal.steps(supplement) == ["prepared", "sent"]
