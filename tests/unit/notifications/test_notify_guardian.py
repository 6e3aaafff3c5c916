"""The activity with fake adapters: what is sent, what is recorded, and that it happens once."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from activities.notifications.errors import DeliveryError
from activities.notifications.journal import DeliveryStatus
from activities.notifications.kinds import (
    MAX_OCCASIONS,
    Channel,
    NotificationKind,
    delivery_name,
    sms_message_id,
)
from activities.notifications.links import verify_token
from activities.notifications.models import NotifyGuardianInput, NotifyGuardianResult
from domain.registration import MAX_SUPPLEMENT_ROUNDS
from tests.builders.notifications import (
    BASE_URL,
    LINK_SECRET,
    NOW,
    OCCURRED_AT,
    REFERENCE,
    REGISTRATION_ID,
    an_input,
    key,
    notification_activities,
    parsed_request,
)
from tests.fakes.notifications import (
    InMemoryNotificationJournal,
    RecordingMailer,
    RecordingSmsGateway,
    WorkerDied,
)

EMAIL = key(Channel.EMAIL)
SMS = key(Channel.SMS)
PERSONAL = ["Nguyễn", "Khôi", "an.nguyen", "0912345678", "+84912345678", "example.vn"]


class World:
    def __init__(self) -> None:
        self.journal = InMemoryNotificationJournal()
        self.mailer = RecordingMailer()
        self.sms = RecordingSmsGateway()
        self.activities = notification_activities(self.journal, self.mailer, self.sms)


@pytest.fixture
def world() -> World:
    return World()


async def test_the_guardian_gets_an_email_and_an_sms_and_both_are_journaled(world: World) -> None:
    result = await world.activities.notify_guardian(an_input())

    assert result.email.status is DeliveryStatus.SENT
    assert result.sms.status is DeliveryStatus.SENT
    assert len(world.mailer.sent) == 1
    assert len(world.sms.sent) == 1
    assert world.journal.steps(EMAIL) == ["prepared", "sent"]
    assert world.journal.steps(SMS) == ["prepared", "sent"]


async def test_the_intent_records_template_masked_recipient_and_hashes(world: World) -> None:
    await world.activities.notify_guardian(an_input())

    [email] = world.journal.records(EMAIL)
    message = world.mailer.sent[0]
    pdf = next(message.iter_attachments()).get_content()
    assert email.template_id == "email/received"
    assert email.template_version == 1
    assert email.recipient_masked == "an.n***@example.vn"
    assert email.attachment_sha256 == hashlib.sha256(pdf).hexdigest()
    assert email.message_id == message["Message-ID"]
    assert email.at == NOW
    [sms] = world.journal.records(SMS)
    assert sms.template_id == "sms/received"
    assert sms.recipient_masked == "+8491*****78"
    assert sms.body_sha256 == hashlib.sha256(world.sms.sent[0].text.encode()).hexdigest()
    assert sms.attachment_sha256 is None


async def test_running_the_same_notification_twice_sends_it_once(world: World) -> None:
    first = await world.activities.notify_guardian(an_input())

    again = await world.activities.notify_guardian(an_input())

    assert len(world.mailer.sent) == 1
    assert len(world.sms.sent) == 1
    assert first.email.already is False
    assert again.email.already is True
    assert again.sms.already is True
    assert world.journal.steps(EMAIL) == ["prepared", "sent"]


async def test_a_worker_dying_after_the_send_resends_the_same_message_on_retry(
    world: World,
) -> None:
    world.journal.die_before_recording_sent = True
    with pytest.raises(WorkerDied):
        await world.activities.notify_guardian(an_input())

    await world.activities.notify_guardian(an_input())

    first, again = world.mailer.sent
    assert first["Message-ID"] == again["Message-ID"]
    assert str(first.get_body(("plain",))) == str(again.get_body(("plain",)))
    assert world.journal.steps(EMAIL) == ["prepared", "sent"]


async def test_a_refused_recipient_is_recorded_as_failed_and_not_raised(world: World) -> None:
    world.mailer.failures.append(DeliveryError("smtp 550", permanent=True))

    result = await world.activities.notify_guardian(an_input())

    assert result.email.status is DeliveryStatus.FAILED
    assert result.email.detail == "smtp 550"
    assert result.sms.status is DeliveryStatus.SENT
    failure = world.journal.last(EMAIL)
    assert (failure.step, failure.error, failure.permanent) == ("failed", "smtp 550", True)


async def test_a_permanently_failed_notification_is_not_tried_again(world: World) -> None:
    world.mailer.failures.append(DeliveryError("smtp 550", permanent=True))
    await world.activities.notify_guardian(an_input())

    again = await world.activities.notify_guardian(an_input())

    assert again.email.status is DeliveryStatus.FAILED
    assert again.email.already is True
    assert world.mailer.sent == []


async def test_a_transient_failure_raises_for_a_retry_after_trying_the_other_channel(
    world: World,
) -> None:
    world.mailer.failures.append(DeliveryError("SMTPConnectError", permanent=False))

    with pytest.raises(ApplicationError) as raised:
        await world.activities.notify_guardian(an_input())

    assert raised.value.type == "NotificationDeliveryDelayed"
    assert not raised.value.non_retryable
    assert len(world.sms.sent) == 1
    assert world.journal.delivery_status(*EMAIL) is DeliveryStatus.PREPARED
    assert world.journal.last(EMAIL).permanent is False


async def test_the_retry_after_a_transient_failure_sends_only_what_is_missing(
    world: World,
) -> None:
    world.sms.failures.append(DeliveryError("http 503", permanent=False))
    with pytest.raises(ApplicationError):
        await world.activities.notify_guardian(an_input())

    result = await world.activities.notify_guardian(an_input())

    assert result.email.already is True
    assert result.sms.status is DeliveryStatus.SENT
    assert len(world.mailer.sent) == 1
    assert len(world.sms.sent) == 1
    assert world.journal.steps(SMS) == ["prepared", "failed", "sent"]


async def test_what_reaches_temporal_on_failure_holds_no_personal_data(world: World) -> None:
    world.mailer.failures.append(DeliveryError("smtp 451", permanent=False))
    world.sms.failures.append(DeliveryError("http 503", permanent=False))

    with pytest.raises(ApplicationError) as raised:
        await world.activities.notify_guardian(an_input())

    message = raised.value.message
    assert message == "notification delivery delayed: email smtp 451, sms http 503"
    assert raised.value.__cause__ is None
    assert not any(fragment in message for fragment in PERSONAL)


async def test_log_lines_hold_ids_kinds_and_channels_but_no_personal_data(world: World) -> None:
    world.mailer.failures.append(DeliveryError("smtp 550", permanent=True))

    with capture_logs() as logs:
        await world.activities.notify_guardian(an_input())
        await world.activities.notify_guardian(an_input(request=parsed_request(email=None)))

    assert {line["event"] for line in logs} >= {"notification.failed", "notification.sent"}
    for line in logs:
        assert not any(fragment in str(value) for value in line.values() for fragment in PERSONAL)


async def test_a_guardian_without_email_gets_an_sms_and_the_skip_is_recorded(world: World) -> None:
    result = await world.activities.notify_guardian(an_input(request=parsed_request(email=None)))

    assert result.email.status is DeliveryStatus.SKIPPED
    assert result.sms.status is DeliveryStatus.SENT
    assert world.mailer.sent == []
    skip = world.journal.last(EMAIL)
    assert (skip.step, skip.why) == ("skipped", "no email on file")


async def test_the_sms_is_plain_gsm_with_the_reference_and_a_link_that_verifies(
    world: World,
) -> None:
    await world.activities.notify_guardian(an_input())

    [sms] = world.sms.sent
    assert sms.to == "+84912345678"
    assert sms.message_id == f"childreg.{REGISTRATION_ID}.received.sms"
    assert "Nguyen Minh Khoi" in sms.text
    assert REFERENCE in sms.text
    token = sms.text.split(f"{BASE_URL}/declarations/")[1].split()[0]
    claims = verify_token(token, secret=LINK_SECRET, now=OCCURRED_AT)
    assert claims.registration_id == REGISTRATION_ID


@pytest.mark.parametrize(
    ("kind", "attached"),
    [
        (NotificationKind.RECEIVED, True),
        (NotificationKind.APPROVED, True),
        (NotificationKind.REJECTED, False),
        (NotificationKind.WITHDRAWN, False),
    ],
)
async def test_the_declaration_is_attached_to_the_receipt_and_the_approval(
    world: World, kind: NotificationKind, attached: bool
) -> None:
    await world.activities.notify_guardian(an_input(kind))

    attachments = list(world.mailer.sent[0].iter_attachments())
    assert bool(attachments) is attached
    assert (world.journal.records(key(Channel.EMAIL, kind))[0].attachment_sha256 is not None) is (
        attached
    )


async def test_each_kind_is_its_own_notification(world: World) -> None:
    await world.activities.notify_guardian(an_input(NotificationKind.RECEIVED))

    await world.activities.notify_guardian(an_input(NotificationKind.APPROVED))

    assert len(world.mailer.sent) == 2
    assert {m["Message-ID"] for m in world.mailer.sent} == {
        f"<childreg.{REGISTRATION_ID}.received.email@vssid.example.vn>",
        f"<childreg.{REGISTRATION_ID}.approved.email@vssid.example.vn>",
    }


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        (NotificationKind.REJECTED, "reason_code"),
        (NotificationKind.AUTO_REJECTED, "reason_code"),
        (NotificationKind.SUPPLEMENT_REQUESTED, "supplement_documents"),
        (NotificationKind.APPROVED, "child_account_id"),
    ],
)
def test_an_input_without_what_its_kind_needs_is_refused(
    kind: NotificationKind, missing: str
) -> None:
    absent: dict[str, Any] = {missing: [] if missing == "supplement_documents" else None}

    with pytest.raises(ValidationError, match=missing):
        an_input(kind, **absent)


def test_an_unknown_reason_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="catalogue"):
        an_input(NotificationKind.REJECTED, reason_code="NOT_A_CODE")


def test_the_activity_is_registered_as_notify_guardian_with_its_typed_input_and_result(
    world: World,
) -> None:
    definition = activity._Definition.must_from_callable(world.activities.notify_guardian)

    assert definition.name == "notify_guardian"
    assert definition.arg_types == [NotifyGuardianInput]
    assert definition.ret_type is NotifyGuardianResult


async def test_the_input_travels_through_temporals_pydantic_converter_unchanged() -> None:
    original = an_input(NotificationKind.SUPPLEMENT_REQUESTED, occasion=2)

    payloads = await pydantic_data_converter.encode([original])
    [decoded] = await pydantic_data_converter.decode(payloads, [NotifyGuardianInput])

    assert decoded == original
    assert isinstance(decoded.registration_id, UUID)


SUPPLEMENT = NotificationKind.SUPPLEMENT_REQUESTED


async def test_each_supplement_round_is_its_own_email_and_sms(world: World) -> None:
    first = await world.activities.notify_guardian(an_input(SUPPLEMENT))

    second = await world.activities.notify_guardian(an_input(SUPPLEMENT, occasion=2))

    assert (first.occasion, second.occasion) == (1, 2)
    assert second.email.status is DeliveryStatus.SENT
    assert second.email.already is False
    assert [m["Message-ID"] for m in world.mailer.sent] == [
        f"<childreg.{REGISTRATION_ID}.supplement_requested.email@vssid.example.vn>",
        f"<childreg.{REGISTRATION_ID}.supplement_requested.2.email@vssid.example.vn>",
    ]
    assert [m.message_id for m in world.sms.sent] == [
        f"childreg.{REGISTRATION_ID}.supplement_requested.sms",
        f"childreg.{REGISTRATION_ID}.supplement_requested.2.sms",
    ]
    for channel in Channel:
        assert world.journal.steps(key(channel, SUPPLEMENT)) == ["prepared", "sent"]
        assert world.journal.steps(key(channel, SUPPLEMENT, occasion=2)) == ["prepared", "sent"]


async def test_the_same_supplement_round_twice_is_told_once(world: World) -> None:
    await world.activities.notify_guardian(an_input(SUPPLEMENT, occasion=2))

    again = await world.activities.notify_guardian(an_input(SUPPLEMENT, occasion=2))

    assert again.email.already is True
    assert again.sms.already is True
    assert len(world.mailer.sent) == 1
    assert len(world.sms.sent) == 1


async def test_a_later_rounds_record_names_its_occasion_and_keeps_the_template(
    world: World,
) -> None:
    await world.activities.notify_guardian(an_input(SUPPLEMENT))
    await world.activities.notify_guardian(an_input(SUPPLEMENT, occasion=3))

    [first] = world.journal.records(key(Channel.EMAIL, SUPPLEMENT))
    [third] = world.journal.records(key(Channel.EMAIL, SUPPLEMENT, occasion=3))
    assert (first.occasion, first.delivery) == (1, "supplement_requested")
    assert (third.occasion, third.delivery) == (3, "supplement_requested.3")
    assert third.message_id == world.mailer.sent[1]["Message-ID"]
    assert (third.template_id, third.template_version) == (
        first.template_id,
        first.template_version,
    )


async def test_a_round_without_email_is_skipped_for_that_round_only(world: World) -> None:
    await world.activities.notify_guardian(an_input(SUPPLEMENT, request=parsed_request(email=None)))

    result = await world.activities.notify_guardian(an_input(SUPPLEMENT, occasion=2))

    assert result.email.status is DeliveryStatus.SENT
    assert world.journal.last(key(Channel.EMAIL, SUPPLEMENT)).step == "skipped"
    assert len(world.sms.sent) == 2


def test_the_occasion_is_one_unless_the_workflow_says_otherwise() -> None:
    message = an_input(SUPPLEMENT).model_dump(mode="json")
    del message["occasion"]  # what a workflow started before occasions existed sends

    assert NotifyGuardianInput.model_validate(message).occasion == 1
    assert NotifyGuardianInput.model_validate(message).delivery == "supplement_requested"
    assert an_input(SUPPLEMENT, occasion=2).delivery == "supplement_requested.2"


@pytest.mark.parametrize("occasion", [0, -1, 4])
def test_an_occasion_outside_the_three_supplement_rounds_is_refused(occasion: int) -> None:
    with pytest.raises(ValidationError, match="occasion"):
        an_input(SUPPLEMENT, occasion=occasion)


@pytest.mark.parametrize("kind", [k for k in NotificationKind if k is not SUPPLEMENT])
def test_only_a_supplement_request_has_more_than_one_occasion(kind: NotificationKind) -> None:
    assert an_input(kind, occasion=1).occasion == 1
    with pytest.raises(ValidationError, match="occasion"):
        an_input(kind, occasion=2)


def test_there_are_as_many_occasions_as_supplement_rounds() -> None:
    assert MAX_OCCASIONS == MAX_SUPPLEMENT_ROUNDS


def test_the_first_occasions_ids_are_those_recorded_before_occasions_existed() -> None:
    assert delivery_name(SUPPLEMENT) == delivery_name(SUPPLEMENT, 1) == "supplement_requested"
    assert sms_message_id(REGISTRATION_ID, SUPPLEMENT) == (
        f"childreg.{REGISTRATION_ID}.supplement_requested.sms"
    )
    assert sms_message_id(REGISTRATION_ID, SUPPLEMENT, occasion=2) == (
        f"childreg.{REGISTRATION_ID}.supplement_requested.2.sms"
    )
    with pytest.raises(ValueError, match="occasion"):
        delivery_name(SUPPLEMENT, 4)
