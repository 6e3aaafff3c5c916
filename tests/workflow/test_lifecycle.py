# ruff: noqa: E501  (the tables of cases read best one case a line)
"""Every path of the lifecycle (README: "The lifecycle") in the time-skipping environment."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from activities.registry import PostgresRegistry
from domain.calendar import business_deadline, end_of_day
from domain.contract import (
    VIETNAM,
    ApproveSignal,
    DecideUpdate,
    FinalOutcome,
    Outcome,
    WithdrawSignal,
)
from domain.registration import registration_id_for
from domain.registry import Holiday, RegistryData
from tests import builders
from tests.workflow.conftest import (
    Stack,
    ask_for_supplement,
    reach,
    send_supplement,
    skip_time,
    status_of,
)
from workflows.registration import workflow_id_for


@pytest.mark.parametrize(
    ("changes", "reason_code", "field"),
    [
        pytest.param({"child__social_insurance_code": "7999999999"}, "CHILD_NOT_FOUND", "child.social_insurance_code", id="child-unknown"),
        pytest.param({"child__full_name": "Nguyễn Minh Khoa"}, "CHILD_DETAILS_MISMATCH", "child.full_name", id="child-name"),
        pytest.param({"child__date_of_birth": "2019-03-15"}, "CHILD_DETAILS_MISMATCH", "child.date_of_birth", id="child-birth"),
        pytest.param({"child__date_of_birth": "2000-01-05"}, "CHILD_NOT_MINOR", "child.date_of_birth", id="child-adult"),
        pytest.param({"guardian__social_insurance_code": "0999999999"}, "GUARDIAN_NOT_FOUND", "guardian.social_insurance_code", id="guardian-unknown"),
        pytest.param({"guardian__full_name": "Nguyễn Văn Bình"}, "GUARDIAN_DETAILS_MISMATCH", "guardian.full_name", id="guardian-name"),
        pytest.param(
            {"guardian__social_insurance_code": builders.LOCKED_GUARDIAN, "guardian__full_name": "Trần Thị Bích"},
            "GUARDIAN_ACCOUNT_INACTIVE", "guardian.social_insurance_code", id="guardian-locked",
        ),
        pytest.param(
            {
                "child__social_insurance_code": builders.REGISTERED_CHILD,
                "child__full_name": "Nguyễn Bảo Anh",
                "child__date_of_birth": "2014-11-20",
                "child__health_insurance_card_qr": None,
            },
            "ALREADY_REGISTERED", "child.social_insurance_code", id="already-registered",
        ),
        pytest.param({"office_code": "99999"}, "OFFICE_UNKNOWN", "office_code", id="office-unknown"),
        pytest.param({"office_code": builders.CLOSED_OFFICE}, "OFFICE_UNKNOWN", "office_code", id="office-closed"),
        pytest.param(
            {"child__health_insurance_card_qr": builders.card_qr(code=builders.SIBLING)},
            "CARD_MISMATCH", "child.health_insurance_card_qr", id="card-code",
        ),
        pytest.param(
            {"child__health_insurance_card_qr": builders.card_qr(name="Nguyễn Ngọc Diệp")},
            "CARD_MISMATCH", "child.health_insurance_card_qr", id="card-name",
        ),
        pytest.param({"child__health_insurance_card_qr": "not a card"}, "CARD_MISMATCH", "child.health_insurance_card_qr", id="card-unreadable"),
    ],
)  # fmt: skip
async def test_a_hard_identity_failure_auto_rejects_with_its_reason(
    stack: Stack, changes: dict[str, Any], reason_code: str, field: str
) -> None:
    request = stack.request(**changes)

    result = await stack.run(request)

    assert result.outcome is FinalOutcome.AUTO_REJECTED
    assert result.reason_code == reason_code
    rejected = stack.history(request["request_id"])[-1]
    assert type(rejected).__name__ == "AutoRejected"
    assert rejected.field == field  # type: ignore[attr-defined]
    assert stack.kinds_sent()[-1] == "auto_rejected"
    assert not stack.adapters.documents.encrypted or "DocumentsStored" not in stack.events(
        request["request_id"]
    )


async def test_soft_findings_are_warnings_for_the_reviewer(stack: Stack) -> None:
    request = stack.request(
        child__full_name="Nguyen Minh Khoi", child__health_insurance_card_qr=None
    )
    handle = await stack.start(request)

    status = await reach(handle, "awaiting_review")

    assert status.warnings == [
        "child.full_name: matches the registry only without accents",
        "child.health_insurance_card_qr: no card QR: the child's code was typed, not scanned",
    ]
    await handle.signal("withdraw", WithdrawSignal())
    await handle.result()


async def test_a_child_of_another_household_is_a_warning(stack: Stack) -> None:
    request = stack.request(
        child__social_insurance_code=builders.STRANGER_CHILD,
        child__full_name="Hoàng Gia Bảo",
        child__date_of_birth="2018-05-05",
        child__health_insurance_card_qr=None,
    )
    handle = await stack.start(request)

    status = await reach(handle, "awaiting_review")

    assert any("not in one household" in warning for warning in status.warnings)
    await handle.signal("withdraw", WithdrawSignal())
    await handle.result()


async def test_the_child_may_be_identified_by_personal_id_number(stack: Stack) -> None:
    request = stack.request(
        child__social_insurance_code=builders.DELETE,
        child__personal_id_number=builders.CHILD_PERSONAL_ID,
    )
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))

    assert (await handle.result()).outcome is FinalOutcome.APPROVED


@pytest.mark.parametrize(
    ("document", "reason_code"),
    [
        pytest.param(builders.blurred_jpeg(), "DOCUMENT_UNREADABLE", id="blurred"),
        pytest.param(builders.tiny_png(), "DOCUMENT_UNREADABLE", id="tiny"),
    ],
)
@pytest.mark.parametrize("name", ["birth_certificate", "portrait"])
async def test_an_unusable_document_auto_rejects(
    stack: Stack, document: bytes, reason_code: str, name: str
) -> None:
    request = stack.request()
    request["documents"][name] = stack.put(document)

    result = await stack.run(request)

    assert (result.outcome, result.reason_code) == (FinalOutcome.AUTO_REJECTED, reason_code)
    rejected = stack.history(request["request_id"])[-1]
    assert rejected.field == f"documents.{name}"  # type: ignore[attr-defined]
    kept = (
        stack.adapters.documents.root
        / "registrations"
        / str(registration_id_for(request["request_id"]))
    )
    assert not kept.exists()  # nothing of the refused round is kept, whichever document failed


async def test_a_reference_missing_from_the_intake_auto_rejects(stack: Stack) -> None:
    request = stack.request()
    request["documents"]["portrait"] = "sha256:" + "0" * 64

    result = await stack.run(request)

    assert (result.outcome, result.reason_code) == (FinalOutcome.AUTO_REJECTED, "DOCUMENT_MISSING")


@pytest.mark.parametrize(
    ("changes", "reason_code", "field"),
    [
        pytest.param({"guardian__phone": "12345"}, "INVALID_REQUEST", "guardian.phone", id="phone"),
        pytest.param({"child__social_insurance_code": 7912345678}, "INVALID_REQUEST", "child.social_insurance_code", id="code-as-number"),
        pytest.param({"guardian__relationship": "uncle"}, "INVALID_REQUEST", "guardian.relationship", id="relationship"),
        pytest.param({"commitment__accepted": False}, "COMMITMENT_NOT_ACCEPTED", "commitment.accepted", id="commitment"),
        pytest.param({"documents__portrait": "../../etc/passwd"}, "INVALID_REQUEST", "documents.portrait", id="path-like-ref"),
        pytest.param({"documents__portrait": builders.DELETE}, "DOCUMENT_MISSING", "documents.portrait", id="missing-document"),
        pytest.param({"submitted_at": "yesterday"}, "INVALID_REQUEST", "submitted_at", id="time"),
    ],
)  # fmt: skip
async def test_bad_input_ends_at_once_auto_rejected_naming_the_field(
    stack: Stack, changes: dict[str, Any], reason_code: str, field: str
) -> None:
    request = stack.request(**changes)

    result = await stack.run(request)

    assert (result.outcome, result.reason_code) == (FinalOutcome.AUTO_REJECTED, reason_code)
    assert result.reason_field == field
    assert result.reason_detail is not None
    assert result.reason_detail.startswith(f"{field}: ")
    events = stack.history(request["request_id"])
    assert [type(e).__name__ for e in events] == ["Submitted", "AutoRejected"]
    assert events[-1].field == field  # type: ignore[attr-defined]
    # A malformed request has no contact to trust; a well-formed one is told why it was refused.
    well_formed = reason_code == "COMMITMENT_NOT_ACCEPTED"
    assert stack.kinds_sent() == (["auto_rejected"] if well_formed else [])


@pytest.mark.parametrize(
    "sent", [[1, 2], "a text", None, 5], ids=["array", "string", "null", "number"]
)
async def test_input_that_is_no_json_object_ends_auto_rejected(stack: Stack, sent: Any) -> None:
    request_id = f"not-an-object-{uuid.uuid4().hex[:8]}"

    result = await (await stack.start(sent, request_id=request_id)).result()

    assert (result.outcome, result.reason_code) == (FinalOutcome.AUTO_REJECTED, "INVALID_REQUEST")
    assert result.reason_field == "request"
    assert result.reason_detail == "request: must be a JSON object with the fields of the contract"
    history = stack.history(workflow_id_for(request_id))
    assert [type(e).__name__ for e in history] == ["Submitted", "AutoRejected"]
    assert history[0].request == {"as_sent": sent}  # type: ignore[attr-defined]


async def test_document_keys_outside_the_contract_never_reach_the_storage(stack: Stack) -> None:
    request = stack.request()
    other = stack.put(builders.sharp_jpeg(3))
    request["documents"] |= {"../escape/portrait": other, "extra_scan": other, "count": 5}

    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    stored = next(
        e for e in stack.history(request["request_id"]) if type(e).__name__ == "DocumentsStored"
    )
    assert sorted(stored.documents) == ["birth_certificate", "portrait"]  # type: ignore[attr-defined]
    kept = stack.adapters.documents.root / "registrations"
    assert sorted(p.name.split(".")[0] for p in kept.rglob("*") if p.is_file()) == [
        "birth_certificate",
        "portrait",
    ]
    assert not (kept / "escape").exists()
    assert not (stack.adapters.documents.root / "escape").exists()
    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    assert (await handle.result()).outcome is FinalOutcome.APPROVED  # nothing left running


async def test_an_invalid_request_id_is_kept_under_the_workflow_id(stack: Stack) -> None:
    request = stack.request(request_id="ok-id")
    request["request_id"] = "not valid!"

    result = await (await stack.start(request, request_id="bad-id-1")).result()

    assert (result.outcome, result.reason_code) == (FinalOutcome.AUTO_REJECTED, "INVALID_REQUEST")


async def test_a_body_started_under_another_workflow_id_is_refused(stack: Stack) -> None:
    request = stack.request()
    first = await stack.start(request)
    await reach(first, "awaiting_review")

    copy = await stack.start(request, request_id=f"{request['request_id']}-copy")
    result = await copy.result()

    assert (result.outcome, result.reason_code, result.reason_field) == (
        FinalOutcome.AUTO_REJECTED,
        "INVALID_REQUEST",
        "request_id",
    )
    assert result.reason_detail == "request_id: must be the workflow id after registration-"
    assert stack.events(workflow_id_for(f"{request['request_id']}-copy")) == [
        "Submitted",
        "AutoRejected",
    ]
    assert (await status_of(first)).state == "awaiting_review"  # the first one is untouched
    assert stack.kinds_sent() == ["received"]  # the guardian hears nothing of the copy
    assert "AutoRejected" not in stack.events(request["request_id"])
    await first.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    assert (await first.result()).outcome is FinalOutcome.APPROVED


async def test_an_overdue_review_is_escalated_and_still_decided(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    first = await reach(handle, "awaiting_review")
    assert first.review_deadline is not None

    await skip_time(stack.env, timedelta(days=8))
    overdue = await status_of(handle)
    await handle.signal(
        "approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.SUPERVISOR)
    )
    result = await handle.result()

    assert overdue.overdue
    assert overdue.escalated
    assert overdue.state == "awaiting_review"
    assert result.outcome is FinalOutcome.APPROVED
    escalated = next(
        e for e in stack.history(request["request_id"]) if type(e).__name__ == "ReviewOverdue"
    )
    assert escalated.escalated_to == [builders.SUPERVISOR]  # type: ignore[attr-defined]


async def test_the_review_deadline_skips_weekends_and_holidays_and_expiry_is_the_maximum_wait(
    stack: Stack,
) -> None:
    today = (await stack.env.get_current_time()).astimezone(VIETNAM).date()  # the server's clock
    next_working_day = business_deadline(today, 1, set())
    registry = stack.adapters.registry
    assert isinstance(registry, PostgresRegistry)
    registry.load(RegistryData(holidays=[Holiday(date=next_working_day, name="Nghỉ lễ")]))
    request = stack.request()
    handle = await stack.start(request)
    status = await reach(handle, "awaiting_review")

    asked = next(
        e for e in stack.history(request["request_id"]) if type(e).__name__ == "ReviewRequested"
    )
    asked_on = asked.timestamp.astimezone(VIETNAM).date()
    holidays = stack.adapters.registry.holidays(asked_on, asked_on + timedelta(days=60))
    assert asked_on == today
    # 3: the office's review_days, the holiday on the first working day adding one.
    assert status.review_deadline == end_of_day(business_deadline(asked_on, 3, holidays))
    assert status.review_deadline > end_of_day(business_deadline(asked_on, 3, set()))
    assert status.expires_at == asked.timestamp + timedelta(days=30)  # max_wait_days
    await handle.signal("approve", ApproveSignal(decision_id="d-1", reviewer_id=builders.REVIEWER))
    assert (await handle.result()).outcome is FinalOutcome.APPROVED


async def test_a_registration_without_a_decision_expires(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)

    result = await handle.result()

    assert result.outcome is FinalOutcome.EXPIRED
    assert stack.events(request["request_id"])[-2:] == ["ReviewOverdue", "Expired"]
    assert stack.kinds_sent() == ["received", "expired"]


async def test_the_supplement_loop_goes_back_to_review_with_a_fresh_deadline(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    first = await reach(handle, "awaiting_review")

    asked = await ask_for_supplement(handle, ["household_book"], "Vui lòng bổ sung ảnh sổ hộ khẩu.")
    await skip_time(
        stack.env, timedelta(days=7)
    )  # a week: the fresh deadline is later whatever the weekday
    await send_supplement(stack, handle, {"household_book": builders.sharp_jpeg(7)})
    again = await reach(handle, "awaiting_review")
    await handle.signal("approve", ApproveSignal(decision_id="d-2", reviewer_id=builders.REVIEWER))
    result = await handle.result()

    assert asked.waiting_for == "guardian"
    assert asked.supplement_rounds == 1
    assert again.review_deadline
    assert first.review_deadline
    assert again.review_deadline > first.review_deadline
    assert result.outcome is FinalOutcome.APPROVED
    assert stack.events(request["request_id"]).count("DocumentsStored") == 2
    assert stack.kinds_sent() == ["received", "supplement_requested", "approved"]


async def test_a_supplement_of_the_same_document_keeps_both_rounds(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")
    await ask_for_supplement(handle, ["portrait"], "Ảnh chân dung bị lóa.")
    await send_supplement(stack, handle, {"portrait": builders.sharp_jpeg(8)})
    await reach(handle, "awaiting_review")

    stored = [
        e for e in stack.history(request["request_id"]) if type(e).__name__ == "DocumentsStored"
    ]
    files = [e.documents["portrait"]["file"] for e in stored]  # type: ignore[attr-defined]
    assert files == ["round-0/portrait.jpg.aes", "round-1/portrait.jpg.aes"]
    folder = (
        stack.adapters.documents.root
        / "registrations"
        / str(registration_id_for(request["request_id"]))
    )
    for event, file in zip(stored, files, strict=True):
        kept = stack.adapters.documents.read_kept(
            folder / file, registration_id_for(request["request_id"]), "portrait"
        )
        assert hashlib.sha256(kept).hexdigest() == event.documents["portrait"]["sha256"]  # type: ignore[attr-defined]
    await handle.signal("approve", ApproveSignal(decision_id="d-2", reviewer_id=builders.REVIEWER))
    assert (await handle.result()).outcome is FinalOutcome.APPROVED  # nothing left running


async def test_a_fourth_supplement_request_is_refused(stack: Stack) -> None:
    handle = await stack.start(stack.request())
    for round_ in range(1, 4):
        await reach(handle, "awaiting_review")
        await handle.execute_update(
            "decide",
            DecideUpdate(
                decision_id=f"d-{round_}",
                reviewer_id=builders.REVIEWER,
                outcome=Outcome.REQUEST_SUPPLEMENT,
                documents=["portrait"],
                note="Ảnh chân dung chưa rõ mặt.",
            ),
        )
        await send_supplement(stack, handle, {"portrait": builders.sharp_jpeg(10 + round_)})
    await reach(handle, "awaiting_review")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "decide",
            DecideUpdate(
                decision_id="d-4",
                reviewer_id=builders.REVIEWER,
                outcome=Outcome.REQUEST_SUPPLEMENT,
                documents=["portrait"],
                note="Lần nữa.",
            ),
        )

    assert "at most 3 supplement rounds" in str(refused.value.cause)
    await handle.signal("approve", ApproveSignal(decision_id="d-5", reviewer_id=builders.REVIEWER))
    assert (await handle.result()).outcome is FinalOutcome.APPROVED


async def test_a_supplement_not_provided_in_time_expires(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")
    await ask_for_supplement(handle, ["portrait"], "Chụp lại.")

    result = await handle.result()

    assert result.outcome is FinalOutcome.EXPIRED
    expired = stack.history(request["request_id"])[-1]
    assert expired.stage == "supplement"  # type: ignore[attr-defined]


async def test_an_unusable_supplement_auto_rejects(stack: Stack) -> None:
    handle = await stack.start(stack.request())
    await reach(handle, "awaiting_review")
    await ask_for_supplement(handle, ["portrait"], "Chụp lại.")

    await send_supplement(stack, handle, {"portrait": builders.blurred_jpeg()})
    result = await handle.result()

    assert (result.outcome, result.reason_code) == (
        FinalOutcome.AUTO_REJECTED,
        "DOCUMENT_UNREADABLE",
    )


async def test_the_guardian_may_withdraw_before_a_decision(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.signal("withdraw", WithdrawSignal(reason="Gửi nhầm"))
    result = await handle.result()

    assert result.outcome is FinalOutcome.WITHDRAWN
    assert stack.kinds_sent() == ["received", "withdrawn"]


async def test_a_withdrawal_after_the_decision_is_refused(stack: Stack) -> None:
    request = stack.request()
    handle = await stack.start(request)
    await reach(handle, "awaiting_review")

    await handle.execute_update(
        "decide",
        DecideUpdate(decision_id="d-1", reviewer_id=builders.REVIEWER, outcome=Outcome.APPROVE),
    )
    await handle.signal("withdraw", WithdrawSignal())
    result = await handle.result()

    assert result.outcome is FinalOutcome.APPROVED
    assert "Withdrawn" not in stack.events(request["request_id"])
    # The late signal was answered (its activity ran and was refused) before the workflow ended.
    history = (await handle.fetch_history()).events
    completed = next(
        i
        for i, e in enumerate(history)
        if e.HasField("workflow_execution_completed_event_attributes")
    )
    withdrawal = next(
        i
        for i, e in enumerate(history)
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "withdraw"
    )
    assert withdrawal < completed


async def test_a_second_registration_for_the_child_waits_for_the_first(stack: Stack) -> None:
    first = await stack.start(stack.request())
    await reach(first, "awaiting_review")

    second = await stack.run(stack.request())
    await first.signal("withdraw", WithdrawSignal())
    await first.result()
    third = await stack.start(stack.request())
    await reach(third, "awaiting_review")
    await third.signal("withdraw", WithdrawSignal())
    await third.result()

    assert (second.outcome, second.reason_code) == (
        FinalOutcome.AUTO_REJECTED,
        "REGISTRATION_IN_PROGRESS",
    )


async def test_starting_again_with_the_same_id_returns_the_same_registration(stack: Stack) -> None:
    request = stack.request()
    first = await stack.start(request)
    await reach(first, "awaiting_review")

    again = await stack.start(request)

    assert again.result_run_id == first.result_run_id
    await first.signal("withdraw", WithdrawSignal())
    await first.result()
