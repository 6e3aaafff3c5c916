"""A connection left in a wrong state: a relay that answers a session error (SMTP 503, bad
sequence of commands) gets the message retried on a fresh connection, not recorded as refused
for good; a send cancelled mid-transaction (a heartbeat timeout) leaves no half-done session
for the next message. On real aiosmtpd servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from activities.notifications.activities import NotificationActivities
from activities.notifications.journal import DeliveryStatus
from activities.notifications.kinds import Channel
from activities.notifications.mail import SmtpMailer, compose
from tests.builders.notifications import SENDER, an_input, key, notification_activities
from tests.fakes.notifications import InMemoryNotificationJournal, RecordingSmsGateway


class SequenceConfused:
    """Answers the first connection's first recipient with 503, then accepts everything."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.delivered: list[bytes] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if session.peer not in self.connections:
            self.connections.append(session.peer)
        if len(self.connections) == 1:
            return "503 5.5.1 Error: need MAIL command"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.delivered.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def relay(free_port: int) -> Iterator[tuple[SequenceConfused, Controller]]:
    handler = SequenceConfused()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port)
    controller.start()
    yield handler, controller
    controller.stop()


async def test_a_session_error_is_retried_on_a_new_connection_and_delivered(
    relay: tuple[SequenceConfused, Controller],
) -> None:
    handler, controller = relay
    mailer = SmtpMailer(host="127.0.0.1", port=controller.port, sender=SENDER, timeout_seconds=5)
    journal = InMemoryNotificationJournal()
    activities: NotificationActivities = notification_activities(
        journal, mailer, RecordingSmsGateway()
    )

    with pytest.raises(Exception, match="smtp 503"):
        await activities.notify_guardian(an_input())
    assert journal.last(key(Channel.EMAIL)).permanent is False
    result = await activities.notify_guardian(an_input())  # Temporal's retry
    await mailer.close()

    assert result.email.status is DeliveryStatus.SENT
    assert len(handler.delivered) == 1
    assert mailer.connections_opened == 2


class SlowAtTheFirstMessage:
    """Holds the first message's DATA until the client gives up; accepts the others."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.first = True

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.first:
            self.first = False
            await asyncio.sleep(30)
        assert isinstance(envelope.content, bytes)
        self.delivered.append(envelope.content)
        return "250 Message accepted for delivery"


async def test_a_send_cancelled_mid_transaction_leaves_the_next_one_a_fresh_connection(
    free_port: int,
) -> None:
    handler = SlowAtTheFirstMessage()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port)
    controller.start()
    mailer = SmtpMailer(host="127.0.0.1", port=free_port, sender=SENDER, timeout_seconds=5)
    messages = [
        compose(
            sender=SENDER,
            to_name="Nguyễn Văn An",
            to_address="an.nguyen@example.vn",
            subject=f"thư {number}",
            text="nội dung",
            html="<p>nội dung</p>",
            message_id=f"<m{number}@childreg.test>",
            date=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        )
        for number in (1, 2)
    ]
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(mailer.send(messages[0]), 1)
        await mailer.send(messages[1])
        await mailer.close()
    finally:
        controller.stop()

    assert mailer.connections_opened == 2
    assert [b"m2@childreg.test" in content for content in handler.delivered] == [True]
