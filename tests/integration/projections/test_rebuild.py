"""A rebuild replays the event store into fresh tables and swaps them in atomically."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from domain.service import RegistrationService
from projections.catalogue import NAMES
from projections.queries import ReadModels
from projections.rebuild import rebuild
from projections.runners import RunningProjections
from projections.status import StatusRecord
from tests.builders.registrations import CHILDREN, GUARDIANS, OFFICES, T0, Registrar
from tests.integration.projections.conftest import KEY

TABLES = (
    "rm_registration_status",
    "rm_review_queue",
    "rm_guardian_children",
    "rm_office_registrations",
    "rm_office_decisions",
)


def snapshot(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as connection:
        tables = {
            table: connection.execute(
                f"SELECT * FROM {table} ORDER BY registration_id"  # noqa: S608 - fixed names
            ).fetchall()
            for table in TABLES
        }
        tracking = {
            name: connection.execute(
                f"SELECT application_name, notification_id FROM {name}_tracking ORDER BY 1"  # noqa: S608
            ).fetchall()
            for name in NAMES
        }
    return {"tables": tables, "tracking": tracking}


def register_many(registrar: Registrar, count: int, first: int = 0) -> None:
    for number in range(first, first + count):
        registrar.lifecycle(
            f"vssid-{number}",
            OFFICES[number % 3],
            GUARDIANS[number % 3],
            CHILDREN[number % 4],
            [0, 0, 0, number % 7, number % 3, 0],
            T0 + timedelta(hours=number),
        )


def test_a_rebuild_produces_tables_equal_to_the_live_ones(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, database_url: str
) -> None:
    register_many(registrar, 10)
    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=30)
    live = snapshot(database_url)

    reports = rebuild(env, KEY, batch_size=7)

    assert snapshot(database_url) == live
    assert {report.name: report.position for report in reports} == dict.fromkeys(
        NAMES, registrar.last_position
    )


def test_queries_answer_during_a_rebuild_and_the_runner_carries_on_after_the_swap(
    env: dict[str, str],
    registrar: Registrar,
    read_models: ReadModels,
    service: RegistrationService,
    database_url: str,
) -> None:
    register_many(registrar, 6)
    answers: list[StatusRecord] = []

    def meanwhile(name: str, reached: int, target: int) -> None:
        if name == "registration_status" and 0 < reached < target and not answers:
            answers.append(read_models.status_record("vssid-0"))
            register_many(registrar, 1, first=6)  # recorded during the replay

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=30)
        rebuild(env, KEY, progress=meanwhile, batch_size=5)
        register_many(registrar, 2, first=7)  # recorded after the swap
        read_models.wait_for(registrar.last_position, timeout=30)

    assert answers[0].request_id == "vssid-0"
    assert read_models.status_record("vssid-8").version == service.get_by_request("vssid-8").version
    with psycopg.connect(database_url) as connection:
        applied: dict[str, int] = dict(
            connection.execute(
                "SELECT request_id, events_applied FROM rm_registration_status"
            ).fetchall()
        )
    assert applied == {
        f"vssid-{number}": service.get_by_request(f"vssid-{number}").version for number in range(9)
    }
    assert sum(stats.registrations for stats in read_models.all_stats()) == 9
