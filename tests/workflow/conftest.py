"""The time-skipping Temporal environment (one per session) and a stack per test: a fresh
PostgreSQL database with the registry loaded, the real activities, a fresh task queue."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.accounts import PostgresChildAccounts
from activities.claims import PostgresChildClaims
from activities.documents import DocumentStore
from activities.registry import PostgresRegistry
from domain.contract import (
    ProvideSupplementSignal,
    RegistrationResult,
    RegistrationStatus,
    RequestSupplementSignal,
)
from domain.registration import Registration, registration_id_for
from tests import builders
from tests.fakes.notifications import FakeNotifier
from workers.bootstrap import Adapters, build_activities, registration_service
from workflows.registration import WORKFLOW_TYPE, ChildAccountRegistration, workflow_id_for

TEST_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    yield env
    await env.shutdown()


@pytest.fixture
def adapters(database_url: str, tmp_path: Path) -> Iterator[Adapters]:
    pool = ConnectionPool(database_url, min_size=1, max_size=8, open=False)
    pool.open(wait=True)
    registry = PostgresRegistry(pool)
    registry.create_schema()
    registry.load(builders.registry_data())
    claims = PostgresChildClaims(pool)
    claims.create_schema()
    accounts = PostgresChildAccounts(pool)
    accounts.create_schema()
    service = registration_service(database_url, TEST_KEY)
    yield Adapters(
        service=service,
        registry=registry,
        claims=claims,
        accounts=accounts,
        documents=DocumentStore(tmp_path / "documents", TEST_KEY),
    )
    service.close()
    pool.close()


SKIP_TIME_RPC_TIMEOUT = timedelta(minutes=5)
"""The test server answers a sleep only once the workflows have done what the skipped time made
due (timers fired, their activities run), which on a loaded machine takes longer than the RPC's
default deadline; and a sleep that timed out leaves time skipping locked, so every later test's
``result()`` would wait for ever."""


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """``env.sleep(duration)`` on the time-skipping test server, with room for a loaded machine."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(
        request, timeout=SKIP_TIME_RPC_TIMEOUT
    )


@dataclass
class Stack:
    env: WorkflowEnvironment
    adapters: Adapters
    notifier: FakeNotifier
    task_queue: str
    started: list[WorkflowHandle[Any, RegistrationResult]] = field(default_factory=list)
    """Every workflow this stack started: the fixture ends those still running (below)."""

    async def end_what_runs(self) -> None:
        """Terminate the workflows a test left running, before their worker goes: on the
        time-skipping server a workflow with no worker keeps its next task outstanding, and time
        skipping then waits for it for ever (a later test's sleep or ``result()`` hangs)."""
        for handle in self.started:
            description = await handle.describe()
            if description.status is not WorkflowExecutionStatus.RUNNING:
                continue
            try:  # waiting on the result lets the server skip time to the workflow's end
                await asyncio.wait_for(handle.result(), 10)
            except Exception:  # any end will do; one still running is terminated
                if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                    await handle.terminate("the test is over")

    def put(self, data: bytes) -> str:
        return self.adapters.documents.put(data)

    def request(self, request_id: str | None = None, **changes: Any) -> dict[str, Any]:
        return builders.request(
            request_id or f"vssid-{uuid.uuid4().hex[:12]}",
            self.put(builders.sharp_jpeg(1)),
            self.put(builders.sharp_jpeg(2)),
            **changes,
        )

    async def start(
        self, request: dict[str, Any], request_id: str | None = None
    ) -> WorkflowHandle[Any, RegistrationResult]:
        rid = request_id or str(request.get("request_id"))
        handle: WorkflowHandle[Any, RegistrationResult] = await self.env.client.start_workflow(
            WORKFLOW_TYPE,
            request,
            id=workflow_id_for(rid),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            result_type=RegistrationResult,
        )
        self.started.append(handle)
        return handle

    async def run(self, request: dict[str, Any]) -> RegistrationResult:
        return await (await self.start(request)).result()

    def events(self, request_id: str) -> list[str]:
        history = self.adapters.service.history(registration_id_for(request_id))
        return [type(event).__name__ for event in history]

    def history(self, request_id: str) -> list[Registration.Event]:
        return self.adapters.service.history(registration_id_for(request_id))

    def kinds_sent(self) -> list[str]:
        return [kind for _, kind in self.notifier.sent]


async def status_of(handle: WorkflowHandle[Any, Any]) -> RegistrationStatus:
    status: RegistrationStatus = await handle.query("status", result_type=RegistrationStatus)
    return status


async def reach(
    handle: WorkflowHandle[Any, Any], state: str, *, within: float = 20.0
) -> RegistrationStatus:
    """Query until the registration reaches ``state`` (the workflow runs on the worker's thread)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        status = await status_of(handle)
        if status.state == state:
            return status
        if loop.time() > give_up:
            raise AssertionError(f"the registration stayed {status.state}, never {state}")
        await asyncio.sleep(0.05)


async def ask_for_supplement(
    handle: WorkflowHandle[Any, Any], documents: list[str], note: str, *, decision_id: str = "d-1"
) -> RegistrationStatus:
    """The office's reviewer asks for documents (the signal); the status once the guardian is
    asked."""
    await handle.signal(
        "request_supplement",
        RequestSupplementSignal(
            decision_id=decision_id,
            reviewer_id=builders.REVIEWER,
            documents=documents,
            note=note,
        ),
    )
    return await reach(handle, "supplement_requested")


async def send_supplement(
    stack: Stack, handle: WorkflowHandle[Any, Any], documents: dict[str, bytes]
) -> None:
    """The guardian's new files: put into the intake, their references signalled."""
    references = {name: stack.put(data) for name, data in documents.items()}
    await handle.signal("provide_supplement", ProvideSupplementSignal(documents=references))


@pytest.fixture
async def stack(temporal: WorkflowEnvironment, adapters: Adapters) -> AsyncIterator[Stack]:
    notifier = FakeNotifier()
    task_queue = f"test-{uuid.uuid4().hex}"
    activities = build_activities(adapters, max_wait_days=30, notify=notifier.notify_guardian)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            temporal.client,
            task_queue=task_queue,
            workflows=[ChildAccountRegistration],
            activities=activities,
            activity_executor=executor,
            graceful_shutdown_timeout=timedelta(seconds=5),
        ):
            stack = Stack(temporal, adapters, notifier, task_queue)
            yield stack
            await stack.end_what_runs()
