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
ONE_PARTITION = [
    *("--dynamic-config-value", "matching.numTaskqueueReadPartitions=1"),
    *("--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"),
]


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_log_level="error",
        # One partition: the queue's order is the order its tasks are handed out in.
        dev_server_extra_args=ONE_PARTITION,
    )
    yield env
    await env.shutdown()


class CatchingUpRelay:
    """``notify_guardian`` at a relay working through a backlog: nothing goes out until
    ``opened``, then each message takes a while."""

    def __init__(self, order: list[str]) -> None:
        self._order = order
        self.opened = asyncio.Event()

    @activity.defn(name=ActivityName.NOTIFY_GUARDIAN)
    async def notify_guardian(self, message: NotifyGuardianInput) -> None:
        await self.opened.wait()
        self._order.append(f"notify {message.kind.value}")
        await asyncio.sleep(0.5)


async def test_documents_are_stored_ahead_of_a_backlog_of_notifications(
    dev_server: WorkflowEnvironment, adapters: Adapters
) -> None:
    order: list[str] = []
    relay = CatchingUpRelay(order)
    activities = build_activities(adapters, max_wait_days=30, notify=relay.notify_guardian)
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
            # Every "received" notification is in the queue (one of them on the worker's only
            # slot, waiting for the relay) before the relay opens.
            await until_all_pending(handles, ActivityName.NOTIFY_GUARDIAN)
            relay.opened.set()
            # One of them claims the child and waits for a reviewer; the others are
            # auto-rejected (the same child is in progress) and told so.
            for handle in handles:
                await settled(handle)
            await stack.end_what_runs()

    documents = order.index("store_documents")
    received = [n for n, step in enumerate(order) if step == "notify received"]
    assert len(received) == REGISTRATIONS
    # In the queue's order (no priority) every "received" notification, all in the queue before
    # the relay opened, ran before the documents scheduled after the first of them; with
    # notifications below the steps, the documents go in as soon as they are scheduled.
    assert documents < received[-1], order


async def until_all_pending(
    handles: list[WorkflowHandle[Any, Any]], name: str, within: float = 60
) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    for handle in handles:
        while True:
            described = await handle.describe()
            pending = described.raw_description.pending_activities
            if any(p.activity_type.name == name for p in pending):
                break
            if loop.time() > give_up:
                raise AssertionError(f"no {name} pending")
            await asyncio.sleep(0.1)


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
