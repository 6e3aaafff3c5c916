"""Reviewer decisions on a registration, in the time-skipping environment."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.contract import (
    ApproveSignal,
    DecideUpdate,
    FinalOutcome,
    Outcome,
    RegistrationStatus,
    RejectSignal,
)
from tests import builders
from tests.workflow.conftest import Stack, reach, status_of


async def test_an_approved_registration_activates_the_childs_account(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    waiting = await reach(handle, "awaiting_review")

    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    result = await handle.result()

    assert result.outcome is FinalOutcome.APPROVED
    assert result.child_account_id
    assert result.decided_by == builders.REVIEWER
    assert waiting.waiting_for == "reviewer"
    assert waiting.office_code == builders.OFFICE
    assert stack.events(request["request_id"]) == [
        "Submitted",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
        "Approved",
        "ChildAccountActivated",
    ]
    assert stack.kinds_sent() == ["received", "approved"]
    account = stack.adapters.registry.account(builders.CHILD)
    assert account is not None
    assert account.status.value == "active"


async def test_a_rejection_with_a_reason_ends_the_registration_rejected(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.signal(
        "reject",
        RejectSignal(
            decision_id="d-1",
            reviewer_id=builders.REVIEWER,
            reason_code="BIRTH_CERTIFICATE_MISMATCH",
        ),
    )
    result = await handle.result()

    assert result.outcome is FinalOutcome.REJECTED
    assert result.reason_code == "BIRTH_CERTIFICATE_MISMATCH"
    assert stack.kinds_sent() == ["received", "rejected"]


async def test_the_decide_update_answers_with_the_new_status(stack: Stack) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")

    status = await handle.execute_update(
        "decide",
        DecideUpdate(decision_id="d-1", reviewer_id=builders.SUPERVISOR, outcome=Outcome.APPROVE),
        result_type=RegistrationStatus,
    )

    assert status.state == "approved"
    assert (await handle.result()).outcome is FinalOutcome.APPROVED


@pytest.mark.parametrize(
    ("reviewer", "why"),
    [
        pytest.param(
            builders.OTHER_REVIEWER, "not of this registration's office", id="another-office"
        ),
        pytest.param(builders.INACTIVE_REVIEWER, "not active", id="inactive"),
        pytest.param("rv-unknown", "no reviewer", id="unknown"),
    ],
)
async def test_refuses_a_decision_from_a_reviewer_who_may_not_decide(
    stack: Stack, reviewer: str, why: str
) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide", DecideUpdate(decision_id="d-x", reviewer_id=reviewer, outcome=Outcome.APPROVE)
        )

    assert why in str(refused.value.cause)
    assert (await status_of(handle)).state == "awaiting_review"
    assert stack.events(request["request_id"])[-1] == "DecisionRefused"
    await handle.signal("approve", ApproveSignal(decision_id="d-ok", reviewer_id=builders.REVIEWER))
    assert (await handle.result()).outcome is FinalOutcome.APPROVED


async def test_a_refused_signal_is_recorded_and_the_registration_keeps_waiting(
    stack: Stack,
) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.signal(
        "approve", ApproveSignal(decision_id="d-x", reviewer_id=builders.OTHER_REVIEWER)
    )
    await handle.signal("approve", ApproveSignal(decision_id="d-ok", reviewer_id=builders.REVIEWER))
    result = await handle.result()

    assert result.outcome is FinalOutcome.APPROVED
    refused = [
        e for e in stack.history(request["request_id"]) if type(e).__name__ == "DecisionRefused"
    ]
    assert [e.decision_id for e in refused] == ["d-x"]  # type: ignore[attr-defined]


async def test_the_same_decision_delivered_twice_counts_once(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")
    decision = DecideUpdate(
        decision_id="d-1", reviewer_id=builders.REVIEWER, outcome=Outcome.APPROVE
    )

    first = await handle.execute_update("decide", decision, result_type=RegistrationStatus)
    second = await handle.execute_update("decide", decision, result_type=RegistrationStatus)
    await handle.result()

    assert first.outcome is second.outcome is FinalOutcome.APPROVED
    assert stack.events(request["request_id"]).count("Approved") == 1
    assert "DecisionRefused" not in stack.events(request["request_id"])


async def test_the_first_valid_decision_wins_and_a_conflicting_one_is_refused(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.execute_update(
        "decide",
        DecideUpdate(decision_id="d-1", reviewer_id=builders.REVIEWER, outcome=Outcome.APPROVE),
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            DecideUpdate(
                decision_id="d-2",
                reviewer_id=builders.SUPERVISOR,
                outcome=Outcome.REJECT,
                reason_code="PHOTO_UNCLEAR",
            ),
        )
    result = await handle.result()

    assert "not awaiting review" in str(refused.value.cause)
    assert result.outcome is FinalOutcome.APPROVED


@pytest.mark.parametrize(
    ("reason_code", "note", "why"),
    [
        pytest.param(None, None, "reason_code: a rejection needs a reason code", id="missing"),
        pytest.param("NOT_A_CODE", None, "unknown reason code", id="unknown"),
        pytest.param("CHILD_NOT_FOUND", None, "not a reviewer's reason code", id="automatic"),
        pytest.param(
            "OTHER",
            None,
            "note: a rejection with reason OTHER needs a note",
            id="other-without-note",
        ),
    ],
)
async def test_refuses_a_rejection_that_breaks_the_rules(
    stack: Stack, reason_code: str | None, note: str | None, why: str
) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            DecideUpdate(
                decision_id="d-1",
                reviewer_id=builders.REVIEWER,
                outcome=Outcome.REJECT,
                reason_code=reason_code,
                note=note,
            ),
        )

    assert why in str(refused.value.cause)
    await handle.signal("withdraw", {})
    assert (await handle.result()).outcome is FinalOutcome.WITHDRAWN
