"""The Registration aggregate: every path of the lifecycle, every illegal transition, idempotent
and conflicting commands, and the hash chain."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import chain
from domain.errors import CommandConflict, DecisionRule, IllegalTransition
from domain.lifecycle import State
from domain.registration import (
    MAX_SUPPLEMENT_ROUNDS,
    ActorKind,
    Cause,
    Registration,
    registration_id_for,
)

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
WORKFLOW = "registration-vssid-20261125-000123"


def cause(
    command_id: str, actor: ActorKind = ActorKind.SYSTEM, actor_id: str = "worker", minutes: int = 0
) -> Cause:
    return Cause(actor, actor_id, WORKFLOW, command_id, T0 + timedelta(minutes=minutes))


def submitted() -> Registration:
    return Registration.submit(
        "vssid-20261125-000123",
        {"request_id": "vssid-20261125-000123", "child": {"full_name": "Nguyễn Minh Khôi"}},
        "79001",
        cause("vssid-20261125-000123", ActorKind.UPSTREAM, "vssid-backend"),
    )


def awaiting_review() -> Registration:
    registration = submitted()
    registration.verify_identity(
        "7912345678", "0123456789", ["NO_CARD_QR"], cause("identity", minutes=1)
    )
    registration.store_documents(
        {"portrait": {"sha256": "a" * 64}}, [], cause("documents", minutes=2)
    )
    registration.request_review(
        T0 + timedelta(days=3), T0 + timedelta(days=30), cause("review-1", minutes=3)
    )
    return registration


def reviewer(decision_id: str, minutes: int = 10) -> Cause:
    return cause(decision_id, ActorKind.REVIEWER, "hcm.reviewer1", minutes)


def approved() -> Registration:
    registration = awaiting_review()
    registration.approve("d-1", "hcm.reviewer1", None, reviewer("d-1"))
    return registration


def supplement_requested() -> Registration:
    registration = awaiting_review()
    registration.request_supplement(
        "d-s1",
        "hcm.reviewer1",
        ["birth_certificate"],
        "Ảnh giấy khai sinh bị mờ",
        T0 + timedelta(days=10),
        reviewer("d-s1"),
    )
    return registration


def event_names(registration: Registration) -> list[str]:
    return [type(event).__name__ for event in registration.collect_events()]


# --- legal paths -----------------------------------------------------------------------------------


def test_the_registration_id_is_a_uuid5_of_the_request_id() -> None:
    assert submitted().id == registration_id_for("vssid-20261125-000123")
    assert registration_id_for("a") != registration_id_for("b")


def test_approved_then_account_activated_then_guardian_notified() -> None:
    registration = approved()

    registration.activate_child_account("acc-1", cause("activate", minutes=11))
    registration.prepare_notification(
        "approved",
        "email",
        "approved",
        1,
        "a***@example.vn",
        "h" * 64,
        None,
        "<m@x>",
        cause("n-prep", minutes=12),
    )
    registration.notification_sent("approved", "email", "<m@x>", cause("n-sent", minutes=12))

    assert registration.state is State.ACCOUNT_ACTIVATED
    assert registration.child_account_id == "acc-1"
    assert registration.decided_by == "hcm.reviewer1"
    assert registration.notification_status("approved", "email") == "sent"
    assert event_names(registration) == [
        "Submitted",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
        "Approved",
        "ChildAccountActivated",
        "NotificationPrepared",
        "GuardianNotified",
    ]


def test_rejected_with_a_reason() -> None:
    registration = awaiting_review()

    registration.reject("d-1", "hcm.reviewer1", "PHOTO_UNCLEAR", None, reviewer("d-1"))

    assert registration.state is State.REJECTED
    assert registration.reason_code == "PHOTO_UNCLEAR"


@pytest.mark.parametrize("stage", ["submitted", "identity_verified"])
def test_auto_rejected_on_a_hard_failure(stage: str) -> None:
    registration = submitted()
    if stage == "identity_verified":
        registration.verify_identity("7912345678", "0123456789", [], cause("identity"))

    registration.auto_reject(
        "CHILD_NOT_FOUND", None, "the child is not in the registry", cause("auto")
    )

    assert registration.state is State.AUTO_REJECTED
    assert registration.reason_code == "CHILD_NOT_FOUND"
    assert registration.decided_by == "system"


def test_overdue_is_escalated_and_the_review_goes_on() -> None:
    registration = awaiting_review()

    registration.mark_overdue(["hcm.supervisor"], cause("overdue", minutes=4320))
    registration.approve("d-1", "hcm.supervisor", None, reviewer("d-1", minutes=4400))

    assert registration.escalated
    assert registration.escalated_to == ["hcm.supervisor"]
    assert registration.state is State.APPROVED


@pytest.mark.parametrize("make", [awaiting_review, supplement_requested])
def test_expires_without_a_decision_or_a_supplement(make: Callable[[], Registration]) -> None:
    registration = make()

    registration.expire(cause("expire", minutes=43200))

    assert registration.state is State.EXPIRED


def test_the_supplement_loop_returns_to_review_with_a_fresh_deadline() -> None:
    registration = supplement_requested()

    registration.provide_supplement(
        {"birth_certificate": "sha256:" + "c" * 64}, cause("supp-1", ActorKind.GUARDIAN)
    )
    registration.store_documents(
        {"birth_certificate": {"sha256": "c" * 64}}, [], cause("documents-2")
    )
    registration.request_review(T0 + timedelta(days=8), T0 + timedelta(days=38), cause("review-2"))

    assert registration.state is State.AWAITING_REVIEW
    assert registration.supplement_rounds == 1
    assert registration.review_deadline == T0 + timedelta(days=8)


def test_at_most_three_supplement_rounds() -> None:
    registration = awaiting_review()
    for round_ in range(1, MAX_SUPPLEMENT_ROUNDS + 1):
        registration.request_supplement(
            f"d-s{round_}",
            "hcm.reviewer1",
            ["portrait"],
            "Ảnh chân dung chưa rõ",
            T0,
            reviewer(f"d-s{round_}"),
        )
        registration.provide_supplement({"portrait": "sha256:" + "d" * 64}, cause(f"supp-{round_}"))
        registration.store_documents(
            {"portrait": {"sha256": "d" * 64}}, [], cause(f"documents-{round_}")
        )
        registration.request_review(T0, T0, cause(f"review-{round_ + 1}"))

    with pytest.raises(DecisionRule, match="at most 3 supplement rounds"):
        registration.request_supplement(
            "d-s4", "hcm.reviewer1", ["portrait"], "Lần nữa", T0, reviewer("d-s4")
        )


@pytest.mark.parametrize("make", [submitted, awaiting_review, supplement_requested])
def test_withdrawn_by_the_guardian_before_a_decision(make: Callable[[], Registration]) -> None:
    registration = make()

    registration.withdraw("Gia đình đổi ý", cause("withdraw", ActorKind.UPSTREAM, "vssid-backend"))

    assert registration.state is State.WITHDRAWN


def test_a_refused_decision_is_kept_for_the_audit_and_changes_nothing() -> None:
    registration = awaiting_review()

    registration.refuse_decision(
        "d-x", "hn.reviewer1", "approve", "the reviewer is not of this office", reviewer("d-x")
    )

    assert registration.state is State.AWAITING_REVIEW
    assert registration.refused_decisions == 1


def test_a_guardian_without_email_is_recorded_as_sms_only() -> None:
    registration = submitted()

    registration.notification_skipped("received", "email", "no email on file", cause("n-skip"))

    assert registration.notification_status("received", "email") == "skipped"


# --- illegal transitions ---------------------------------------------------------------------------


ILLEGAL: list[tuple[Callable[[], Registration], str, Callable[[Registration], None]]] = [
    (submitted, "approve", lambda r: r.approve("d", "rv", None, reviewer("d"))),
    (submitted, "reject", lambda r: r.reject("d", "rv", "OTHER", "x", reviewer("d"))),
    (submitted, "store documents", lambda r: r.store_documents({}, [], cause("docs"))),
    (submitted, "request a review", lambda r: r.request_review(T0, T0, cause("rr"))),
    (submitted, "expire", lambda r: r.expire(cause("exp"))),
    (submitted, "activate", lambda r: r.activate_child_account("a", cause("act"))),
    (submitted, "provide a supplement", lambda r: r.provide_supplement({}, cause("s"))),
    (
        awaiting_review,
        "verify the identity",
        lambda r: r.verify_identity("1", "2", [], cause("idv2")),
    ),
    (
        awaiting_review,
        "auto-reject",
        lambda r: r.auto_reject("CHILD_NOT_FOUND", None, "x", cause("auto")),
    ),
    (awaiting_review, "activate", lambda r: r.activate_child_account("a", cause("act"))),
    (approved, "withdraw", lambda r: r.withdraw(None, cause("w"))),
    (approved, "reject", lambda r: r.reject("d-2", "rv", "OTHER", "x", reviewer("d-2"))),
    (approved, "approve", lambda r: r.approve("d-2", "rv", None, reviewer("d-2"))),
    (approved, "expire", lambda r: r.expire(cause("exp"))),
    (approved, "mark overdue", lambda r: r.mark_overdue([], cause("od"))),
    (supplement_requested, "approve", lambda r: r.approve("d-2", "rv", None, reviewer("d-2"))),
    (supplement_requested, "store documents", lambda r: r.store_documents({}, [], cause("docs-2"))),
]


@pytest.mark.parametrize(
    ("make", "command", "action"), ILLEGAL, ids=[f"{m.__name__}-{c}" for m, c, _ in ILLEGAL]
)
def test_an_illegal_transition_is_refused_by_name(
    make: Callable[[], Registration], command: str, action: Callable[[Registration], None]
) -> None:
    registration = make()
    version = registration.version

    with pytest.raises(IllegalTransition, match=command):
        action(registration)

    assert registration.version == version


def _final(state: State) -> Registration:
    registration = awaiting_review()
    if state is State.WITHDRAWN:
        registration.withdraw(None, cause("w"))
    elif state is State.REJECTED:
        registration.reject("d-1", "rv", "PHOTO_UNCLEAR", None, reviewer("d-1"))
    elif state is State.EXPIRED:
        registration.expire(cause("exp"))
    elif state is State.ACCOUNT_ACTIVATED:
        registration.approve("d-1", "rv", None, reviewer("d-1"))
        registration.activate_child_account("acc", cause("act"))
    return registration


@pytest.mark.parametrize(
    "state", [State.WITHDRAWN, State.REJECTED, State.EXPIRED, State.ACCOUNT_ACTIVATED]
)
def test_nothing_changes_the_outcome_after_a_final_state(state: State) -> None:
    registration = _final(state)

    actions: list[Callable[[Registration], None]] = [
        lambda r: r.withdraw(None, cause("w2")),
        lambda r: r.expire(cause("exp2")),
        lambda r: r.approve("d-9", "rv", None, reviewer("d-9")),
        lambda r: r.reject("d-8", "rv", "PHOTO_UNCLEAR", None, reviewer("d-8")),
    ]
    for action in actions:
        with pytest.raises(IllegalTransition):
            action(registration)
    assert registration.state is state
    assert registration.is_final


def test_a_rejection_needs_a_known_reviewer_reason_and_a_note_for_other() -> None:
    registration = awaiting_review()

    with pytest.raises(DecisionRule, match="reason_code: a rejection needs a reason code"):
        registration.reject("d-1", "rv", None, None, reviewer("d-1"))
    with pytest.raises(DecisionRule, match="unknown reason code"):
        registration.reject("d-1", "rv", "BECAUSE", None, reviewer("d-1"))
    with pytest.raises(DecisionRule, match="not a reviewer's reason code"):
        registration.reject("d-1", "rv", "CHILD_NOT_FOUND", None, reviewer("d-1"))
    with pytest.raises(DecisionRule, match="note: a rejection with reason OTHER needs a note"):
        registration.reject("d-1", "rv", "OTHER", "  ", reviewer("d-1"))


def test_an_automatic_rejection_needs_an_automatic_reason() -> None:
    with pytest.raises(DecisionRule, match="not an automatic reason code"):
        submitted().auto_reject("PHOTO_UNCLEAR", None, "x", cause("auto"))


def test_a_supplement_must_bring_the_documents_asked_for() -> None:
    registration = supplement_requested()

    with pytest.raises(DecisionRule, match="documents: the supplement lacks birth_certificate"):
        registration.provide_supplement({"portrait": "sha256:" + "e" * 64}, cause("supp"))


# --- idempotence -----------------------------------------------------------------------------------


def test_the_same_command_twice_records_once() -> None:
    registration = awaiting_review()
    registration.collect_events()

    registration.approve("d-1", "hcm.reviewer1", None, reviewer("d-1"))
    registration.approve("d-1", "hcm.reviewer1", None, reviewer("d-1"))

    assert event_names(registration) == ["Approved"]


def test_a_command_id_reused_for_another_command_is_a_conflict() -> None:
    registration = awaiting_review()
    registration.approve("d-1", "hcm.reviewer1", None, reviewer("d-1"))

    with pytest.raises(CommandConflict, match="'d-1'"):
        registration.reject("d-1", "hcm.reviewer1", "OTHER", "x", reviewer("d-1"))


def test_a_second_decision_after_the_first_is_refused() -> None:
    registration = approved()

    with pytest.raises(IllegalTransition, match="cannot reject a registration that is approved"):
        registration.reject("d-2", "hcm.reviewer2", "PHOTO_UNCLEAR", None, reviewer("d-2"))


def test_each_notification_is_prepared_once_and_ends_once() -> None:
    registration = submitted()

    def prepare(command_id: str) -> None:
        registration.prepare_notification(
            "received",
            "sms",
            "received",
            1,
            "+8491*****78",
            "h" * 64,
            None,
            "sms-1",
            cause(command_id),
        )

    prepare("p-1")
    prepare("p-2")
    registration.notification_sent("received", "sms", "sms-1", cause("s-1"))
    registration.notification_sent("received", "sms", "sms-1", cause("s-2"))
    registration.notification_failed("received", "sms", "late failure", True, cause("f-1"))

    assert event_names(registration)[1:] == ["NotificationPrepared", "GuardianNotified"]


def test_a_notification_cannot_be_sent_before_it_is_prepared() -> None:
    with pytest.raises(IllegalTransition, match="before it was prepared"):
        submitted().notification_sent("received", "sms", "sms-1", cause("s-1"))


# --- metadata and the hash chain -------------------------------------------------------------------


def test_every_event_carries_who_why_and_its_link() -> None:
    events = approved().collect_events()

    decision = events[-1]
    assert decision.actor_kind == "reviewer"  # type: ignore[attr-defined]
    assert decision.actor_id == "hcm.reviewer1"  # type: ignore[attr-defined]
    assert decision.correlation_id == WORKFLOW  # type: ignore[attr-defined]
    assert decision.causation_id == "d-1"  # type: ignore[attr-defined]
    assert decision.timestamp == T0 + timedelta(minutes=10)
    assert len({event.chain_link for event in events}) == len(events)  # type: ignore[attr-defined]


def test_an_untouched_history_verifies() -> None:
    chain.verify_events(approved().collect_events())


def _tampered(event: Any, name: str) -> Any:
    value = getattr(event, name)
    if isinstance(value, bool):
        changed: Any = not value
    elif isinstance(value, int):
        changed = value + 1
    elif isinstance(value, str):
        changed = value + "x"
    elif isinstance(value, datetime):
        changed = value + timedelta(seconds=1)
    elif isinstance(value, list):
        changed = [*value, "x"]
    elif isinstance(value, dict):
        changed = {**value, "x": 1}
    elif value is None:
        changed = "x"
    else:
        changed = type(value)(int(value) + 1) if hasattr(value, "__int__") else str(value) + "x"
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    object.__setattr__(copy, name, changed)
    return copy


def _full_history() -> list[Any]:
    registration = supplement_requested()
    registration.provide_supplement({"birth_certificate": "sha256:" + "c" * 64}, cause("supp-1"))
    registration.store_documents(
        {"birth_certificate": {"sha256": "c" * 64}}, ["BLURRY"], cause("documents-2")
    )
    registration.request_review(T0 + timedelta(days=8), T0 + timedelta(days=38), cause("review-2"))
    registration.mark_overdue(["hcm.supervisor"], cause("overdue"))
    registration.refuse_decision("d-x", "hn.reviewer1", "approve", "other office", reviewer("d-x"))
    registration.reject("d-2", "hcm.supervisor", "OTHER", "Thiếu giấy tờ", reviewer("d-2"))
    registration.prepare_notification(
        "rejected",
        "email",
        "rejected",
        1,
        "a***@example.vn",
        "h" * 64,
        "p" * 64,
        "<m>",
        cause("n-1"),
    )
    registration.notification_failed("rejected", "email", "550", True, cause("n-2"))
    return list(registration.collect_events())


def test_the_hash_chain_breaks_when_any_field_of_any_event_changes() -> None:
    events = _full_history()
    fields = [
        (index, name)
        for index, event in enumerate(events)
        for name in vars(event)
        if name not in ("chain_link", "originator_topic", "originator_id", "originator_version")
    ]

    for index, name in fields:
        tampered = [*events]
        tampered[index] = _tampered(events[index], name)

        with pytest.raises(chain.ChainBreak) as broken:
            chain.verify_events(tampered)

        assert broken.value.version == index + 1, (index, name)


def test_the_hash_chain_breaks_when_events_are_removed_or_swapped() -> None:
    events = _full_history()

    with pytest.raises(chain.ChainBreak, match="version 3"):
        chain.verify_events([*events[:2], *events[3:]])
    with pytest.raises(chain.ChainBreak, match="version 3"):
        chain.verify_events([*events[:2], events[3], events[2], *events[4:]])


def test_cause_is_a_plain_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cause("c").actor_id = "other"  # type: ignore[misc]
