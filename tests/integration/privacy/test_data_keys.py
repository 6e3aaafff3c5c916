"""A data key per registration on a real PostgreSQL: events under it, older events under the
service key, the key wrapped by the service key, and the same key store for every reader."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

from activities.aes_gcm import seal
from activities.erasure import Eraser, Places
from activities.keys import DataErased, DataKey, DataKeys, RegistrationCipher, wrapping_key
from domain.contract import parse_request
from domain.lifecycle import State
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from projections.audit.store import EventDecoder, read_only_connection, stream
from tests.builders import a_request
from workers.bootstrap import event_store_env, registration_service

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def cause(request_id: str) -> Cause:
    return Cause(ActorKind.UPSTREAM, "worker-1", f"registration-{request_id}", request_id, T0)


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, cipher_key)
    yield app
    app.close()


def submit(service: RegistrationService, request_id: str) -> UUID:
    view = service.submit(parse_request(a_request(request_id=request_id)), cause(request_id))
    return view.registration_id


def stored_state(database_url: str, registration_id: UUID) -> bytes:
    return bytes(stored_column(database_url, registration_id, "state")[0])


def stored_column(database_url: str, registration_id: UUID, column: str) -> list[Any]:
    """One column of the registration's stored events, in version order."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            sql.SQL(
                "SELECT {} FROM childreg_events WHERE originator_id = %s"
                " ORDER BY originator_version"
            ).format(sql.Identifier(column)),
            (registration_id,),
        ).fetchall()
    return [value for (value,) in rows]


def test_each_registration_is_encrypted_under_a_key_of_its_own(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    first = submit(service, "vssid-20261125-000001")
    second = submit(service, "vssid-20261125-000002")

    keys = DataKeys(database_url, cipher_key)
    first_key, second_key = keys.key_for(first), keys.key_for(second)
    keys.close()

    assert first_key.key is not None
    assert second_key.key is not None
    assert first_key.key != second_key.key
    assert first_key.key_id != second_key.key_id
    state = stored_state(database_url, first)
    nonce, tag, body = state[:12], state[12:28], state[28:]
    assert AESGCM(first_key.key).decrypt(nonce, body + tag, first.bytes)
    with pytest.raises(Exception):  # noqa: B017, PT011  (InvalidTag: not under the other key)
        AESGCM(second_key.key).decrypt(nonce, body + tag, first.bytes)


def test_the_key_table_holds_the_data_keys_wrapped_by_the_service_key(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    registration_id = submit(service, "vssid-20261125-000003")
    keys = DataKeys(database_url, cipher_key)
    data_key = keys.key_for(registration_id).key
    keys.close()

    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT wrapped FROM data_keys WHERE registration_id = %s", (registration_id,)
        ).fetchone()

    assert row is not None
    assert data_key is not None
    wrapped = bytes(row[0])
    assert data_key not in wrapped
    assert (
        AESGCM(wrapping_key(cipher_key)).decrypt(wrapped[:12], wrapped[12:], registration_id.bytes)
        == data_key
    )


def test_events_stored_under_the_service_key_before_stay_readable(
    database_url: str, cipher_key: str
) -> None:
    before = RegistrationService(
        env={
            **event_store_env(database_url, None),
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
            "CIPHER_KEY": cipher_key,
        }
    )
    old = before.submit(parse_request(a_request(request_id="vssid-20261125-000004")), cause("a"))
    before.close()

    after = registration_service(database_url, cipher_key)
    read = after.get_by_request("vssid-20261125-000004")
    new = submit(after, "vssid-20261125-000005")
    after.close()

    assert read.registration_id == old.registration_id
    with psycopg.connect(database_url) as connection:
        keyed = {
            row[0] for row in connection.execute("SELECT registration_id FROM data_keys").fetchall()
        }
    assert keyed == {new}


def test_the_audit_decoder_reads_through_the_same_key_store(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    registration_id = submit(service, "vssid-20261125-000006")
    decoder = EventDecoder(event_store_env(database_url, cipher_key))

    with read_only_connection(database_url) as connection:
        events = [decoder.decode(row) for row in stream(connection, registration_id)]
    decoder.close()

    assert [type(event).__name__ for event in events] == ["Submitted"]


def test_once_the_key_is_erased_nobody_reads_the_events(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    erased = submit(service, "vssid-20261125-000007")
    kept = submit(service, "vssid-20261125-000008")
    keys = DataKeys(database_url, cipher_key)

    assert keys.erase(erased) is True
    assert keys.erase(erased) is False
    keys.close()

    reader = registration_service(database_url, cipher_key)
    with pytest.raises(DataErased):
        reader.get_by_request("vssid-20261125-000007")
    assert reader.get_by_request("vssid-20261125-000008").registration_id == kept
    reader.close()
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT wrapped, erased_at FROM data_keys WHERE registration_id = %s", (erased,)
        ).fetchone()
    assert row is not None
    assert row[0] is None
    assert row[1] is not None


def test_an_erased_key_leaves_no_cipher_behind_in_the_process(
    service: RegistrationService, database_url: str, cipher_key: str
) -> None:
    from activities.aes_gcm import CIPHERS

    registration_id = submit(service, "vssid-20261125-000009")
    keys = DataKeys(database_url, cipher_key)
    data_key = keys.key_for(registration_id)
    assert data_key.key is not None
    cached = CIPHERS.get(data_key.key)
    assert CIPHERS.get(data_key.key) is cached  # built once, then reused

    assert keys.erase(registration_id) is True
    keys.close()

    assert CIPHERS.get(data_key.key) is not cached  # the erasure dropped it
    CIPHERS.discard(data_key.key)


def test_a_key_read_once_is_found_by_its_id_from_memory_until_it_is_dropped(
    database_url: str, cipher_key: str
) -> None:
    keys = DataKeys(database_url, cipher_key)
    keys.create_table()
    other = DataKeys(database_url, cipher_key)
    try:
        registration_id = UUID(int=secrets.randbits(128))
        made = keys.key_for(registration_id)

        assert keys.cached(registration_id) == made
        assert keys.cached_by_key_id(made.key_id) == made
        # Another process has not read it: it must ask the table, which has it.
        assert other.cached_by_key_id(made.key_id) is None
        assert other.by_key_id(made.key_id) == made
        assert other.cached_by_key_id(made.key_id) == made

        assert other.erase(registration_id)
        assert other.cached_by_key_id(made.key_id) is None  # the erasure drops it
        found = other.by_key_id(made.key_id)
        assert found is not None
        assert found.erased
        keys.forget(registration_id)
        assert keys.cached(registration_id) is None
        assert keys.cached_by_key_id(made.key_id) is None
    finally:
        keys.close()
        other.close()


def test_a_key_in_memory_is_trusted_only_for_the_cache_s_time(
    database_url: str, cipher_key: str
) -> None:
    keys = DataKeys(database_url, cipher_key, cache_seconds=0.0)
    keys.create_table()
    try:
        registration_id = UUID(int=secrets.randbits(128))
        made = keys.key_for(registration_id)
        assert keys.cached(registration_id) is None
        assert keys.cached_by_key_id(made.key_id) is None
        assert keys.by_key_id(made.key_id) == made  # read again from the table
    finally:
        keys.close()


class CountedKeys:
    """The statements a key table sends to PostgreSQL, recorded as they go."""

    def __init__(self, keys: DataKeys, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        send = keys._execute

        def counted(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            self.statements.append(sql)
            return send(sql, params)

        monkeypatch.setattr(keys, "_execute", counted)


def writers_keys(service: RegistrationService) -> DataKeys:
    cipher = service.repository.event_store.mapper.cipher
    assert isinstance(cipher, RegistrationCipher)
    return cipher.keys


def test_a_new_key_is_made_in_one_statement_and_read_back_the_same(
    database_url: str, cipher_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = DataKeys(database_url, cipher_key)
    keys.create_table()
    other = DataKeys(database_url, cipher_key)
    counted = CountedKeys(keys, monkeypatch)
    try:
        registration_id = UUID(int=secrets.randbits(128))

        made = keys.key_for(registration_id)

        assert len(counted.statements) == 1
        assert made.key is not None
        assert other.find(registration_id) == made
        assert other.key_for(registration_id) == made  # an existing key: read, not replaced
    finally:
        keys.close()
        other.close()


def test_two_writers_making_one_key_at_once_both_get_the_one_that_won(
    database_url: str, cipher_key: str
) -> None:
    keys = DataKeys(database_url, cipher_key)
    keys.create_table()
    registration_id = UUID(int=secrets.randbits(128))
    won = AESGCM.generate_key(bit_length=256)
    results: list[DataKey] = []
    try:
        with psycopg.connect(database_url) as rival:
            rival.execute(
                "INSERT INTO data_keys (registration_id, key_id, wrapped) VALUES (%s, %s, %s)",
                (
                    registration_id,
                    "rival-key",
                    seal(wrapping_key(cipher_key), won, registration_id.bytes),
                ),
            )  # not committed yet: the writer's INSERT waits for it
            writer = threading.Thread(target=lambda: results.append(keys.key_for(registration_id)))
            writer.start()
            wait_until_a_statement_waits_for_a_lock(database_url)
            rival.commit()
        writer.join(timeout=30)

        assert [(found.key_id, found.key) for found in results] == [("rival-key", won)]
    finally:
        keys.close()


def wait_until_a_statement_waits_for_a_lock(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as watcher:
        for _ in range(3000):
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0]:
                return
            watcher.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("the writer's statement never waited for the rival's row")


def test_a_command_long_after_the_key_was_read_encrypts_without_reading_it_again(
    service: RegistrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = "vssid-20261125-000010"
    registration_id = submit(service, request_id)
    keys = writers_keys(service)
    counted = CountedKeys(keys, monkeypatch)
    later = time.monotonic() + 3600  # an hour on: long past what readers trust
    monkeypatch.setattr("activities.keys.time.monotonic", lambda: later)

    view = service.execute(
        registration_id,
        Registration.withdraw,
        "đổi ý",
        Cause(ActorKind.GUARDIAN, "g-1", f"registration-{request_id}", "withdraw", T0),
    )

    assert view.state is State.WITHDRAWN
    assert counted.statements == []
    assert keys.cached(registration_id) is None  # a reader would have read it again


def test_a_writer_holding_a_key_erased_elsewhere_stores_nothing_after_the_erasure(
    service: RegistrationService, database_url: str, cipher_key: str, tmp_path: Path
) -> None:
    request_id = "vssid-20261125-000011"
    registration_id = submit(service, request_id)
    service.execute(
        registration_id,
        Registration.withdraw,
        "đổi ý",
        Cause(ActorKind.GUARDIAN, "g-1", f"registration-{request_id}", "withdraw", T0),
    )
    assert writers_keys(service).key_for(registration_id).key is not None  # held by the writer
    # Another process erases it: a service and a key table of its own.
    elsewhere = registration_service(database_url, cipher_key)
    erasing_keys = DataKeys(database_url, cipher_key)
    Eraser(elsewhere, erasing_keys, database_url, Places.under(tmp_path)).erase(
        request_id, "yêu cầu của người giám hộ", "operator-1"
    )
    elsewhere.close()
    erasing_keys.close()
    assert writers_keys(service).key_for(registration_id).key is not None  # still held
    stored = topics(database_url, registration_id)
    viewed = Cause(ActorKind.GUARDIAN, "g-1", f"registration-{request_id}", "view-1", T0)

    with pytest.raises(DataErased):
        service.execute(
            registration_id, Registration.record_declaration_view, "page", "digest-1", viewed
        )
    with pytest.raises(DataErased):  # and again, now that its own copy is gone
        service.execute(
            registration_id, Registration.record_declaration_view, "page", "digest-1", viewed
        )

    assert topics(database_url, registration_id) == stored
    assert stored[-1].endswith(".Erased")


def topics(database_url: str, registration_id: UUID) -> list[str]:
    return [str(topic) for topic in stored_column(database_url, registration_id, "topic")]
