"""Item 4: the read models are compared with a replay of the event store, never changed."""

from __future__ import annotations

from uuid import UUID

import pytest

from projections.catalogue import create_schema, digest_key
from projections.runners import RunningProjections
from tests.builders.registrations import Registrar
from tests.integration.audit.conftest import LINK_SECRET, Audit, sql
from workers.bootstrap import event_store_env


@pytest.fixture
def projected(
    database_url: str, cipher_key: str, store: dict[str, UUID], registrar: Registrar
) -> dict[str, UUID]:
    env = event_store_env(database_url, cipher_key)
    create_schema(env)
    with RunningProjections(env, digest_key(LINK_SECRET)) as running:
        running.wait(registrar.last_position, timeout=20)
    return store


def test_consistent_read_models_pass_the_check(audit: Audit, projected: dict[str, UUID]) -> None:
    code, out = audit("rebuild", "--check")

    assert code == 0, out
    for name in ("registration_status", "review_queue", "guardian_children", "office_statistics"):
        assert f"{name}: " in out
    assert "DIFFERENCE" not in out
    assert "registration_status: 3 live rows at position 21: same" in out


def test_a_hand_altered_read_model_row_is_reported(
    audit: Audit, projected: dict[str, UUID], database_url: str
) -> None:
    target = projected["supplement"]
    sql(
        database_url,
        "UPDATE rm_registration_status SET state = 'approved', reason_code = NULL "
        "WHERE registration_id = %s",
        target,
    )
    sql(
        database_url, "DELETE FROM rm_review_queue WHERE registration_id = %s", projected["waiting"]
    )

    code, out = audit("rebuild", "--check")

    assert code == 1
    assert (
        f"DIFFERENCE registration_status rm_registration_status {target}: "
        "reason_code: live None != replayed 'PHOTO_UNCLEAR'; state: live 'approved' != replayed "
        "'rejected'"
    ) in out
    assert (
        f"DIFFERENCE review_queue rm_review_queue {projected['waiting']}: missing from the live"
    ) in out
    assert "office_statistics: 5 live rows at position 21: same" in out


def test_the_check_leaves_nothing_behind(
    audit: Audit, projected: dict[str, UUID], database_url: str
) -> None:
    before = sql(database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")

    code, out = audit("rebuild", "--check", "review_queue")

    assert code == 0, out
    after = sql(database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert sorted(after) == sorted(before)


def test_an_auditor_cannot_swap(audit: Audit, projected: dict[str, UUID]) -> None:
    code, out = audit("rebuild")

    assert code == 2
    assert "--check" in out
