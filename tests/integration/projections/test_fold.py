"""Each read model equals a direct fold over the events that produced it.

Hypothesis generates valid lifecycles (README: "The lifecycle") for many registrations, offices, guardians and
children; the real service records them; the runners project them; the test computes every read
model again from the recorded events (and the aggregates they replay into) and compares.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta, timezone
from uuid import UUID

import psycopg
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.contract import FinalOutcome
from domain.lifecycle import OPEN_STATES, State
from domain.registration import Registration
from domain.service import RegistrationView
from projections.queries import ReadModels
from projections.runners import RunningProjections
from tests.builders.registrations import CHILDREN, GUARDIANS, OFFICES, T0, Registrar
from tests.integration.projections.conftest import KEY, fresh_database, query_side
from workers.bootstrap import event_store_env, registration_service

Plan = tuple[str, str, str, list[int]]

plans = st.lists(
    st.tuples(
        st.sampled_from(OFFICES),
        st.sampled_from(GUARDIANS),
        st.sampled_from(CHILDREN),
        st.lists(st.integers(min_value=0, max_value=11), min_size=2, max_size=16),
    ),
    min_size=1,
    max_size=8,
)

VIETNAM = timezone(timedelta(hours=7))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=plans)
def test_each_read_model_equals_a_fold_over_its_events(
    postgres_server_url: str, cipher_key: str, plans: list[Plan]
) -> None:
    with fresh_database(postgres_server_url) as url:
        env = event_store_env(url, cipher_key)
        service = registration_service(url, cipher_key)
        try:
            registrar = Registrar(service)
            for number, (office, guardian, child, choices) in enumerate(plans):
                start = T0 + timedelta(hours=number)
                registrar.lifecycle(f"vssid-{number}", office, guardian, child, choices, start)

            with query_side(url, env) as read_models, RunningProjections(env, KEY):
                read_models.wait_for(registrar.last_position, timeout=30)
                histories = {rid: service.history(rid) for rid in registrar.registrations}
                views = {rid: service.get(rid) for rid in registrar.registrations}
                for view in views.values():
                    event(view.state.value)
                event(f"events: {registrar.last_position // 20 * 20}+")

                assert read_models.positions() == dict.fromkeys(
                    read_models.positions(), registrar.last_position
                )
                _check_status(read_models, views, url)
                _check_queues(read_models, views)
                _check_guardians(read_models, views)
                _check_statistics(read_models, views, histories)
        finally:
            service.close()


def _check_status(read_models: ReadModels, views: dict[UUID, RegistrationView], url: str) -> None:
    for rid, view in views.items():
        status = read_models.status_record(view.request_id)
        contract = view.contract_status()
        assert status.registration_id == rid
        assert status.state == view.state.value
        assert status.office_code == view.office_code
        assert (
            status.child_code_masked
            == "******" + view.request["child"]["social_insurance_code"][-4:]
        )
        assert status.submitted_at == view.submitted_at
        assert status.review_deadline == view.review_deadline
        assert status.expires_at == view.expires_at
        assert (status.overdue, status.escalated) == (view.overdue, view.escalated)
        assert status.waiting_for == contract.waiting_for
        assert status.supplement_rounds == view.supplement_rounds
        assert status.outcome == (view.outcome.value if view.outcome else None)
        assert status.reason_code == view.reason_code
        assert (status.decided_by, status.decided_at) == (view.decided_by, view.decided_at)
        assert status.warnings == view.warnings
        assert status.child_account_id == view.child_account_id
        assert status.version == view.version
    with psycopg.connect(url) as connection:
        applied = connection.execute(
            "SELECT registration_id, events_applied FROM rm_registration_status"
        ).fetchall()
    assert dict(applied) == {rid: view.version for rid, view in views.items()}


def _check_queues(read_models: ReadModels, views: dict[UUID, RegistrationView]) -> None:
    for office in OFFICES:
        waiting = [
            v
            for v in views.values()
            if v.office_code == office and v.state is State.AWAITING_REVIEW
        ]
        waiting.sort(key=lambda v: (not v.overdue, v.review_deadline, v.registration_id))
        queue = read_models.queue(office)
        assert [(e.registration_id, e.overdue, e.deadline, e.round) for e in queue.entries] == [
            (v.registration_id, v.overdue, v.review_deadline, v.supplement_rounds + 1)
            for v in waiting
        ]
        escalated = sorted(
            (v for v in waiting if v.escalated),
            key=lambda v: (v.review_deadline, v.registration_id),
        )
        supervisors = read_models.queue(office, supervisor=True)
        assert [e.registration_id for e in supervisors.entries] == [
            v.registration_id for v in escalated
        ]


def _check_guardians(read_models: ReadModels, views: dict[UUID, RegistrationView]) -> None:
    for guardian in GUARDIANS:
        children: dict[str, list[RegistrationView]] = defaultdict(list)
        for view in views.values():
            if view.request["guardian"]["social_insurance_code"] == guardian:
                children[view.request["child"]["social_insurance_code"]].append(view)
        expected = []
        for code, registrations in children.items():
            registrations.sort(key=lambda v: (v.submitted_at, v.registration_id), reverse=True)
            states = {v.state for v in registrations}
            if State.ACCOUNT_ACTIVATED in states:
                account = "active"
            elif states & (OPEN_STATES | {State.APPROVED}):
                account = "pending"
            else:
                account = "none"
            expected.append(
                ("******" + code[-4:], account, [v.registration_id for v in registrations])
            )
        expected.sort(key=lambda child: views[child[2][0]].submitted_at or T0, reverse=True)

        answer = read_models.guardian(guardian)

        assert [
            (c.child_code_masked, c.account_status, [r.registration_id for r in c.registrations])
            for c in answer.children
        ] == expected


def _check_statistics(
    read_models: ReadModels,
    views: dict[UUID, RegistrationView],
    histories: dict[UUID, list[Registration.Event]],
) -> None:
    offices = sorted({v.office_code for v in views.values()})
    answers = {stats.office_code: stats for stats in read_models.all_stats()}
    assert sorted(answers) == offices
    for office in offices:
        mine = [v for v in views.values() if v.office_code == office]
        counts = dict.fromkeys(State, 0)
        for view in mine:
            counts[view.state] += 1
        decided = [
            v
            for v in mine
            if any(
                isinstance(e, Registration.Approved | Registration.Rejected)
                for e in histories[v.registration_id]
            )
        ]
        seconds = sorted((v.decided_at - v.submitted_at).total_seconds() for v in decided)  # type: ignore[operator]
        days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for v in decided:
            day = v.decided_at.astimezone(VIETNAM).date()  # type: ignore[union-attr]
            days[day][0 if v.outcome is FinalOutcome.APPROVED else 1] += 1

        stats = answers[office]

        assert stats == read_models.stats(office)
        assert stats.counts == counts
        assert stats.registrations == len(mine)
        assert stats.overdue == sum(
            1 for v in mine if v.state is State.AWAITING_REVIEW and v.overdue
        )
        assert stats.overdue_total == sum(
            1
            for v in mine
            if any(isinstance(e, Registration.ReviewOverdue) for e in histories[v.registration_id])
        )
        assert stats.decisions == len(decided)
        assert [(d.date, d.approved, d.rejected) for d in stats.decisions_per_day] == [
            (day, approved, rejected) for day, (approved, rejected) in sorted(days.items())
        ]
        assert _close(stats.median_seconds_to_decision, _percentile_cont(seconds, 0.5))
        assert _close(stats.p90_seconds_to_decision, _percentile_cont(seconds, 0.9))


def _percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) < 1e-6
