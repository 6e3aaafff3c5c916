"""Four-eyes rejections on the Temporal test server: proposed, then confirmed or declined by a
second reviewer of the office, never by the proposer, through the signals and the update alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from activities.registry import PostgresRegistry
from domain.contract import (
    DecideUpdate,
    FinalOutcome,
    Outcome,
    RegistrationStatus,
    RejectSignal,
    SecondReviewSignal,
)
from tests import builders
from tests.workflow.conftest import Stack, reach, skip_time, status_of


@pytest.fixture
def four_eyes(stack: Stack) -> Stack:
    registry = stack.adapters.registry
    assert isinstance(registry, PostgresRegistry)
    registry.load(builders.four_eyes_offices())
    return stack


def _decide(outcome: Outcome, reviewer_id: str, decision_id: str, **more: str) -> DecideUpdate:
    return DecideUpdate(decision_id=decision_id, reviewer_id=reviewer_id, outcome=outcome, **more)


async def test_a_second_reviewer_confirms_through_the_signals(four_eyes: Stack) -> None:
    request = four_eyes.request()
    handle = await four_eyes.start(request)
    await reach(handle, "awaiting_review")

    await handle.signal(
        "reject",
        RejectSignal(decision_id="d-1", reviewer_id=builders.REVIEWER, reason_code="PHOTO_UNCLEAR"),
    )
    proposed = await reach(handle, "rejection_proposed")
    # The proposer's own confirmation is refused (recorded), the registration still waits.
    await handle.signal(
        "confirm_rejection", SecondReviewSignal(decision_id="d-2", reviewer_id=builders.REVIEWER)
    )
    await handle.signal(
        "confirm_rejection", SecondReviewSignal(decision_id="d-3", reviewer_id=builders.SUPERVISOR)
    )
    result = await handle.result()

    assert proposed.waiting_for == "reviewer"
    assert proposed.rejection_proposed_by == builders.REVIEWER
    assert result.outcome is FinalOutcome.REJECTED
    assert result.reason_code == "PHOTO_UNCLEAR"
    assert result.decided_by == builders.SUPERVISOR
    events = four_eyes.history(request["request_id"])
    names = [type(event).__name__ for event in events]
    assert names[3:7] == ["ReviewRequested", "RejectionProposed", "DecisionRefused", "Rejected"]
    refused = next(e for e in events if type(e).__name__ == "DecisionRefused")
    assert refused.reason.startswith("four_eyes:")  # type: ignore[attr-defined]
    # Only the final rejection is told to the guardian.
    assert four_eyes.kinds_sent() == ["received", "rejected"]


async def test_the_proposer_is_refused_by_the_update_and_a_decline_returns_to_review(
    four_eyes: Stack,
) -> None:
    request = four_eyes.request()
    handle = await four_eyes.start(request)
    await reach(handle, "awaiting_review")

    proposed = await handle.execute_update(
        "decide",
        _decide(Outcome.REJECT, builders.REVIEWER, "d-1", reason_code="RELATIONSHIP_NOT_PROVEN"),
        result_type=RegistrationStatus,
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            _decide(Outcome.CONFIRM_REJECTION, builders.REVIEWER, "d-2"),
            result_type=RegistrationStatus,
        )
    with pytest.raises(WorkflowUpdateFailedError) as outsider:
        await handle.execute_update(
            "decide",
            _decide(Outcome.CONFIRM_REJECTION, builders.OTHER_REVIEWER, "d-3"),
            result_type=RegistrationStatus,
        )
    declined = await handle.execute_update(
        "decide",
        _decide(Outcome.DECLINE_REJECTION, builders.SUPERVISOR, "d-4", note="Đủ giấy tờ"),
        result_type=RegistrationStatus,
    )
    approved = await handle.execute_update(
        "decide",
        _decide(Outcome.APPROVE, builders.SUPERVISOR, "d-5"),
        result_type=RegistrationStatus,
    )
    result = await handle.result()

    assert proposed.state == "rejection_proposed"
    assert "four_eyes:" in str(refused.value.cause)
    assert "reviewer_id:" in str(outsider.value.cause)
    assert declined.state == "awaiting_review"
    assert declined.rejection_proposed_by is None
    assert approved.state == "approved"
    assert result.outcome is FinalOutcome.APPROVED
    assert "RejectionDeclined" in four_eyes.events(request["request_id"])
    assert four_eyes.kinds_sent() == ["received", "approved"]


async def test_the_review_deadline_keeps_running_while_a_proposal_waits(four_eyes: Stack) -> None:
    handle = await four_eyes.start(four_eyes.request())
    await reach(handle, "awaiting_review")
    await handle.signal(
        "reject",
        RejectSignal(decision_id="d-1", reviewer_id=builders.REVIEWER, reason_code="PHOTO_UNCLEAR"),
    )
    await reach(handle, "rejection_proposed")

    await skip_time(four_eyes.env, timedelta(days=8))  # past the 3 working days' deadline
    status = await status_of(handle)

    assert status.state == "rejection_proposed"
    assert status.overdue
    assert status.escalated
    await skip_time(four_eyes.env, timedelta(days=40))  # past max_wait_days
    assert (await handle.result()).outcome is FinalOutcome.EXPIRED


async def test_without_four_eyes_a_rejection_takes_effect_at_once_and_confirm_is_refused(
    stack: Stack,
) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            _decide(Outcome.CONFIRM_REJECTION, builders.SUPERVISOR, "d-1"),
            result_type=RegistrationStatus,
        )
    rejected = await handle.execute_update(
        "decide",
        _decide(Outcome.REJECT, builders.REVIEWER, "d-2", reason_code="PHOTO_UNCLEAR"),
        result_type=RegistrationStatus,
    )

    assert "state: no proposed rejection waits" in str(refused.value.cause)
    assert rejected.state == "rejected"
    assert (await handle.result()).outcome is FinalOutcome.REJECTED
