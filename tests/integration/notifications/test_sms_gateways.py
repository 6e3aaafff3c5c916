"""The SMS gateways: the file outbox, and the HTTP gateway against a local HTTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from activities.notifications.errors import DeliveryError
from activities.notifications.gateways import HttpSmsGateway, OutboxSmsGateway, SmsMessage
from activities.notifications.journal import DeliveryStatus
from activities.notifications.kinds import Channel
from tests.builders.notifications import REGISTRATION_ID, an_input, key, parsed_request
from tests.builders.notifications import notification_activities as build
from tests.fakes.notifications import InMemoryNotificationJournal, RecordingMailer
from tests.integration.notifications.conftest import ScriptedGateway

TOKEN = "gateway-bearer-token"
SMS = key(Channel.SMS)
LONG_TEXT = "BHXH Viet Nam: " + "Da tiep nhan to khai. " * 10


def a_message(text: str = "BHXH Viet Nam: Da tiep nhan to khai DK-1A2B3C4D") -> SmsMessage:
    return SmsMessage(
        message_id=f"childreg.{REGISTRATION_ID}.received.sms", to="+84912345678", text=text
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


async def test_the_outbox_keeps_one_json_file_per_message(tmp_path: Path) -> None:
    outbox = OutboxSmsGateway(tmp_path / "sms")

    await outbox.send(a_message(LONG_TEXT))

    [path] = list(outbox.directory.iterdir())
    stored = json.loads(path.read_text("utf-8"))
    assert stored["to"] == "+84912345678"
    assert stored["text"] == LONG_TEXT
    assert [len(part["text"]) for part in stored["segments"]] == [153, len(LONG_TEXT) - 153]
    assert stored["segments"][0]["udh"].startswith("050003")


async def test_the_outbox_writes_a_message_id_once(tmp_path: Path) -> None:
    outbox = OutboxSmsGateway(tmp_path / "sms")
    await outbox.send(a_message())

    await outbox.send(a_message("a different text for the same id"))

    [path] = list(outbox.directory.iterdir())
    assert json.loads(path.read_text("utf-8"))["text"].startswith("BHXH Viet Nam: Da tiep nhan")


async def test_the_http_gateway_posts_json_with_the_bearer_token_and_the_idempotency_key(
    sms_gateway_server: ScriptedGateway,
) -> None:
    gateway = HttpSmsGateway(sms_gateway_server.url, TOKEN, timeout_seconds=2)

    await gateway.send(a_message())

    [request] = sms_gateway_server.requests
    assert request.path == "/v1/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == f"childreg.{REGISTRATION_ID}.received.sms"
    assert request.body["to"] == "+84912345678"
    assert request.body["segments"] == [{"udh": None, "text": a_message().text}]


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_a_server_error_or_throttling_is_transient(
    sms_gateway_server: ScriptedGateway, status: int
) -> None:
    sms_gateway_server.statuses = [status]
    gateway = HttpSmsGateway(sms_gateway_server.url, TOKEN, timeout_seconds=2)

    with pytest.raises(DeliveryError) as failed:
        await gateway.send(a_message())

    assert failed.value.permanent is False
    assert failed.value.detail == f"http {status}"


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_a_client_error_is_permanent(
    sms_gateway_server: ScriptedGateway, status: int
) -> None:
    sms_gateway_server.statuses = [status]
    gateway = HttpSmsGateway(sms_gateway_server.url, TOKEN, timeout_seconds=2)

    with pytest.raises(DeliveryError) as failed:
        await gateway.send(a_message())

    assert failed.value.permanent is True


async def test_a_gateway_that_does_not_answer_in_time_is_transient(silent_port: int) -> None:
    gateway = HttpSmsGateway(f"http://127.0.0.1:{silent_port}/send", TOKEN, timeout_seconds=0.3)

    with pytest.raises(DeliveryError) as failed:
        await gateway.send(a_message())

    assert failed.value.permanent is False


async def test_a_gateway_that_refuses_connections_is_transient(free_port: int) -> None:
    gateway = HttpSmsGateway(f"http://127.0.0.1:{free_port}/send", TOKEN, timeout_seconds=2)

    with pytest.raises(DeliveryError) as failed:
        await gateway.send(a_message())

    assert failed.value.permanent is False
    assert failed.value.detail == "ConnectionRefusedError"


async def test_the_activity_retries_after_a_500_and_the_gateway_sees_the_same_message_twice(
    sms_gateway_server: ScriptedGateway,
) -> None:
    sms_gateway_server.statuses = [500]
    journal = InMemoryNotificationJournal()
    gateway = HttpSmsGateway(sms_gateway_server.url, TOKEN, timeout_seconds=2)
    activities = build(journal, RecordingMailer(), gateway)
    with pytest.raises(ApplicationError):
        await activities.notify_guardian(an_input())

    result = await activities.notify_guardian(an_input())

    assert result.sms.status is DeliveryStatus.SENT
    first, again = sms_gateway_server.requests
    assert first.body == again.body
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"]
    assert journal.steps(SMS) == ["prepared", "failed", "sent"]


async def test_the_activity_records_a_400_as_failed_and_does_not_raise(
    sms_gateway_server: ScriptedGateway,
) -> None:
    sms_gateway_server.statuses = [400]
    journal = InMemoryNotificationJournal()
    gateway = HttpSmsGateway(sms_gateway_server.url, TOKEN, timeout_seconds=2)
    activities = build(journal, RecordingMailer(), gateway)

    result = await activities.notify_guardian(an_input(request=parsed_request(email=None)))

    assert result.sms.status is DeliveryStatus.FAILED
    assert result.sms.detail == "http 400"
    assert journal.delivery_status(*SMS) is DeliveryStatus.FAILED
    assert len(sms_gateway_server.requests) == 1


def test_a_gateway_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match=r"sms\.url"):
        HttpSmsGateway("file:///etc/passwd", TOKEN)
