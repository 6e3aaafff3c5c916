"""What Temporal keeps of an activity's unexpected error: its type and where, never its message
(a database or validation error may quote a child's data; Temporal keeps failures in plain
text). The activity's own refusals pass unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workers.observability import LogContextInterceptor

SECRET = "Nguyễn Minh Khôi 7912345678"


@activity.defn
async def fails(kind: str) -> None:
    if kind == "refusal":
        raise ApplicationError("reviewer_id: the reviewer is not active", type="DecisionRefused")
    raise RuntimeError(f"DETAIL: Key (child_code)=({SECRET}) already exists")


@workflow.defn(sandboxed=False)
class OneActivity:
    @workflow.run
    async def run(self, kind: str) -> None:
        await workflow.execute_activity(
            fails,
            kind,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def failure_of(temporal: WorkflowEnvironment, kind: str) -> ApplicationError:
    queue = f"failures-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal.client,
        task_queue=queue,
        workflows=[OneActivity],
        activities=[fails],
        interceptors=[LogContextInterceptor()],
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await temporal.client.execute_workflow(
                OneActivity.run, kind, id=f"failures-{uuid.uuid4().hex}", task_queue=queue
            )
    assert isinstance(failed.value.cause, ActivityError)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_an_unexpected_error_reaches_temporal_as_its_type_only(
    temporal: WorkflowEnvironment,
) -> None:
    failure = await failure_of(temporal, "unexpected")

    assert failure.type == "RuntimeError"  # retry policies match on it as before
    assert failure.message.startswith("RuntimeError in activity fails")
    assert SECRET not in failure.message
    assert failure.cause is None  # the original error is not chained into what Temporal keeps


async def test_an_activitys_own_refusal_passes_unchanged(temporal: WorkflowEnvironment) -> None:
    failure = await failure_of(temporal, "refusal")

    assert failure.type == "DecisionRefused"
    assert failure.message == "reviewer_id: the reviewer is not active"
