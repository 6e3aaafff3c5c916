"""Read-only access to the stored events, row by row, as the database holds them.

Auditors read the rows themselves (not through the application's recorder) so that what they
check is exactly what is stored: the notification id, the stream and version columns, the topic
and the (possibly encrypted) state bytes. Decoding goes through the application's own mapper, so
decryption and upcasting are the service's; a row that fails to decode is reported, never raised
past the caller.

Every connection opened here is read-only at the session level
(``default_transaction_read_only=on``) and each transaction is ``READ ONLY`` and
``REPEATABLE READ``: the whole audit sees one consistent snapshot and cannot write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import IsolationLevel
from psycopg.conninfo import make_conninfo

from domain.errors import DataErased
from domain.registration import Registration
from domain.service import RegistrationService

EVENTS_TABLE = f"{RegistrationService.name}_events"
TOPIC_PREFIX = f"{Registration.__module__}:{Registration.__qualname__}."
"""Every stored event is one of the ``Registration`` event classes: any other topic is foreign
and is never resolved (resolving a topic imports a module)."""


@dataclass(frozen=True, slots=True)
class StoredRow:
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    @property
    def event_name(self) -> str:
        return self.topic.removeprefix(TOPIC_PREFIX)

    def state_sha256(self) -> str:
        return hashlib.sha256(self.state).hexdigest()


class UndecodableEvent(Exception):
    """A stored row that is not a readable event: foreign topic, failed decryption or decoding."""

    def __init__(self, row: StoredRow, what: str) -> None:
        super().__init__(f"{row.originator_id} version {row.originator_version}: {what}")
        self.row = row
        self.what = what


class ErasedData(UndecodableEvent):
    """A stored event of an erased registration: its bytes are intact, its data key deleted."""


def read_only_connection(url: str) -> psycopg.Connection[Any]:
    """A connection that cannot write: read-only sessions, read-only repeatable-read transactions."""
    conninfo = make_conninfo(url, options="-c default_transaction_read_only=on")
    # Autocommit: statements outside ``transaction()`` blocks are single read-only statements; a
    # block is one ``BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`` transaction.
    connection = psycopg.connect(conninfo, autocommit=True)
    connection.read_only = True
    connection.isolation_level = IsolationLevel.REPEATABLE_READ
    return connection


class EventDecoder:
    """Turns stored rows into ``Registration`` events with the service's mapper.

    The mapper comes from an in-memory instance of the service configured with the same cipher:
    it holds the transcodings and the key, and it opens no connection.
    """

    def __init__(self, cipher: Mapping[str, str] | str | None) -> None:
        """``cipher``: the event store's cipher settings (``CIPHER_TOPIC``, ``CIPHER_KEY``, …:
        :func:`activities.keys.event_store_cipher`), or the service key alone (events stored
        under it only)."""
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if isinstance(cipher, str):
            env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
            env["CIPHER_KEY"] = cipher
        elif cipher:
            env.update(cipher)
        self._app = RegistrationService(env=env)

    def decode(self, row: StoredRow) -> Registration.Event:
        if not row.topic.startswith(TOPIC_PREFIX) or not hasattr(Registration, row.event_name):
            raise UndecodableEvent(row, f"unknown event type {row.topic!r}")
        stored = StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
        try:
            event = self._app.mapper.to_domain_event(stored)
        except DataErased:
            raise ErasedData(row, "erased: its data key was deleted") from None
        except Exception as error:  # any failure to read the bytes is a finding, not a crash
            raise UndecodableEvent(
                row,
                "the payload cannot be decrypted or decoded "
                f"({type(error.__cause__ or error).__name__}): changed bytes or a forged event",
            ) from None
        if not isinstance(event, Registration.Event):
            raise UndecodableEvent(row, f"not a registration event: {type(event).__name__}")
        return event

    def close(self) -> None:
        self._app.close()


_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


def _row(values: tuple[Any, ...]) -> StoredRow:
    notification_id, originator_id, version, topic, state = values
    return StoredRow(int(notification_id), originator_id, int(version), topic, bytes(state))


def stream(connection: psycopg.Connection[Any], registration_id: UUID) -> list[StoredRow]:
    """One registration's rows, by version."""
    cursor = connection.execute(
        f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE originator_id = %s "  # noqa: S608
        "ORDER BY originator_version",
        (registration_id,),
    )
    return [_row(values) for values in cursor.fetchall()]


def rows_in_log_order(
    connection: psycopg.Connection[Any], after: int = 0, upto: int | None = None
) -> Iterator[StoredRow]:
    """Every row after notification id ``after`` (up to ``upto``), in notification-id order,
    through a server-side cursor (constant memory)."""
    with connection.cursor(name="audit_log_order") as cursor:
        cursor.itersize = 1000
        if upto is None:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE notification_id > %s "  # noqa: S608
                "ORDER BY notification_id",
                (after,),
            )
        else:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} "  # noqa: S608
                "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id",
                (after, upto),
            )
        for values in cursor:
            yield _row(values)


def rows_by_stream(connection: psycopg.Connection[Any]) -> Iterator[tuple[UUID, list[StoredRow]]]:
    """Every registration's rows, one registration at a time (by id, then version)."""
    current: UUID | None = None
    rows: list[StoredRow] = []
    with connection.cursor(name="audit_by_stream") as cursor:
        cursor.itersize = 1000
        cursor.execute(
            f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} "  # noqa: S608
            "ORDER BY originator_id, originator_version"
        )
        for values in cursor:
            row = _row(values)
            if row.originator_id != current:
                if current is not None:
                    yield current, rows
                current, rows = row.originator_id, []
            rows.append(row)
    if current is not None:
        yield current, rows


def stream_ids(connection: psycopg.Connection[Any]) -> set[UUID]:
    cursor = connection.execute(f"SELECT DISTINCT originator_id FROM {EVENTS_TABLE}")  # noqa: S608
    return {values[0] for values in cursor.fetchall()}


def events_table_exists(connection: psycopg.Connection[Any]) -> bool:
    cursor = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (EVENTS_TABLE,))
    found = cursor.fetchone()
    return bool(found and found[0])
