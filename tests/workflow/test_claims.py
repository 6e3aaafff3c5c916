"""Claims on the Temporal test server: the holder's lease refuses another reviewer's decision
(naming the holder), two claims at once leave exactly one holder, a supervisor takes over."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from domain.contract import ClaimUpdate, DecideUpdate, Outcome, RegistrationStatus, ReleaseUpdate
from tests import builders
from tests.workflow.conftest import Stack, reach, status_of


async def _claim(
    handle: WorkflowHandle[Any, Any], reviewer_id: str, claim_id: str, takeover: bool = False
) -> RegistrationStatus:
    status: RegistrationStatus = await handle.execute_update(
        "claim",
        ClaimUpdate(claim_id=claim_id, reviewer_id=reviewer_id, takeover=takeover),
        result_type=RegistrationStatus,
    )
    return status


async def test_another_reviewers_decision_is_refused_naming_the_holder_who_then_decides(
    stack: Stack,
) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    claimed = await _claim(handle, builders.REVIEWER, "c-1")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            DecideUpdate(
                decision_id="d-1", reviewer_id=builders.SUPERVISOR, outcome=Outcome.APPROVE
            ),
            result_type=RegistrationStatus,
        )
    approved = await handle.execute_update(
        "decide",
        DecideUpdate(decision_id="d-2", reviewer_id=builders.REVIEWER, outcome=Outcome.APPROVE),
        result_type=RegistrationStatus,
    )
    await handle.result()  # the approval's activation and notifications end before the worker

    assert claimed.claimed_by == builders.REVIEWER
    assert claimed.claim_expires_at is not None
    assert f"claim: held by reviewer {builders.REVIEWER} until" in str(refused.value.cause)
    assert approved.state == "approved"
    assert approved.decided_by == builders.REVIEWER
    assert "Claimed" in stack.events(request["request_id"])


async def test_two_claims_at_once_leave_exactly_one_holder(stack: Stack) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")

    answers = await asyncio.gather(
        _claim(handle, builders.REVIEWER, "c-1"),
        _claim(handle, builders.SUPERVISOR, "c-2"),
        return_exceptions=True,
    )

    won = [answer for answer in answers if isinstance(answer, RegistrationStatus)]
    lost = [answer for answer in answers if isinstance(answer, WorkflowUpdateFailedError)]
    assert len(won) == 1
    assert len(lost) == 1
    holder = won[0].claimed_by
    assert holder in (builders.REVIEWER, builders.SUPERVISOR)
    assert f"claim: held by reviewer {holder} until" in str(lost[0].cause)
    status = await status_of(handle)
    assert status.claimed_by == holder


async def test_a_supervisor_takes_over_and_only_the_holder_releases(stack: Stack) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")

    await _claim(handle, builders.REVIEWER, "c-1")
    with pytest.raises(WorkflowUpdateFailedError) as without_takeover:
        await _claim(handle, builders.SUPERVISOR, "c-2")
    taken = await _claim(handle, builders.SUPERVISOR, "c-3", takeover=True)
    with pytest.raises(WorkflowUpdateFailedError) as not_holder:
        await handle.execute_update(
            "release",
            ReleaseUpdate(claim_id="c-4", reviewer_id=builders.REVIEWER),
            result_type=RegistrationStatus,
        )
    released = await handle.execute_update(
        "release",
        ReleaseUpdate(claim_id="c-5", reviewer_id=builders.SUPERVISOR),
        result_type=RegistrationStatus,
    )
    reclaimed = await _claim(handle, builders.REVIEWER, "c-6")

    assert "claim: held by reviewer" in str(without_takeover.value.cause)
    assert taken.claimed_by == builders.SUPERVISOR
    assert "claim:" in str(not_holder.value.cause)
    assert released.claimed_by is None
    assert reclaimed.claimed_by == builders.REVIEWER
