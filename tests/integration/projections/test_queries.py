"""The query API over live runners: status, queue, guardian's children, statistics, waiting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from projections.queries import NotFound, ProjectionBehind, ReadModels
from projections.runners import RunningProjections
from tests.builders.registrations import T0, Registrar
from tests.integration.projections.conftest import KEY


def test_a_registration_awaiting_review_shows_its_status_and_is_in_its_office_queue(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels
) -> None:
    view = registrar.lifecycle("vssid-1", "79001", "0123456789", "7912345678", [0, 0, 0], T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    status = read_models.status_record("vssid-1")
    assert status.state == "awaiting_review"
    assert status.registration_id == view.registration_id
    assert status.child_code_masked == "******5678"
    assert status.waiting_for == "reviewer"
    assert status.review_deadline == view.review_deadline
    assert status.as_of_position == registrar.last_position
    assert read_models.status_record(str(view.registration_id)) == status
    queue = read_models.queue("79001")
    assert [entry.request_id for entry in queue.entries] == ["vssid-1"]
    assert read_models.queue("01001").entries == []
    assert read_models.queue("79001", supervisor=True).entries == []


def test_the_status_holds_no_name_birth_date_or_full_code(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels
) -> None:
    registrar.lifecycle("vssid-1", "79001", "0123456789", "7912345678", [0, 0, 0, 0], T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    answer = json.dumps(
        [
            read_models.status_record("vssid-1").model_dump(mode="json"),
            read_models.guardian("0123456789").model_dump(mode="json"),
            read_models.queue("79001").model_dump(mode="json"),
        ]
    )
    for secret in ("Nguyễn", "Khôi", "2019-03-14", "7912345678", "0123456789"):
        assert secret not in answer


def test_an_overdue_registration_comes_first_and_is_in_the_supervisors_view(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, service: object
) -> None:
    early = registrar.lifecycle("vssid-early", "79001", "0123456789", "7900000001", [0, 0, 0], T0)
    late = registrar.lifecycle(
        "vssid-late", "79001", "0198765432", "7900000002", [0, 0, 0], T0 + timedelta(hours=5)
    )
    registrar.move(late, "overdue", T0 + timedelta(days=4), "late-overdue")

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    reviewers = read_models.queue("79001")
    assert [e.request_id for e in reviewers.entries] == ["vssid-late", "vssid-early"]
    assert reviewers.entries[0].overdue
    assert reviewers.entries[0].escalated_to == ["79001.supervisor"]
    supervisors = read_models.queue("79001", supervisor=True)
    assert [e.request_id for e in supervisors.entries] == ["vssid-late"]
    assert early.state.value == "awaiting_review"


def test_a_guardian_sees_each_child_with_its_registrations_and_account_status(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels
) -> None:
    first = registrar.submit("vssid-a1", "79001", "0123456789", "7900000001", T0)
    registrar.move(first, "withdraw", T0 + timedelta(hours=1), "a1-w")
    second = registrar.lifecycle(
        "vssid-a2", "79001", "0123456789", "7900000001", [0, 0, 0], T0 + timedelta(hours=2)
    )
    approved = registrar.move(second, "approve", T0 + timedelta(days=1), "a2-ok")
    registrar.move(approved, "activate", T0 + timedelta(days=1, minutes=1), "a2-act")
    registrar.submit("vssid-b1", "01001", "0123456789", "7900000002", T0 + timedelta(days=2))
    registrar.submit("vssid-other", "01001", "0198765432", "7900000003", T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    answer = read_models.guardian("0123456789")
    assert [(c.child_code_masked, c.account_status) for c in answer.children] == [
        ("******0002", "pending"),
        ("******0001", "active"),
    ]
    assert [r.request_id for r in answer.children[1].registrations] == ["vssid-a2", "vssid-a1"]
    assert answer.children[1].child_account_id is not None
    assert read_models.guardian("0999999999").children == []


def test_an_unknown_registration_is_not_found(read_models: ReadModels) -> None:
    with pytest.raises(NotFound, match="no registration"):
        read_models.status_record("never-submitted")


def test_waiting_for_a_position_no_runner_reaches_ends_in_a_clear_error(
    registrar: Registrar, read_models: ReadModels
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7912345678", T0)

    with pytest.raises(ProjectionBehind, match=r"had not reached position 1 within 0\.2s"):
        read_models.wait_for(registrar.last_position, timeout=0.2)
