"""The registration service on a real PostgreSQL: save and reload, two writers, encryption."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from domain import chain
from domain.contract import parse_request
from domain.errors import CommandConflict, IllegalTransition, RegistrationNotFound
from domain.lifecycle import State
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from tests.builders import a_request
from tests.builders.registrations import record_notification_without_its_text
from workers.bootstrap import registration_service

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
REQUEST_ID = "vssid-20261125-000123"
WORKFLOW = f"registration-{REQUEST_ID}"


def cause(command_id: str, actor: ActorKind = ActorKind.SYSTEM, minutes: int = 0) -> Cause:
    return Cause(actor, "worker-1", WORKFLOW, command_id, T0 + timedelta(minutes=minutes))


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, cipher_key)
    yield app
    app.close()


def approve(service: RegistrationService, registration_id: Any) -> Any:
    return service.execute(
        registration_id,
        Registration.approve,
        "d-1",
        "hcm.reviewer1",
        None,
        cause("d-1", ActorKind.REVIEWER),
    )


def submit_and_await_review(service: RegistrationService) -> Any:
    view = service.submit(parse_request(a_request()), cause(REQUEST_ID, ActorKind.UPSTREAM))
    service.execute(
        view.registration_id,
        Registration.verify_identity,
        "7912345678",
        "0123456789",
        ["NO_CARD_QR"],
        cause("identity", minutes=1),
    )
    service.execute(
        view.registration_id,
        Registration.store_documents,
        {"portrait": {"sha256": "a" * 64}},
        [],
        cause("documents", minutes=2),
    )
    return service.execute(
        view.registration_id,
        Registration.request_review,
        T0 + timedelta(days=3),
        T0 + timedelta(days=30),
        cause("review", minutes=3),
    )


def test_a_registration_is_saved_and_reloaded_by_another_process(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    saved = submit_and_await_review(service)

    other = registration_service(database_url, cipher_key)
    reloaded = other.get_by_request(REQUEST_ID)
    other.close()

    assert reloaded.state is State.AWAITING_REVIEW
    assert reloaded.version == saved.version == 4
    assert reloaded.review_deadline == T0 + timedelta(days=3)
    assert reloaded.warnings == ["NO_CARD_QR"]
    assert reloaded.request["child"]["full_name"] == "Nguyễn Minh Khôi"
    assert reloaded.contract_status().waiting_for == "reviewer"


def test_the_stored_history_keeps_its_hash_chain(service: RegistrationService) -> None:
    saved = submit_and_await_review(service)

    history = service.history(saved.registration_id)

    chain.verify_events(history)
    assert [type(event).__name__ for event in history] == [
        "Submitted",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
    ]


def test_a_notification_recorded_before_texts_were_kept_reads_without_them_and_still_verifies(
    service: RegistrationService,
) -> None:
    saved = submit_and_await_review(service)
    record_notification_without_its_text(service, saved.registration_id, T0 + timedelta(hours=1))

    history = service.history(saved.registration_id)

    chain.verify_events(history)
    old = history[-1]
    assert isinstance(old, Registration.NotificationPrepared)
    assert "body" not in vars(old)
    assert (old.subject, old.body) == (None, None)


def test_submitting_the_same_request_twice_returns_the_same_registration(
    service: RegistrationService,
) -> None:
    first = service.submit(parse_request(a_request()), cause(REQUEST_ID, ActorKind.UPSTREAM))

    again = service.submit(parse_request(a_request()), cause(REQUEST_ID, ActorKind.UPSTREAM))

    assert again.registration_id == first.registration_id
    assert again.version == 1
    assert first.position is not None
    assert again.position is None


def test_another_request_under_a_used_request_id_is_a_conflict(
    service: RegistrationService,
) -> None:
    service.submit(parse_request(a_request()), cause(REQUEST_ID, ActorKind.UPSTREAM))

    with pytest.raises(CommandConflict):
        service.submit(
            parse_request(a_request(office_code="01001")), cause(REQUEST_ID, ActorKind.UPSTREAM)
        )


def test_an_unknown_registration_is_not_found(service: RegistrationService) -> None:
    with pytest.raises(RegistrationNotFound):
        service.get_by_request("never-submitted")


def test_two_writers_cannot_both_decide(
    service: RegistrationService,
    database_url: str,
    cipher_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registration_id = submit_and_await_review(service).registration_id
    other = registration_service(database_url, cipher_key)
    raced: list[object] = []
    save = service.save

    def save_after_another_approves(*objects: Any, **kwargs: Any) -> Any:
        if not raced:  # the other writer commits between our load and our save
            raced.append(approve(other, registration_id))
        return save(*objects, **kwargs)

    monkeypatch.setattr(service, "save", save_after_another_approves)

    with pytest.raises(IllegalTransition, match="cannot reject a registration that is approved"):
        service.execute(
            registration_id,
            Registration.reject,
            "d-2",
            "hcm.reviewer2",
            "PHOTO_UNCLEAR",
            None,
            cause("d-2", ActorKind.REVIEWER),
        )
    other.close()

    final = service.get(registration_id)
    assert final.state is State.APPROVED
    assert final.decided_by == "hcm.reviewer1"
    assert [type(e).__name__ for e in service.history(registration_id)][-1] == "Approved"


def test_the_recorder_refuses_a_stale_write(service: RegistrationService) -> None:
    registration_id = submit_and_await_review(service).registration_id
    stale: Registration = service.repository.get(registration_id)
    approve(service, registration_id)

    stale.reject("d-2", "hcm.reviewer2", "PHOTO_UNCLEAR", None, cause("d-2", ActorKind.REVIEWER))

    from eventsourcing.persistence import IntegrityError

    with pytest.raises(IntegrityError):
        service.save(stale)


def test_stored_rows_hold_no_plaintext_name_or_code(
    service: RegistrationService, database_url: str
) -> None:
    submit_and_await_review(service)

    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT topic, state FROM childreg_events").fetchall()

    assert len(rows) == 4
    for topic, state in rows:
        stored = bytes(state)
        for secret in (
            "Nguyễn Minh Khôi",
            "Nguyễn Văn An",
            "7912345678",
            "0123456789",
            "912345678",
            "example.vn",
        ):
            assert secret.encode() not in stored
            assert secret not in topic


def test_stored_events_cannot_be_read_with_another_key(
    service: RegistrationService, database_url: str
) -> None:
    submit_and_await_review(service)
    wrong_key = base64.b64encode(secrets.token_bytes(32)).decode()

    intruder = registration_service(database_url, wrong_key)

    with pytest.raises(Exception, match="Failed to decrypt stored event"):
        intruder.get_by_request(REQUEST_ID)
    intruder.close()


def test_without_a_key_events_are_stored_in_plain_text(database_url: str) -> None:
    plain = registration_service(database_url, None)
    plain.submit(parse_request(a_request()), cause(REQUEST_ID, ActorKind.UPSTREAM))
    plain.close()

    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT state FROM childreg_events").fetchone()

    assert row is not None
    assert "Nguyễn Minh Khôi".encode() in bytes(row[0])


def test_a_save_is_one_statement_that_notifies(
    service: RegistrationService, database_url: str
) -> None:
    from activities.event_store import FUNCTION, OneStatementRecorder

    assert isinstance(service.recorder, OneStatementRecorder)
    registration_id = submit_and_await_review(service).registration_id
    registration: Registration = service.repository.get(registration_id)
    registration.approve("d-1", "hcm.reviewer1", None, cause("d-1", ActorKind.REVIEWER))
    sent: list[str] = []
    execute = psycopg.Cursor.execute
    this_thread = threading.get_ident()  # not the pools' own threads opening connections

    def counted(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == this_thread:
            sent.append(query.as_string(cursor) if hasattr(query, "as_string") else str(query))
        return execute(cursor, query, *args, **kwargs)

    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN childreg_events")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(psycopg.Cursor, "execute", counted)
            recordings = service.save(registration)
        notified = list(listener.notifies(timeout=5, stop_after=1))

    assert len(sent) == 1  # no BEGIN, LOCK, NOTIFY or COMMIT of its own
    assert FUNCTION in sent[0]
    assert [n.channel for n in notified] == ["childreg_events"]
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT max(notification_id) FROM childreg_events WHERE originator_id = %s",
            (registration_id,),
        ).fetchone()
    assert row is not None
    assert row[0] == recordings[-1].notification.id  # the id the one statement returned
    names = [type(event).__name__ for event in service.history(registration_id)]
    assert names[-1] == "Approved"


def test_a_save_takes_the_table_lock_and_waits_for_it(
    service: RegistrationService, database_url: str
) -> None:
    """The lock is what keeps notification ids committed in order: a save waits for it."""
    registration_id = submit_and_await_review(service).registration_id
    registration: Registration = service.repository.get(registration_id)
    registration.approve("d-1", "hcm.reviewer1", None, cause("d-1", ActorKind.REVIEWER))
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url) as watcher:
        holder.execute("LOCK TABLE childreg_events IN SHARE MODE")  # conflicts with EXCLUSIVE
        saving = threading.Thread(target=service.save, args=(registration,))
        saving.start()
        waiting: Any = None
        for _ in range(600):  # up to 30 s
            waiting = watcher.execute(
                "SELECT mode FROM pg_locks WHERE relation = 'childreg_events'::regclass"
                " AND NOT granted"
            ).fetchone()
            watcher.rollback()
            if waiting:
                break
            saving.join(0.05)
        assert saving.is_alive()
        assert waiting == ("ExclusiveLock",)
        holder.rollback()
        saving.join(10)
    assert not saving.is_alive()
    assert type(service.history(registration_id)[-1]).__name__ == "Approved"


def test_a_process_that_does_not_create_tables_makes_the_missing_function_on_its_first_save(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    from activities.event_store import FUNCTION

    registration_id = submit_and_await_review(service).registration_id
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"DROP FUNCTION {FUNCTION}")
    other = registration_service(database_url, cipher_key, create_tables=False)
    try:
        approve(other, registration_id)
    finally:
        other.close()
    with psycopg.connect(database_url) as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_proc WHERE proname = %s", (FUNCTION,)
        ).fetchone()
    assert found == (1,)
    assert type(service.history(registration_id)[-1]).__name__ == "Approved"
    # The first process, whose statement was prepared before the function was made again:
    after = service.execute(
        registration_id, Registration.activate_child_account, "acc-1", cause("activate")
    )
    assert after.state is State.ACCOUNT_ACTIVATED


def test_first_saves_at_once_make_the_missing_function_once_and_all_go_through(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    from activities.event_store import FUNCTION

    ids = []
    for index in range(6):
        request = {**a_request(), "request_id": f"vssid-20261125-{index:06d}"}
        ids.append(service.submit(parse_request(request), cause(f"s-{index}")).registration_id)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"DROP FUNCTION {FUNCTION}")
    others = [registration_service(database_url, cipher_key, create_tables=False) for _ in ids]
    start = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def verify(other: RegistrationService, registration_id: Any) -> None:
        start.wait()
        try:
            other.execute(
                registration_id,
                Registration.verify_identity,
                "7912345678",
                "0123456789",
                [],
                cause("identity"),
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=verify, args=pair) for pair in zip(others, ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for other in others:
        other.close()

    assert errors == []
    assert [service.get(registration_id).state for registration_id in ids] == [
        State.IDENTITY_VERIFIED
    ] * len(ids)


def test_a_refused_save_leaves_nothing_and_the_next_save_goes_through(
    service: RegistrationService, database_url: str
) -> None:
    from eventsourcing.persistence import IntegrityError

    registration_id = submit_and_await_review(service).registration_id
    first: Registration = service.repository.get(registration_id)
    stale: list[Registration] = [service.repository.get(registration_id) for _ in range(3)]
    first.approve("d-1", "hcm.reviewer1", None, cause("d-1", ActorKind.REVIEWER))
    service.save(first)

    for copy in stale:  # the connection each refusal used goes back to the pool clean
        copy.reject("d-2", "hcm.reviewer2", "PHOTO_UNCLEAR", None, cause("d-2"))
        with pytest.raises(IntegrityError):
            service.save(copy)

    after = service.execute(
        registration_id, Registration.activate_child_account, "acc-1", cause("activate")
    )
    assert after.state is State.ACCOUNT_ACTIVATED
    names = [type(event).__name__ for event in service.history(registration_id)]
    assert names[-2:] == ["Approved", "ChildAccountActivated"]
    assert "Rejected" not in names
    with psycopg.connect(database_url) as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT notification_id FROM childreg_events ORDER BY notification_id"
            )
        ]
    assert ids == sorted(ids)
