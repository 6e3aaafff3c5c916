"""A backlog of guardian notifications does not hold up the registrations' own steps.

After a relay outage hundreds of ``notify_guardian`` retries fill the task queue at once; a
registration's ``store_documents`` scheduled behind them used to wait for the whole backlog
(30-55 s in ``make faults`` after a worker kill). ``notify_guardian`` is scheduled below the
default priority, so the steps go first. On a real Temporal dev server (the time-skipping test
server does not order by priority).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.messages import ActivityName, DocumentsInput, StepOutcome
from activities.notifications.models import NotifyGuardianInput
from domain.lifecycle import State, is_final
from tests.fakes.notifications import FakeNotifier
from tests.workflow.conftest import Stack, status_of
from workers.bootstrap import Adapters, build_activities
from workflows.registration import ChildAccountRegistration

REGISTRATIONS = 10


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


class CatchingUpRelay:
    """``notify_guardian`` at a relay working through a backlog: each message takes a while."""

    def __init__(self, order: list[str]) -> None:
        self._order = order

    @activity.defn(name=ActivityName.NOTIFY_GUARDIAN)
    async def notify_guardian(self, message: NotifyGuardianInput) -> None:
        self._order.append(f"notify {message.kind.value}")
        await asyncio.sleep(0.2)


async def test_documents_are_stored_ahead_of_a_backlog_of_notifications(
    dev_server: WorkflowEnvironment, adapters: Adapters
) -> None:
    order: list[str] = []
    activities = build_activities(
        adapters, max_wait_days=30, notify=CatchingUpRelay(order).notify_guardian
    )
    store = next(a for a in activities if activity_name(a) == ActivityName.STORE_DOCUMENTS)

    @activity.defn(name=ActivityName.STORE_DOCUMENTS)
    def store_documents(data: DocumentsInput) -> StepOutcome:
        order.append("store_documents")
        outcome: StepOutcome = store(data)
        return outcome

    activities = [a for a in activities if a is not store] + [store_documents]
    task_queue = "priority-test"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            dev_server.client,
            task_queue=task_queue,
            workflows=[ChildAccountRegistration],
            activities=activities,
            activity_executor=executor,
            max_concurrent_activities=1,  # one slot: the queue's order is the order they run in
            graceful_shutdown_timeout=timedelta(seconds=5),
        ):
            stack = Stack(dev_server, adapters, FakeNotifier(), task_queue)
            handles = await asyncio.gather(
                *(stack.start(stack.request()) for _ in range(REGISTRATIONS))
            )
            # One of them claims the child and waits for a reviewer; the others are
            # auto-rejected (the same child is in progress) and told so.
            for handle in handles:
                await settled(handle)
            await stack.end_what_runs()

    documents = order.index("store_documents")
    received = [n for n, step in enumerate(order) if step == "notify received"]
    assert len(received) == REGISTRATIONS
    # In the queue's order (no priority) every "received" notification, all scheduled at the
    # start, ran before the documents scheduled after one of them; with notifications below the
    # steps, the documents go in as soon as they are scheduled.
    assert documents < REGISTRATIONS // 2, order


async def settled(handle: WorkflowHandle[Any, Any], within: float = 60) -> None:
    """Until it waits for a reviewer or has ended."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        state = State((await status_of(handle)).state)
        if state == State.AWAITING_REVIEW or is_final(state):
            return
        if loop.time() > give_up:
            raise AssertionError(f"the registration stayed {state}")
        await asyncio.sleep(0.1)


def activity_name(function: Any) -> str:
    definition = activity._Definition.from_callable(function)
    assert definition is not None
    return str(definition.name)
