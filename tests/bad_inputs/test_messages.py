"""Issue 15 item 6, the signals and updates: bad decisions and supplements sent to a registration
on the Temporal test server (the fixtures of ``tests/workflow``). Each case is a test id listed in
the README's "### Bad inputs" table.

For each: the update is refused with an error naming the field and the rule (a refused signal is
recorded as ``DecisionRefused``, or, when it cannot even be read, dropped by the worker); nothing
else is stored (the registration's events and state unchanged but for the recorded refusal); and
the same registration can still be decided afterwards (the worker still serving)."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.contract import (
    DecideUpdate,
    FinalOutcome,
    Outcome,
    RegistrationResult,
    RegistrationStatus,
)
from tests import builders
from tests.workflow.conftest import Stack, ask_for_supplement, reach, send_supplement, status_of

MB = 1024 * 1024


def _decide(**changes: Any) -> dict[str, Any]:
    """A ``decide`` update as the JSON an upstream sends (a dict, so that it can be wrong)."""
    update: dict[str, Any] = {
        "decision_id": "d-bad",
        "reviewer_id": builders.REVIEWER,
        "outcome": "approve",
    }
    update.update(changes)
    return {k: v for k, v in update.items() if v is not None}


UPDATE_CASES: list[Any] = [
    pytest.param(
        _decide(outcome="maybe"), "outcome", "Input should be", False, id="decide-unknown-outcome"
    ),
    pytest.param(
        _decide(outcome="reject", reason_code="NOT_A_CODE"),
        "reason_code",
        "unknown reason code",
        True,
        id="decide-unknown-reason-code",
    ),
    pytest.param(
        _decide(decision_id="d" * 10_000),
        "decision_id",
        "at most 4000 characters",
        False,
        id="decide-decision-id-10000-chars",
    ),
    pytest.param(
        _decide(reviewer_id=builders.OTHER_REVIEWER),
        "reviewer_id",
        "not of this registration's office",
        True,
        id="decide-reviewer-of-another-office",
    ),
    pytest.param(
        _decide(note="n" * MB), "note", "at most 1000 characters", False, id="decide-note-1-mb"
    ),
    pytest.param(
        _decide(note="ghi\x00chú"), "note", "must not contain NUL", False, id="decide-note-nul"
    ),
    pytest.param(
        _decide(outcome="request_supplement", documents=["../../etc/passwd"], note="x"),
        "documents",
        "a document name",
        False,
        id="decide-supplement-document-name-bad",
    ),
]


async def _waiting(stack: Stack) -> tuple[Any, str, list[str]]:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")
    return handle, request["request_id"], stack.events(request["request_id"])


async def _still_decides(stack: Stack, handle: Any) -> None:
    status = await handle.execute_update(
        "decide",
        DecideUpdate(decision_id="d-ok", reviewer_id=builders.REVIEWER, outcome=Outcome.APPROVE),
        result_type=RegistrationStatus,
    )
    assert status.state == "approved"
    assert (await handle.result()).outcome is FinalOutcome.APPROVED


@pytest.mark.parametrize(("update", "field", "rule", "recorded"), UPDATE_CASES)
async def test_a_bad_decide_update_is_refused_naming_the_field(
    stack: Stack, update: dict[str, Any], field: str, rule: str, recorded: bool
) -> None:
    handle, request_id, before = await _waiting(stack)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("decide", update, result_type=RegistrationStatus)

    why = str(refused.value.cause)
    assert field in why
    assert rule in why
    assert len(why) < 2000  # the error names the rule, it does not quote a 1 MB value
    assert (await status_of(handle)).state == "awaiting_review"
    assert stack.events(request_id) == before + (["DecisionRefused"] if recorded else [])
    await _still_decides(stack, handle)


SIGNAL_CASES: list[Any] = [
    pytest.param("approve", _decide(decision_id="d" * 10_000), id="signal-decision-id-10000-chars"),
    pytest.param("approve", _decide(note="n" * MB), id="signal-note-1-mb"),
    pytest.param("approve", _decide(note="ghi\x00chú"), id="signal-note-nul"),
    pytest.param("reject", _decide(reason_code=12), id="signal-reason-code-a-number"),
]


@pytest.mark.parametrize(("name", "signal"), SIGNAL_CASES)
async def test_a_signal_that_cannot_be_read_is_dropped(
    stack: Stack, name: str, signal: dict[str, Any]
) -> None:
    """The worker cannot decode it: the SDK drops it (logged), nothing is recorded."""
    signal.pop("outcome", None)
    handle, request_id, before = await _waiting(stack)

    await handle.signal(name, signal)

    assert (await status_of(handle)).state == "awaiting_review"
    assert stack.events(request_id) == before
    await _still_decides(stack, handle)


async def test_signal_unknown_reason_code_is_recorded_refused(  # id: signal-unknown-reason-code
    stack: Stack,
) -> None:
    handle, request_id, before = await _waiting(stack)

    await handle.signal(
        "reject", _decide(reason_code="NOT_A_CODE", decision_id="d-x") | {"outcome": None}
    )
    await reach_events(stack, request_id, len(before) + 1)

    assert stack.events(request_id) == [*before, "DecisionRefused"]
    refusal = stack.history(request_id)[-1]
    assert "unknown reason code" in str(vars(refusal))
    await _still_decides(stack, handle)


async def reach_events(stack: Stack, request_id: str, count: int) -> None:
    import asyncio

    from domain.errors import RegistrationNotFound

    for _ in range(400):
        try:
            if len(stack.events(request_id)) >= count:
                return
        except RegistrationNotFound:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {stack.events(request_id)} recorded")


async def test_supplement_of_documents_not_asked_for(  # id: supplement-not-asked-for
    stack: Stack,
) -> None:
    handle, request_id, _ = await _waiting(stack)
    await ask_for_supplement(handle, ["birth_certificate"], "Ảnh mờ, xin chụp lại")
    before = stack.events(request_id)

    await send_supplement(stack, handle, {"passport": builders.sharp_jpeg(7)})
    # the guardian can still send the right one (signals are handled in order), and it is taken
    await send_supplement(stack, handle, {"birth_certificate": builders.sharp_jpeg(8)})
    await reach(handle, "awaiting_review")

    after = stack.events(request_id)
    assert after[: len(before)] == before
    assert after[len(before) :].count("SupplementProvided") == 1  # the one not asked for: refused
    provided = [e for e in stack.history(request_id) if type(e).__name__ == "SupplementProvided"]
    assert list(provided[0].documents) == ["birth_certificate"]  # type: ignore[attr-defined]
    await _still_decides(stack, handle)


async def test_a_decision_before_the_submission_is_recorded(  # id: signal-before-submission
    stack: Stack,
) -> None:
    """An approval signalled with the start, before ``Submitted`` is recorded: the workflow waits
    for the registration to be recorded, then answers it."""
    from temporalio.common import WorkflowIDConflictPolicy

    from workflows.registration import WORKFLOW_TYPE, workflow_id_for

    request = stack.request()
    handle = await stack.env.client.start_workflow(
        WORKFLOW_TYPE,
        request,
        id=workflow_id_for(request["request_id"]),
        task_queue=stack.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="approve",
        start_signal_args=[{"decision_id": "d-early", "reviewer_id": builders.REVIEWER}],
        result_type=RegistrationResult,
    )
    await reach(handle, "awaiting_review")

    events = stack.events(request["request_id"])
    assert events == [
        "Submitted",
        "DecisionRefused",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
    ]
    refusal = stack.history(request["request_id"])[1]
    assert "state: the registration is not awaiting review" in str(vars(refusal))
    await _still_decides(stack, handle)
