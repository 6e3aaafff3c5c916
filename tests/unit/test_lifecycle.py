"""Every consumer of the lifecycle agrees with ``domain.lifecycle``, for every state and event.

The paths below raise every event class of ``Registration``; after each event the aggregate, the
service's view, each read model's fold and the workflow must say what the lifecycle says. A new
state or event fails here until every consumer knows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from activities.notifications.kinds import NotificationKind
from domain import lifecycle
from domain.contract import FinalOutcome, RegistrationStatus
from domain.lifecycle import FINAL_STATES, OPEN_STATES, OUTCOMES, STATE_AFTER, WAITING_FOR, State
from domain.registration import ActorKind, Cause, Registration
from domain.service import _view
from projections import guardians, queue, statistics, status
from workflows import registration as workflow

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
KEY = b"a digest key for the tests"

EVENT_CLASSES = {
    value
    for name, value in vars(Registration).items()
    if isinstance(value, type)
    and issubclass(value, Registration.Event)
    and name not in ("Event", "Created")  # the base class, and eventsourcing's unused default
}

KEEPS_THE_STATE = {
    Registration.ReviewOverdue,
    Registration.DecisionRefused,
    Registration.NotificationPrepared,
    Registration.GuardianNotified,
    Registration.NotificationFailed,
    Registration.NotificationSkipped,
    Registration.DeclarationViewed,
    Registration.Erased,
    Registration.Claimed,
    Registration.Released,
}


# --- the tables themselves ---------------------------------------------------------------------


def test_every_state_is_open_approved_or_final_and_only_one_of_them() -> None:
    assert not OPEN_STATES & FINAL_STATES
    assert State.APPROVED not in OPEN_STATES | FINAL_STATES
    assert OPEN_STATES | FINAL_STATES | {State.APPROVED} == set(State)


def test_every_event_class_either_moves_the_state_or_is_known_to_keep_it() -> None:
    moving = {cls for cls in EVENT_CLASSES if cls.__name__ in STATE_AFTER}

    assert set(STATE_AFTER) == {cls.__name__ for cls in moving}
    assert moving | KEEPS_THE_STATE == EVENT_CLASSES
    assert not moving & KEEPS_THE_STATE


def test_every_state_is_reached_by_some_event() -> None:
    assert set(STATE_AFTER.values()) == set(State)


def test_the_decided_states_have_an_outcome_and_the_open_ones_none() -> None:
    assert set(OUTCOMES) == FINAL_STATES | {State.APPROVED}
    assert set(OUTCOMES.values()) == set(FinalOutcome)


def test_every_state_says_who_it_waits_for_and_only_final_ones_wait_for_nobody() -> None:
    assert set(WAITING_FOR) == set(State)
    assert {state for state, who in WAITING_FOR.items() if who == "nobody"} == FINAL_STATES


# --- consumers, state by state -----------------------------------------------------------------


@pytest.mark.parametrize("state", list(State))
def test_the_services_view_answers_the_lifecycles_outcome_and_waiting_for(state: State) -> None:
    view = replace(_view(_submitted()), state=state)

    answer = view.contract_status()

    assert view.outcome is lifecycle.outcome_of(state)
    assert answer.state == state.value
    assert answer.outcome is lifecycle.outcome_of(state)
    assert answer.waiting_for == lifecycle.waiting_for(state)


@pytest.mark.parametrize("state", list(State))
def test_the_workflow_ends_exactly_in_the_final_states(state: State) -> None:
    running = SimpleNamespace(
        _status=RegistrationStatus(registration_id="r", request_id="q", state=state.value)
    )

    final = workflow.ChildAccountRegistration._final.fget(running)  # type: ignore[attr-defined]

    assert final is (state in FINAL_STATES)


def test_the_workflow_tells_the_guardian_of_every_outcome_under_its_own_kind() -> None:
    told = workflow._NOTIFY_ON_OUTCOME

    assert set(told) == set(FinalOutcome)
    assert all(isinstance(kind, NotificationKind) for kind in told.values())
    assert {outcome.value: kind.value for outcome, kind in told.items()} == {
        outcome.value: outcome.value for outcome in FinalOutcome
    }


@pytest.mark.parametrize("state", list(State))
def test_the_guardians_account_status_follows_the_lifecycle(state: State) -> None:
    expected = (
        "active"
        if state is State.ACCOUNT_ACTIVATED
        else "pending"
        if state in OPEN_STATES or state is State.APPROVED
        else "none"
    )

    assert guardians.account_status([state]) == expected


def test_the_statistics_count_every_state() -> None:
    answer = statistics.summary("79001", as_of=0)

    assert set(answer.counts) == set(State)


# --- consumers, event by event -----------------------------------------------------------------


def _cause(command_id: str, minutes: int, kind: ActorKind = ActorKind.SYSTEM) -> Cause:
    return Cause(kind, "test", "registration-vssid-1", command_id, T0 + timedelta(minutes=minutes))


def _submitted() -> Registration:
    request = {
        "request_id": "vssid-1",
        "guardian": {"social_insurance_code": "0123456789"},
        "child": {"social_insurance_code": "7912345678"},
    }
    return Registration.submit("vssid-1", request, "79001", _cause("submit", 0, ActorKind.UPSTREAM))


Step = Callable[[Registration, int], None]


def _verify(r: Registration, n: int) -> None:
    r.verify_identity("7912345678", "0123456789", [], _cause(f"verify-{n}", n))


def _store(r: Registration, n: int) -> None:
    r.store_documents({"portrait": {"sha256": "a" * 64}}, [], _cause(f"store-{n}", n))


def _review(r: Registration, n: int) -> None:
    at = T0 + timedelta(minutes=n)
    r.request_review(at + timedelta(days=3), at + timedelta(days=30), _cause(f"review-{n}", n))


def _overdue(r: Registration, n: int) -> None:
    r.mark_overdue(["79001.supervisor"], _cause(f"overdue-{n}", n))


def _refuse(r: Registration, n: int) -> None:
    r.refuse_decision(f"d-{n}", "01001.intruder", "approve", "wrong office", _cause(f"x-{n}", n))


def _supplement(r: Registration, n: int) -> None:
    due = T0 + timedelta(days=15)
    r.request_supplement(
        f"d-{n}", "79001.reviewer", ["birth_certificate"], "Ảnh mờ", due, _cause(f"s-{n}", n)
    )


def _provide(r: Registration, n: int) -> None:
    documents = {"birth_certificate": "sha256:" + "c" * 64}
    r.provide_supplement(documents, _cause(f"provide-{n}", n, ActorKind.GUARDIAN))


def _approve(r: Registration, n: int) -> None:
    r.approve(f"d-{n}", "79001.reviewer", None, _cause(f"approve-{n}", n, ActorKind.REVIEWER))


def _reject(r: Registration, n: int) -> None:
    cause = _cause(f"reject-{n}", n, ActorKind.REVIEWER)
    r.reject(f"d-{n}", "79001.reviewer", "PHOTO_UNCLEAR", None, cause)


def _propose(r: Registration, n: int) -> None:
    cause = _cause(f"propose-{n}", n, ActorKind.REVIEWER)
    r.propose_rejection(f"d-{n}", "79001.reviewer", "PHOTO_UNCLEAR", None, cause)


def _decline(r: Registration, n: int) -> None:
    cause = _cause(f"decline-{n}", n, ActorKind.REVIEWER)
    r.decline_rejection(f"d-{n}", "79001.second", "Ảnh đủ rõ", cause)


def _confirm(r: Registration, n: int) -> None:
    r.confirm_rejection(f"d-{n}", "79001.second", _cause(f"confirm-{n}", n, ActorKind.REVIEWER))


def _auto_reject(r: Registration, n: int) -> None:
    r.auto_reject("CHILD_NOT_FOUND", None, "not in the registry", _cause(f"auto-{n}", n))


def _withdraw(r: Registration, n: int) -> None:
    r.withdraw("đổi ý", _cause(f"withdraw-{n}", n, ActorKind.GUARDIAN))


def _expire(r: Registration, n: int) -> None:
    r.expire(_cause(f"expire-{n}", n))


def _activate(r: Registration, n: int) -> None:
    r.activate_child_account("acct-1", _cause(f"activate-{n}", n))


def _notify(r: Registration, n: int) -> None:
    for kind in ("received", "approved", "rejected"):
        r.prepare_notification(
            kind, "sms", kind, 1, "******5678", "d" * 64, None, f"m-{kind}", _cause(f"p-{kind}", n)
        )
    r.notification_sent("received", "sms", "m-received", _cause(f"sent-{n}", n))
    r.notification_failed("approved", "sms", "gateway down", True, _cause(f"failed-{n}", n))
    r.notification_skipped("withdrawn", "email", "no email", _cause(f"skipped-{n}", n))


def _erase(r: Registration, n: int) -> None:
    r.erase("guardian's request", _cause(f"erase-{n}", n, ActorKind.OPERATOR))


def _claim(r: Registration, n: int) -> None:
    r.claim("79001.reviewer", False, _cause(f"claim-{n}", n, ActorKind.REVIEWER))


def _release(r: Registration, n: int) -> None:
    r.release("79001.reviewer", _cause(f"release-{n}", n, ActorKind.REVIEWER))


def _open_link(r: Registration, n: int) -> None:
    r.record_declaration_view("page", "ab" * 32, _cause(f"view-{n}", n, ActorKind.GUARDIAN))


_TO_REVIEW: list[Step] = [_verify, _store, _review]

PATHS: dict[str, list[Step]] = {
    "approved and activated": [
        *_TO_REVIEW, _overdue, _refuse, _supplement, _provide, _store, _review, _approve,
        _activate, _notify,
    ],
    "rejected with four eyes": [
        *_TO_REVIEW, _propose, _overdue, _decline, _propose, _confirm, _notify,
    ],
    "expired with a proposed rejection": [*_TO_REVIEW, _propose, _overdue, _expire],
    "rejected": [*_TO_REVIEW, _claim, _release, _claim, _reject, _notify],
    "auto-rejected at once": [_auto_reject],
    "auto-rejected after the identity check": [_verify, _auto_reject],
    "auto-rejected supplement": [*_TO_REVIEW, _supplement, _provide, _auto_reject],
    "expired in review": [*_TO_REVIEW, _overdue, _expire],
    "expired waiting for a supplement": [*_TO_REVIEW, _supplement, _expire],
    "withdrawn at once": [_withdraw, _open_link],
    "withdrawn in review": [*_TO_REVIEW, _withdraw],
    "rejected and erased": [*_TO_REVIEW, _reject, _notify, _erase],
}  # fmt: skip


def _history(steps: list[Step]) -> list[Registration.Event]:
    registration = _submitted()
    for number, step in enumerate(steps, start=1):
        step(registration, number)
    events: list[Registration.Event] = list(registration.collect_events())  # type: ignore[arg-type]
    return events


def _replayed(events: list[Registration.Event]) -> Iterator[tuple[Any, Registration]]:
    """Each event with the aggregate as it stands after it."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
        yield event, aggregate


def test_the_paths_raise_every_event_class() -> None:
    raised = {type(event) for steps in PATHS.values() for event in _history(steps)}

    assert raised == EVENT_CLASSES


@pytest.mark.parametrize("steps", PATHS.values(), ids=PATHS.keys())
def test_after_every_event_each_read_model_agrees_with_the_aggregate(steps: list[Step]) -> None:
    state = State.SUBMITTED
    status_row = queue_row = guardian_row = statistics_row = None

    for position, (event, aggregate) in enumerate(_replayed(_history(steps)), start=1):
        state = lifecycle.state_after(event, state)
        status_row = status.evolve(status_row, event, position)
        queue_row = None if queue._leaves_the_queue(event) else queue.evolve(queue_row, event)
        guardian_row = guardians.evolve(guardian_row, event, KEY)
        if isinstance(event, Registration.Erased):
            # Erased keeps the final state; the status row is made from the event alone, the
            # guardians' index drops the row, the statistics count it by its state only.
            assert aggregate.state is state
            assert state in FINAL_STATES
            assert status_row == status.erased(event, position)
            assert status_row["state"] == state.value
            assert status_row["child_code_masked"] is None
            assert guardian_row is None
            assert queue_row is None
            assert statistics.erased(event)["state"] == state.value
            continue
        if isinstance(event, Registration.Submitted) or lifecycle.new_state(event) is not None:
            statistics_row = statistics.evolve(statistics_row, event)

        outcome = lifecycle.outcome_of(state)
        assert aggregate.state is state
        assert aggregate.is_final is (state in FINAL_STATES)
        assert _view(aggregate).contract_status().waiting_for == WAITING_FOR[state]
        assert status_row is not None
        assert (status_row["state"], status_row["outcome"], status_row["waiting_for"]) == (
            state.value,
            outcome.value if outcome else None,
            WAITING_FOR[state],
        )
        assert status.StatusRecord(**_without(status_row, "events_applied"), as_of_position=0)
        assert (queue_row is not None) is (state in OPEN_STATES)
        assert queue_row is None or queue_row["awaiting"] is (WAITING_FOR[state] == "reviewer")
        assert guardian_row is not None
        assert (guardian_row["state"], guardian_row["outcome"]) == (
            state.value,
            outcome.value if outcome else None,
        )
        assert statistics_row is not None
        assert statistics_row["state"] == state.value


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in keys}
