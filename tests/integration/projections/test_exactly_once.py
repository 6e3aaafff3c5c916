"""Each event is applied exactly once: through failures, restarts and a second runner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.projection import ProjectionRunner

from domain.service import RegistrationService
from projections.catalogue import NAMES, projection_env
from projections.queries import NotFound, ReadModels
from projections.runners import RunningProjections
from projections.status import RegistrationStatusProjection, RegistrationStatusView
from tests.builders.registrations import CHILDREN, GUARDIANS, OFFICES, T0, Registrar
from tests.integration.projections.conftest import KEY


class InjectedFailure(Exception):
    pass


class FailingStatusView(RegistrationStatusView):
    """Fails after writing the view for one event, before its tracking record."""

    fail_at = 0

    def after_view_write(self, tracking: Tracking) -> None:
        if tracking.notification_id == self.fail_at:
            raise InjectedFailure(f"between the writes of event {tracking.notification_id}")


def applied_counts(database_url: str) -> dict[Any, int]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT registration_id, events_applied FROM rm_registration_status"
        ).fetchall()
    return dict(rows)


def versions(service: RegistrationService, registrar: Registrar) -> dict[Any, int]:
    return {rid: service.get(rid).version for rid in registrar.registrations}


def test_a_failure_between_the_view_write_and_the_tracking_write_leaves_neither(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, database_url: str
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7900000001", T0)
    failing_at = registrar.submit("vssid-2", "79001", "0123456789", "7900000002", T0).position
    FailingStatusView.fail_at = failing_at or 0
    runner = ProjectionRunner(
        application_class=RegistrationService,
        projection_class=RegistrationStatusProjection,
        view_class=FailingStatusView,
        env=projection_env(env),
    )

    with pytest.raises(InjectedFailure), runner:
        runner.wait(registrar.last_position, timeout=20)
    runner.view.datastore.close()

    assert read_models.positions()["registration_status"] == failing_at - 1  # type: ignore[operator]
    assert read_models.status_record("vssid-1").state == "submitted"
    with pytest.raises(NotFound):
        read_models.status_record("vssid-2")


def test_a_restart_resumes_with_no_event_missed_or_applied_twice(
    env: dict[str, str],
    registrar: Registrar,
    read_models: ReadModels,
    service: RegistrationService,
    database_url: str,
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7900000001", T0)
    FailingStatusView.fail_at = registrar.last_position
    broken = ProjectionRunner(
        application_class=RegistrationService,
        projection_class=RegistrationStatusProjection,
        view_class=FailingStatusView,
        env=projection_env(env),
    )
    with pytest.raises(InjectedFailure), broken:
        broken.wait(registrar.last_position, timeout=20)
    broken.view.datastore.close()
    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)
    registrar.lifecycle("vssid-2", "79001", "0198765432", "7900000002", [0, 0, 0, 0], T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    assert applied_counts(database_url) == versions(service, registrar)
    assert read_models.status_record("vssid-2").state == "approved"
    stats = read_models.stats("79001")
    assert stats.registrations == 2
    assert stats.decisions == 1


def test_two_runners_at_once_apply_each_event_once(
    env: dict[str, str],
    registrar: Registrar,
    read_models: ReadModels,
    service: RegistrationService,
    database_url: str,
) -> None:
    with RunningProjections(env, KEY), RunningProjections(env, KEY):
        for number in range(12):
            registrar.lifecycle(
                f"vssid-{number}",
                OFFICES[number % 3],
                GUARDIANS[number % 3],
                CHILDREN[number % 4],
                [0, 0, 0, number % 5, 0],
                T0 + timedelta(hours=number),
            )
        read_models.wait_for(registrar.last_position, timeout=30)

    assert applied_counts(database_url) == versions(service, registrar)
    assert sum(stats.registrations for stats in read_models.all_stats()) == 12
    decided = sum(
        1
        for rid in registrar.registrations
        if service.get(rid).decided_by not in (None, "system", "guardian")
    )
    assert sum(stats.decisions for stats in read_models.all_stats()) == decided


def test_each_runner_is_pushed_its_events_through_listen_notify(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, database_url: str
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7912345678", T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)
        with psycopg.connect(database_url) as connection:
            listening = connection.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ILIKE 'LISTEN %'"
            ).fetchall()
        registrar.submit("vssid-2", "79001", "0198765432", "7900000002", T0)
        read_models.wait_for(registrar.last_position, timeout=20)  # pushed to every runner

    # One LISTEN session a read model, parked on the event store's channel: nothing polls.
    assert len(listening) == len(NAMES)
    assert read_models.status_record("vssid-2").state == "submitted"


def test_a_view_commits_without_waiting_for_the_flush_and_nothing_else_does(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels
) -> None:
    """A view's transaction sets ``synchronous_commit`` off for itself only: a crash can lose only
    view writes whose tracking records go with them (applied again on restart)."""
    seen: list[str] = []
    connections: list[psycopg.Connection[Any]] = []
    execute = psycopg.Cursor.execute

    def watched(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        result = execute(cursor, query, *args, **kwargs)
        if "pg_notify" in str(query):  # the transaction's last statement, before its COMMIT
            setting = execute(cursor, "SHOW synchronous_commit").fetchone()
            assert setting is not None
            seen.append(setting["synchronous_commit"])
            connections.append(cursor.connection)
        return result

    position = registrar.submit("vssid-1", "79001", "0123456789", "7900000001", T0).position
    runner = ProjectionRunner(
        application_class=RegistrationService,
        projection_class=RegistrationStatusProjection,
        view_class=RegistrationStatusView,
        env=projection_env(env),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", watched)
        with runner:
            runner.wait(position, timeout=20)
            # The same connection, after its COMMIT: the setting went with the transaction.
            after = {
                row["synchronous_commit"]
                for c in connections
                if (row := c.execute("SHOW synchronous_commit").fetchone()) is not None
            }
    runner.view.datastore.close()

    assert seen
    assert set(seen) == {"off"}
    assert after == {"on"}
    assert read_models.status_record("vssid-1").state == "submitted"
