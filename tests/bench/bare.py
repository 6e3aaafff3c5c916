"""The bare workflow: childreg's approved path with every activity a no-op.

It is the engine's ceiling in ``make bench``: the same Temporal server, the same client and
payload codec, the same activities in the same order (run as local or regular activities the way
the real workflow runs them), the same ``status`` polling and ``decide`` update; nothing else.

KEEP IT IN STEP WITH ``workflows/registration.py``: whenever the workflow's approved path
schedules another activity, drops one, or moves one between local and regular, change
``APPROVED_PATH`` (and the update) here the same way, or the ratio stops meaning anything.

Run as its own process (``python -m tests.bench.bare ADDRESS KEY_FILE``) so that its CPU time is
counted apart from the bench's client.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from activities.messages import ActivityName
    from workflows import registration
    from workflows.registration import RETRY, STEP_TIMEOUT

LOCAL_STEPS: frozenset[str] = getattr(registration, "LOCAL_STEPS", frozenset())
"""The workflow's local steps (none in a checkout from before they were introduced)."""

BARE_TYPE = "BenchBareRegistration"
BARE_QUEUE = "bench-bare"

APPROVED_PATH_BEFORE_REVIEW = (
    ActivityName.RECORD_SUBMISSION,
    ActivityName.PREPARE_NOTIFICATION,  # received
    ActivityName.NOTIFY_GUARDIAN,
    ActivityName.VERIFY_IDENTITY,
    ActivityName.STORE_DOCUMENTS,
    ActivityName.REQUEST_REVIEW,
)
"""Then the ``decide`` update runs ``DECIDE``, and the run goes on with the rest:"""
APPROVED_PATH_AFTER_REVIEW = (
    ActivityName.ACTIVATE_CHILD_ACCOUNT,
    ActivityName.PREPARE_NOTIFICATION,  # approved
    ActivityName.NOTIFY_GUARDIAN,
    ActivityName.RELEASE_CHILD_CLAIM,
)


def _noop(name: ActivityName) -> Any:
    @activity.defn(name=f"bare-{name}")
    async def noop(argument: dict[str, Any]) -> dict[str, Any]:
        return {"state": str(name), "registration_id": argument.get("registration_id", "")}

    return noop


NOOPS = [_noop(name) for name in ActivityName]


@workflow.defn(name=BARE_TYPE)
class BareRegistration:
    def __init__(self) -> None:
        self._waiting_for = "system"
        self._decided = False

    @workflow.run
    async def run(self, request: dict[str, Any]) -> str:
        for name in APPROVED_PATH_BEFORE_REVIEW:
            await self._step(name, request)
        self._waiting_for = "reviewer"
        await workflow.wait_condition(lambda: self._decided)
        for name in APPROVED_PATH_AFTER_REVIEW:
            await self._step(name, request)
        self._waiting_for = "nobody"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return "approved"

    @workflow.query
    def status(self) -> dict[str, str]:
        return {"waiting_for": self._waiting_for}

    @workflow.update
    async def decide(self, decision: dict[str, Any]) -> dict[str, str]:
        answer = await self._step(ActivityName.DECIDE, decision)
        self._waiting_for = "system"
        self._decided = True
        return {"state": answer["state"]}

    async def _step(self, name: ActivityName, argument: dict[str, Any]) -> dict[str, Any]:
        # The same choice, timeout and retry policy as ChildAccountRegistration._activity.
        if name in LOCAL_STEPS:
            result: dict[str, Any] = await workflow.execute_local_activity(
                f"bare-{name}", argument, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
            )
        else:
            result = await workflow.execute_activity(
                f"bare-{name}",
                argument,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
                schedule_to_close_timeout=timedelta(minutes=10),
            )
        return result


async def serve(address: str, key: str, database_url: str) -> None:
    from activities.keys import DataKeys
    from workers.bootstrap import ACTIVITY_THREADS
    from workers.temporal_client import connect

    # The same codec as childreg's worker: each registration's payloads under its data key.
    client = await connect(address, "default", key, data_keys=DataKeys(database_url, key))
    worker = Worker(
        client,
        task_queue=BARE_QUEUE,
        workflows=[BareRegistration],
        activities=NOOPS,
        max_concurrent_activities=ACTIVITY_THREADS,
    )
    print("bare worker ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], Path(sys.argv[2]).read_text().strip(), sys.argv[3]))
