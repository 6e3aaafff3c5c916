"""The event store's aggregate cache (fast-forwarded) with two writers on one database: each
decides on the state the other stored, never on its own stale copy."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from domain.contract import parse_request
from domain.errors import IllegalTransition
from domain.lifecycle import State
from domain.registration import ActorKind, Cause, Registration
from tests.builders import a_request
from workers.bootstrap import event_store_env, registration_service

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
REQUEST_ID = "vssid-20261125-000777"


def cause(command_id: str, minutes: int = 0) -> Cause:
    return Cause(
        ActorKind.SYSTEM,
        "worker-1",
        f"registration-{REQUEST_ID}",
        command_id,
        T0 + timedelta(minutes=minutes),
    )


def test_the_event_store_caches_aggregates_and_fast_forwards_them() -> None:
    env = event_store_env("postgresql://u@h/db", None)

    assert int(env["AGGREGATE_CACHE_MAXSIZE"]) > 0
    assert env["AGGREGATE_CACHE_FASTFORWARD"] == "yes"


def test_a_writer_with_a_cached_copy_decides_on_what_another_writer_stored(
    database_url: str,
) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    first = registration_service(database_url, key)
    second = registration_service(database_url, key)
    try:
        view = first.submit(parse_request(a_request()), cause(REQUEST_ID))
        registration_id = view.registration_id
        first.execute(
            registration_id,
            Registration.verify_identity,
            "7912345678",
            "0123456789",
            [],
            cause("identity", 1),
        )
        # Both writers hold the registration in their caches at version 2.
        assert second.get(registration_id).version == 2
        assert first.get(registration_id).version == 2
        assert second.repository.cache is not None

        first.execute(
            registration_id,
            Registration.store_documents,
            {"portrait": {"sha256": "a" * 64}},
            [],
            cause("documents", 2),
        )
        # The second's cached copy is stale: its command is decided on version 3, not 2.
        after = second.execute(
            registration_id,
            Registration.request_review,
            T0 + timedelta(days=3),
            T0 + timedelta(days=30),
            cause("review", 3),
        )
        assert after.version == 4
        assert after.state is State.AWAITING_REVIEW

        second.execute(
            registration_id, Registration.approve, "d-1", "rv-79001-01", None, cause("d-1", 4)
        )
        # The first writer's copy is at version 3; it must see the approval and refuse a rejection.
        with pytest.raises(IllegalTransition):
            first.execute(
                registration_id,
                Registration.reject,
                "d-2",
                "rv-79001-01",
                "DOCUMENTS_UNREADABLE",
                None,
                cause("d-2", 5),
            )
        assert first.get(registration_id).state is State.APPROVED
        assert [type(event).__name__ for event in first.history(registration_id)][-1] == "Approved"
    finally:
        first.close()
        second.close()


def test_a_writer_s_copy_of_its_own_save_made_stale_by_another_writer_is_never_decided_on(
    database_url: str,
) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    first = registration_service(database_url, key)
    second = registration_service(database_url, key)
    try:
        registration_id = first.submit(
            parse_request(a_request()), cause(REQUEST_ID)
        ).registration_id
        first.execute(
            registration_id,
            Registration.verify_identity,
            "7912345678",
            "0123456789",
            [],
            cause("identity", 1),
        )
        first.execute(
            registration_id,
            Registration.store_documents,
            {"portrait": {"sha256": "a" * 64}},
            [],
            cause("documents", 2),
        )  # the first writer keeps its copy at version 3
        second.execute(
            registration_id,
            Registration.request_review,
            T0 + timedelta(days=3),
            T0 + timedelta(days=30),
            cause("review", 3),
        )

        # A repeat on the stale copy records nothing: answered with what is stored (version 4).
        repeat = first.execute(
            registration_id,
            Registration.store_documents,
            {"portrait": {"sha256": "a" * 64}},
            [],
            cause("documents", 2),
        )
        assert (repeat.version, repeat.state) == (4, State.AWAITING_REVIEW)

        # The approval is its own save: it keeps a copy at version 5, which the second writer
        # makes stale. The activation decided on that copy is refused by the store (version 6 is
        # taken) and decided again on the stored state, where the account is already active.
        first.execute(
            registration_id, Registration.approve, "d-1", "rv-79001-01", None, cause("d-1", 4)
        )
        second.execute(
            registration_id, Registration.activate_child_account, "acc-1", cause("activate-1", 5)
        )
        with pytest.raises(IllegalTransition):
            first.execute(
                registration_id,
                Registration.activate_child_account,
                "acc-2",
                cause("activate-2", 6),
            )
        assert first.get(registration_id).child_account_id == "acc-1"
        names = [type(event).__name__ for event in second.history(registration_id)]
        assert names == [
            "Submitted",
            "IdentityVerified",
            "DocumentsStored",
            "ReviewRequested",
            "Approved",
            "ChildAccountActivated",
        ]
    finally:
        first.close()
        second.close()
