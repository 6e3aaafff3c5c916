"""A data key per registration (envelope encryption), wrapped by the service key.

Each registration's events (and, through :class:`DataKeys`, anything else stored for it) are
encrypted under a random AES-256 key of its own. The keys live in the ``data_keys`` table,
each one wrapped (AES-GCM) under a key derived from ``CHILDREG_CIPHER_KEY``, bound to its
registration id. Erasing a registration deletes its wrapped key (the row stays, with
``erased_at``, so "erased" is told apart from "never had a key"): what was encrypted under it
can no longer be read by anyone, while the stored bytes, and so the audit's hash chain, stay as
they were.

The event store picks the key by the event's aggregate id: :class:`RegistrationCipher` is the
eventsourcing cipher (``CIPHER_TOPIC``) and :class:`KeyedMapper` the mapper (``MAPPER_TOPIC``)
that hands it the originator id. Both are built by eventsourcing from the same environment
(:func:`workers.bootstrap.event_store_env`), so the service, the projection runners, the
rebuild and the audit's decoder all read through the same key table.

Events stored before this change (under the service key itself, by eventsourcing's
``AESCipher``, the same layout) stay readable: decryption tries the registration's data key,
then the service key.

A writer (:meth:`DataKeys.key_for`) uses the key it holds in memory, however long ago it read or
made it: it never asks the table again. What keeps a writer that still holds an erased key from
storing anything after the erasure is the order of the erasure
(:class:`activities.erasure.Eraser`): the ``Erased`` event is committed in the registration's
stream first, and only then is the key deleted. Every event takes the next version of its stream
and a version is stored once, so a writer's later save either conflicts with the ``Erased`` event
(and its retry loads the stream, which ends in it: :class:`DataErased`) or comes from a load that
already read the ``Erased`` event (:class:`DataErased` again). Readers (:meth:`DataKeys.find`,
:meth:`DataKeys.by_key_id`) have no such event to stop them, so they read the table again once
what they hold is ``cache_seconds`` old.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import (
    Cipher,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)
from eventsourcing.utils import Environment, get_topic
from psycopg_pool import ConnectionPool

from activities.aes_gcm import CIPHERS, seal, unseal
from activities.schema import apply_schema, create_schema
from domain.errors import DataErased

__all__ = ["DataErased", "DataKey", "DataKeys", "ErasedEvent", "KeyedMapper", "RegistrationCipher"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    registration_id uuid PRIMARY KEY,
    key_id          text NOT NULL UNIQUE,
    wrapped         bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    erased_at       timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);
"""

_SCHEMA_LOCK = 0x6B_65_79_73  # "keys": serialises concurrent schema creation

NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 32

ERASED_EVENTS = "ERASED_EVENTS"
"""The eventsourcing environment's entry saying what reading an erased registration's event
gives: ``raise`` (the default: :class:`DataErased`) or ``placeholder`` (an
:class:`ErasedEvent` in its place: the read models' runners and rebuilds skip it)."""

CACHE_SECONDS = 2.0
"""How long a reader trusts a data key it holds before reading it again (an erasure by another
process is seen within this time). Writers do not re-read: see the module's docstring."""

KEYS_URL = "DATA_KEYS_URL"
"""The eventsourcing environment's entry naming the database of the key table."""


def wrapping_key(cipher_key: str) -> bytes:
    """The key that wraps the data keys: derived from the service key, used for nothing else."""
    return hashlib.sha256(b"childreg data keys\x00" + base64.b64decode(cipher_key)).digest()


@dataclass(frozen=True)
class ErasedEvent:
    """What stands for a stored event of an erased registration when it is read for a read model:
    its position in the stream and its type, nothing of its content (which cannot be read)."""

    originator_id: UUID
    originator_version: int
    topic: str


@dataclass(frozen=True)
class DataKey:
    registration_id: UUID
    key_id: str
    key: bytes | None
    """``None`` once erased."""
    erased_at: datetime | None

    @property
    def erased(self) -> bool:
        return self.key is None


class DataKeys:
    """The key table: a registration's data key, made on first use, and its erasure.

    Keys are held in memory once read or made. Readers trust what is held for ``cache_seconds``
    (so an erasure made by another process, ``childreg privacy erase``, is seen by a running
    worker, web tier or codec server within that time; an erased key is held for good); the
    writer's :meth:`key_for` uses it for as long as it is held. :meth:`forget` drops one (the
    erasure does, and so does the mapper when it reads an erasure's event).
    """

    def __init__(
        self,
        database_url: str | Callable[[], str],
        cipher_key: str,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        """``database_url`` may be a function giving it, called on the first look-up (the codec
        server of the embedded stack finds the stack's database only when it needs a key)."""
        self._url = database_url
        self._wrapping = wrapping_key(cipher_key)
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        self._cache: dict[UUID, DataKey] = {}
        self._read_at: dict[UUID, float] = {}
        self._by_key_id: dict[str, UUID] = {}
        self._cache_seconds = cache_seconds

    def _cached(self, registration_id: UUID) -> DataKey | None:
        found = self._cache.get(registration_id)
        if found is None or found.erased:
            return found
        if time.monotonic() - self._read_at.get(registration_id, 0.0) > self._cache_seconds:
            return None
        return found

    def _remember(self, found: DataKey) -> None:
        self._cache[found.registration_id] = found
        self._read_at[found.registration_id] = time.monotonic()
        self._by_key_id[found.key_id] = found.registration_id

    def cached(self, registration_id: UUID) -> DataKey | None:
        """The registration's key as :meth:`find` gives it, if this process read it recently
        enough (else ``None``: ask :meth:`find`). Never touches the database, so an async caller
        needs no thread for it."""
        return self._cached(registration_id)

    def cached_by_key_id(self, key_id: str) -> DataKey | None:
        """:meth:`by_key_id` from memory only (``None``: ask :meth:`by_key_id`)."""
        registration_id = self._by_key_id.get(key_id)
        if registration_id is None:
            return None
        found = self._cached(registration_id)
        return found if found is not None and found.key_id == key_id else None

    # -- the table ---------------------------------------------------------------------------

    @staticmethod
    def create_schema(pool: ConnectionPool) -> None:
        create_schema(pool, SCHEMA, _SCHEMA_LOCK)

    def create_table(self) -> None:
        """The key table, created if missing (as the event store creates its own)."""
        if callable(self._url):
            self._url = self._url()
        with psycopg.connect(self._url) as connection:
            apply_schema(connection, SCHEMA, _SCHEMA_LOCK)

    def _execute(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            for attempt in (1, 2):
                if self._connection is None or self._connection.closed:
                    if callable(self._url):
                        self._url = self._url()
                    self._connection = psycopg.connect(self._url, autocommit=True)
                try:
                    cursor = self._connection.execute(sql, params)
                    return cursor.fetchall() if cursor.description else []
                except psycopg.OperationalError:
                    self._connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- keys --------------------------------------------------------------------------------

    def _unwrap(self, registration_id: UUID, row: tuple[Any, ...]) -> DataKey:
        key_id, wrapped, erased_at = row
        key = (
            None
            if wrapped is None
            else unseal(self._wrapping, bytes(wrapped), registration_id.bytes)
        )
        return DataKey(registration_id, key_id, key, erased_at)

    def find(self, registration_id: UUID) -> DataKey | None:
        """The registration's key (erased or not), or ``None`` when it has never had one."""
        cached = self._cached(registration_id)
        if cached is not None:
            return cached
        rows = self._execute(
            "SELECT key_id, wrapped, erased_at FROM data_keys WHERE registration_id = %s",
            (registration_id,),
        )
        if not rows:
            return None
        found = self._unwrap(registration_id, rows[0])
        self._remember(found)
        return found

    def key_for(self, registration_id: UUID) -> DataKey:
        """The registration's key for writing: the one held in memory whatever its age (an
        erasure elsewhere stops the writer through the ``Erased`` event, see the module's
        docstring), else made and stored wrapped in one statement, or read back when it exists;
        concurrent first uses by several processes agree on one key."""
        held = self._cache.get(registration_id)
        if held is not None:
            return held
        key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
        # One statement: the new row, or the one already committed (the CTE's INSERT is not
        # visible to the SELECT of the same statement, so exactly one of the two gives a row).
        rows = self._execute(
            "WITH made AS ("
            " INSERT INTO data_keys (registration_id, key_id, wrapped) VALUES (%s, %s, %s)"
            " ON CONFLICT (registration_id) DO NOTHING"
            " RETURNING key_id, wrapped, erased_at)"
            " SELECT key_id, wrapped, erased_at FROM made"
            " UNION ALL"
            " SELECT key_id, wrapped, erased_at FROM data_keys WHERE registration_id = %s",
            (
                registration_id,
                os.urandom(8).hex(),
                seal(self._wrapping, key, registration_id.bytes),
                registration_id,
            ),
        )
        if not rows:
            # Another writer's key committed while this statement ran: its INSERT waited for it
            # and did nothing, and the statement's snapshot is older than it. Read the winner.
            rows = self._execute(
                "SELECT key_id, wrapped, erased_at FROM data_keys WHERE registration_id = %s",
                (registration_id,),
            )
        if not rows:
            raise RuntimeError(f"data key of {registration_id}: neither made nor found")
        found = self._unwrap(registration_id, rows[0])
        self._remember(found)
        return found

    def by_key_id(self, key_id: str) -> DataKey | None:
        """The key with this id (the Temporal codec's payload metadata names it)."""
        cached = self.cached_by_key_id(key_id)
        if cached is not None:
            return cached
        rows = self._execute(
            "SELECT registration_id, key_id, wrapped, erased_at FROM data_keys WHERE key_id = %s",
            (key_id,),
        )
        if not rows:
            return None
        registration_id, *rest = rows[0]
        found = self._unwrap(registration_id, tuple(rest))
        self._remember(found)
        return found

    def erase(self, registration_id: UUID) -> bool:
        """Delete the registration's data key; ``True`` when this call erased it (``False``:
        already erased, or it never had one, in which case an erased row is recorded)."""
        rows = self._execute(
            "INSERT INTO data_keys AS k (registration_id, key_id, wrapped, erased_at)"
            " VALUES (%s, %s, NULL, now())"
            " ON CONFLICT (registration_id) DO UPDATE SET wrapped = NULL, erased_at = now()"
            " WHERE k.wrapped IS NOT NULL RETURNING (xmax <> 0)",
            (registration_id, os.urandom(8).hex()),
        )
        self.forget(registration_id)
        return bool(rows and rows[0][0])

    def forget(self, registration_id: UUID) -> None:
        dropped = self._cache.pop(registration_id, None)
        self._read_at.pop(registration_id, None)
        if dropped is not None:
            self._by_key_id.pop(dropped.key_id, None)
        if dropped is not None and dropped.key is not None:
            CIPHERS.discard(dropped.key)


# --- the event store's cipher and mapper ------------------------------------------------------


def _encrypt(key: bytes, plaintext: bytes, associated: bytes | None) -> bytes:
    """eventsourcing's AES-GCM layout: nonce ‖ tag ‖ ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = CIPHERS.get(key).encrypt(nonce, plaintext, associated)
    return nonce + sealed[-TAG_BYTES:] + sealed[:-TAG_BYTES]


def _decrypt(key: bytes, ciphertext: bytes, associated: bytes | None) -> bytes:
    nonce = ciphertext[:NONCE_BYTES]
    tag = ciphertext[NONCE_BYTES : NONCE_BYTES + TAG_BYTES]
    body = ciphertext[NONCE_BYTES + TAG_BYTES :]
    if len(nonce) != NONCE_BYTES or len(tag) != TAG_BYTES:
        raise ValueError("damaged cipher text: too short")
    return CIPHERS.get(key).decrypt(nonce, body + tag, associated)


class RegistrationCipher(Cipher):
    """Encrypts a registration's events under its data key, and reads older events under the
    service key. Without an originator id (``encrypt``/``decrypt``), the service key alone."""

    KEPT_TOPICS: frozenset[str] = frozenset({"Erased"})
    """Event class names stored under the service key, readable after an erasure (they hold no
    personal data)."""

    def __init__(self, environment: Environment) -> None:
        cipher_key = environment.get("CIPHER_KEY")
        url = environment.get(KEYS_URL)
        if not cipher_key or not url:
            raise OSError(f"'CIPHER_KEY' and '{KEYS_URL}' are needed by the registration cipher")
        self.service_key = base64.b64decode(cipher_key)
        if len(self.service_key) not in (16, 24, 32):
            raise ValueError("CIPHER_KEY: an AES key must be 16, 24 or 32 bytes (base64)")
        self.keys = DataKeys(url, cipher_key)
        self.erased_placeholder = environment.get(ERASED_EVENTS, "raise") == "placeholder"
        if environment.get("CREATE_TABLE", "no").lower() in ("yes", "y", "true", "1", "on"):
            self.keys.create_table()

    def encrypt(self, plaintext: bytes) -> bytes:
        return _encrypt(self.service_key, plaintext, None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return _decrypt(self.service_key, ciphertext, None)
        except InvalidTag:
            raise ValueError("cannot decrypt: changed bytes or another key") from None

    def encrypt_for(self, registration_id: UUID, event_name: str, plaintext: bytes) -> bytes:
        if event_name in self.KEPT_TOPICS:
            return self.encrypt(plaintext)
        data_key = self.keys.key_for(registration_id)
        if data_key.key is None:
            raise DataErased(registration_id)
        return _encrypt(data_key.key, plaintext, registration_id.bytes)

    def decrypt_for(self, registration_id: UUID, event_name: str, ciphertext: bytes) -> bytes:
        if event_name in self.KEPT_TOPICS:
            self.keys.forget(registration_id)  # an erasure, perhaps by another process
            return self.decrypt(ciphertext)
        data_key = self.keys.find(registration_id)
        if data_key is not None and data_key.key is None:
            raise DataErased(registration_id)
        if data_key is not None and data_key.key is not None:
            try:
                return _decrypt(data_key.key, ciphertext, registration_id.bytes)
            except InvalidTag:
                pass  # stored before the registration had a key: the service key's
        return self.decrypt(ciphertext)


def _event_name(topic: str) -> str:
    return topic.rsplit(".", 1)[-1]


class KeyedMapper(Mapper[UUID]):
    """eventsourcing's mapper, handing the originator id to a :class:`RegistrationCipher`.

    The transcoding, compression and upcasting are eventsourcing's own (an inner mapper without
    a cipher); only the encryption is this class's.
    """

    def __init__(self, transcoder: Any, compressor: Any = None, cipher: Cipher | None = None):
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)
        self._plain: Mapper[UUID] = Mapper(transcoder=transcoder, compressor=compressor)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(self.cipher, RegistrationCipher):
            return super().to_stored_event(domain_event)
        plain = self._plain.to_stored_event(domain_event)
        registration_id = _uuid(plain.originator_id)
        state = self.cipher.encrypt_for(registration_id, _event_name(plain.topic), plain.state)
        return StoredEvent(plain.originator_id, plain.originator_version, plain.topic, state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if not isinstance(self.cipher, RegistrationCipher):
            return super().to_domain_event(stored_event)
        try:
            state = self.cipher.decrypt_for(
                _uuid(stored_event.originator_id),
                _event_name(stored_event.topic),
                stored_event.state,
            )
        except DataErased:
            if self.cipher.erased_placeholder:
                return ErasedEvent(
                    _uuid(stored_event.originator_id),
                    stored_event.originator_version,
                    stored_event.topic,
                )
            raise
        except Exception as error:
            raise MapperDeserialisationError(
                f"Failed to decrypt stored event with topic '{stored_event.topic}', originator_id"
                f" '{stored_event.originator_id}' and version {stored_event.originator_version}"
            ) from error
        return self._plain.to_domain_event(
            StoredEvent(
                stored_event.originator_id,
                stored_event.originator_version,
                stored_event.topic,
                state,
            )
        )


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def event_store_cipher(database_url: str, cipher_key: str) -> dict[str, str]:
    """The eventsourcing settings that encrypt each registration's events under its data key."""
    return {
        "CIPHER_TOPIC": get_topic(RegistrationCipher),
        "MAPPER_TOPIC": get_topic(KeyedMapper),
        "CIPHER_KEY": cipher_key,
        KEYS_URL: database_url,
    }
