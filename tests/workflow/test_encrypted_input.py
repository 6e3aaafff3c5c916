"""``CHILDREG_REQUIRE_ENCRYPTED_INPUT``: a start that did not come through the codec (plain JSON,
as the ``temporal`` CLI sends) is refused unread, ``INPUT_NOT_ENCRYPTED``; one that did is
accepted. The worker runs on the test server with the real codec and activities."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.contract import FinalOutcome, RegistrationResult
from domain.reasons import ReasonKind, reason
from tests.fakes.notifications import FakeNotifier
from tests.workflow.conftest import TEST_KEY, Stack, reach
from workers.bootstrap import Adapters, build_activities
from workers.temporal_client import AesGcmCodec, data_converter
from workflows.registration import WORKFLOW_TYPE, ChildAccountRegistration, workflow_id_for


def codec_client(temporal: WorkflowEnvironment, *, require_encrypted_input: bool) -> Client:
    config = temporal.client.config()
    config["data_converter"] = data_converter(
        TEST_KEY, require_encrypted_input=require_encrypted_input
    )
    return Client(**config)


@pytest.fixture(params=[True, False], ids=["required", "not-required"])
async def worker(
    request: pytest.FixtureRequest, temporal: WorkflowEnvironment, adapters: Adapters
) -> AsyncIterator[tuple[Stack, Client, bool]]:
    """A worker whose client has the codec, with the setting on or off; the stack's own client
    (``stack.start``) sends plain JSON, the returned client encrypts."""
    required: bool = request.param
    notifier = FakeNotifier()
    task_queue = f"test-{uuid.uuid4().hex}"
    activities = build_activities(adapters, max_wait_days=30, notify=notifier.notify_guardian)
    client = codec_client(temporal, require_encrypted_input=required)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[ChildAccountRegistration],
            activities=activities,
            activity_executor=executor,
            graceful_shutdown_timeout=timedelta(seconds=5),
        ):
            yield Stack(temporal, adapters, notifier, task_queue), client, required


def personal_data(request: dict[str, Any]) -> list[str]:
    return [
        request["guardian"]["full_name"],
        request["guardian"]["phone"],
        request["guardian"]["email"],
        request["guardian"]["social_insurance_code"],
        request["child"]["full_name"],
        request["child"]["social_insurance_code"],
        request["child"]["date_of_birth"],
    ]


def payloads_in(message: Message) -> Iterator[Payload]:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif isinstance(value, Message):
            items = [value]
        else:  # a repeated field
            items = list(value)
        for item in items:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from payloads_in(item)


async def decoded_history(handle: WorkflowHandle[Any, Any]) -> list[bytes]:
    """Every payload the worker wrote into the history, decoded with the key (the start's input
    is what the upstream sent, in plain text on the server: not the worker's)."""
    codec = AesGcmCodec(TEST_KEY)
    history = await handle.fetch_history()
    decoded = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            continue
        for payload in await codec.decode(list(payloads_in(event))):
            decoded.append(payload.SerializeToString())
    return decoded


async def test_a_plain_json_start_is_refused_unread_when_required(
    worker: tuple[Stack, Client, bool],
) -> None:
    stack, client, required = worker
    request = stack.request()

    started = await stack.start(request)  # the stack's client has no codec: plain JSON
    handle = client.get_workflow_handle(started.id, result_type=RegistrationResult)  # reads
    if not required:
        await reach(handle, "awaiting_review")
        assert stack.events(request["request_id"])[0] == "Submitted"
        await handle.terminate("test over")
        return
    result = await handle.result()

    assert (result.outcome, result.reason_code, result.reason_field) == (
        FinalOutcome.AUTO_REJECTED,
        "INPUT_NOT_ENCRYPTED",
        "request",
    )
    kept_under = workflow_id_for(request["request_id"])  # unread: the workflow's id, as sent
    history = stack.history(kept_under)
    assert [type(e).__name__ for e in history] == ["Submitted", "AutoRejected"]
    assert history[0].request == {}  # type: ignore[attr-defined]
    assert stack.kinds_sent() == []  # no contact was read
    assert reason("INPUT_NOT_ENCRYPTED").kind is ReasonKind.AUTOMATIC
    decoded = await decoded_history(handle)
    assert any(b"INPUT_NOT_ENCRYPTED" in item for item in decoded)  # the payloads were read
    written = [result.model_dump_json().encode(), *map(repr, history), *decoded]
    for value in personal_data(request):
        for item in written:
            assert value.encode() not in (item if isinstance(item, bytes) else item.encode())


async def test_an_encrypted_start_is_accepted_either_way(
    worker: tuple[Stack, Client, bool],
) -> None:
    stack, client, _ = worker
    request = stack.request()

    handle: WorkflowHandle[Any, RegistrationResult] = await client.start_workflow(
        WORKFLOW_TYPE,
        request,
        id=workflow_id_for(request["request_id"]),
        task_queue=stack.task_queue,
        result_type=RegistrationResult,
    )

    status = await reach(handle, "awaiting_review")
    assert status.reason_code is None
    assert stack.events(request["request_id"])[:2] == ["Submitted", "IdentityVerified"]
    await handle.terminate("test over")
