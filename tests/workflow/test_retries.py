"""A step that fails through an outage tries again within seconds of the outage's end.

``store_documents`` fails as it would while PostgreSQL is down; the retries it gets are spaced
by the workflow's retry policy, doubling from 1 s up to its cap. With the earlier 2 min cap a
registration whose step failed through a 16 s outage waited 56.9 s after PostgreSQL was back
(``make faults``); with the cap, every gap is at most 5 s. On the time-skipping test server,
whose clock the attempts' scheduled times are read from.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.messages import ActivityName, DocumentsInput, StepOutcome
from domain.lifecycle import State
from tests.fakes.notifications import FakeNotifier
from tests.workflow.conftest import Stack, reach, skip_time
from tests.workflow.test_priority import activity_name
from workers.bootstrap import Adapters, build_activities
from workflows.registration import ChildAccountRegistration

FAILURES = 6
"""Enough that doubling from 1 s passes the cap (1, 2, 4, 8, 16, 32 s uncapped)."""


async def test_a_step_failing_through_an_outage_is_retried_at_most_5_s_apart(
    temporal: WorkflowEnvironment, adapters: Adapters
) -> None:
    notifier = FakeNotifier()
    activities = build_activities(adapters, max_wait_days=30, notify=notifier.notify_guardian)
    store = next(a for a in activities if activity_name(a) == ActivityName.STORE_DOCUMENTS)
    attempts: list[datetime] = []

    @activity.defn(name=ActivityName.STORE_DOCUMENTS)
    def store_documents(data: DocumentsInput) -> StepOutcome:
        attempts.append(activity.info().current_attempt_scheduled_time)
        if len(attempts) <= FAILURES:
            raise ConnectionError("the database is down")
        outcome: StepOutcome = store(data)
        return outcome

    task_queue = f"retries-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            temporal.client,
            task_queue=task_queue,
            workflows=[ChildAccountRegistration],
            activities=[a for a in activities if a is not store] + [store_documents],
            activity_executor=executor,
            graceful_shutdown_timeout=timedelta(seconds=5),
        ):
            stack = Stack(temporal, adapters, notifier, task_queue)
            handle = await stack.start(stack.request())
            await skip_time(temporal, timedelta(minutes=5))
            await reach(handle, State.AWAITING_REVIEW.value, within=60)
            await stack.end_what_runs()

    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(attempts)]
    assert len(attempts) == FAILURES + 1
    assert max(gaps) <= 5.5, gaps
    assert gaps[:3] == sorted(gaps[:3])  # the backoff still doubles up to the cap
