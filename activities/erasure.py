"""Erasing a registration's personal data (``childreg privacy erase``, issue 14).

An erasure, in order:

1. the registration must be final (nothing more will be written under its key);
2. the ``Erased`` event is recorded (reason, operator, time, and the non-personal facts the read
   models keep: request id, office, final state and outcome, times). It is stored under the
   service key (:attr:`activities.keys.RegistrationCipher.KEPT_TOPICS`), so it stays readable;
3. the registration's data key is deleted: its events, kept documents, notification bodies and
   Temporal payloads can no longer be decrypted by anyone; their stored bytes stay, so the
   audit's hash chain and seals still verify;
4. the files that hold its data in the clear or under the service key are removed: the intake
   copies of its documents, its kept documents, and its messages in the development mail sink
   and SMS outbox under the data directory; its child claim is released.

The read models drop or blank what they derived when they apply the ``Erased`` event (see
:mod:`projections`); the caller runs them up to it. Erasing again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from activities.keys import DataKeys
from domain.errors import DataErased
from domain.lifecycle import State, is_final
from domain.registration import ActorKind, Cause, Registration, registration_id_for
from domain.service import RegistrationService

_REFERENCE = re.compile(r"^sha256:([0-9a-f]{64})$")

EVENTS_TABLE = f"{RegistrationService.name}_events"


class UnknownRegistration(LookupError):
    """No registration was ever stored under the request id."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no registration with request id {request_id!r}")
        self.request_id = request_id


class StillOpen(RuntimeError):
    """The registration is not final: it cannot be erased (withdraw it first)."""

    def __init__(self, request_id: str, state: State) -> None:
        super().__init__(
            f"registration {request_id} is still {state.value}: it can be erased once final "
            "(--withdraw withdraws it first)"
        )
        self.state = state


@dataclass(frozen=True)
class ErasureReport:
    request_id: str
    registration_id: UUID
    already_erased: bool
    erased_at: datetime | None
    events_unreadable: int
    """Stored events that can no longer be decrypted (every event but the ``Erased`` one)."""
    files_removed: int
    """Document files: the intake copies and the kept documents."""
    mail_removed: int
    sms_removed: int
    claims_released: int


@dataclass(frozen=True)
class Places:
    """Where a registration's files are under the data directory."""

    documents: Path
    """The document store's root (``<data dir>/documents``)."""
    mail: Path
    """The development mail sink (``<data dir>/mail``)."""
    sms: Path
    """The SMS outbox (``<data dir>/sms``)."""

    @classmethod
    def under(cls, data_dir: Path) -> Places:
        return cls(data_dir / "documents", data_dir / "mail", data_dir / "sms")


class Eraser:
    def __init__(
        self,
        service: RegistrationService,
        keys: DataKeys,
        database_url: str,
        places: Places,
        events_table: str = EVENTS_TABLE,
    ) -> None:
        self.service = service
        self.keys = keys
        self.database_url = database_url
        self.places = places
        self.events_table = events_table

    # --- reading ----------------------------------------------------------------------------------

    def _stream(self, registration_id: UUID) -> list[tuple[int, str]]:
        with psycopg.connect(self.database_url) as connection:
            rows = connection.execute(
                f"SELECT originator_version, topic FROM {self.events_table}"  # noqa: S608
                " WHERE originator_id = %s ORDER BY originator_version",
                (registration_id,),
            ).fetchall()
        return [(int(version), str(topic)) for version, topic in rows]

    def state(self, request_id: str) -> State | None:
        """The registration's state, ``None`` once erased; :class:`UnknownRegistration`."""
        registration_id = registration_id_for(request_id)
        if not self._stream(registration_id):
            raise UnknownRegistration(request_id)
        try:
            return self.service.get(registration_id).state
        except DataErased:
            return None

    # --- erasing ----------------------------------------------------------------------------------

    def erase(self, request_id: str, reason: str, operator: str) -> ErasureReport:
        registration_id = registration_id_for(request_id)
        stream = self._stream(registration_id)
        if not stream:
            raise UnknownRegistration(request_id)
        key = self.keys.find(registration_id)
        already = key is not None and key.erased and _has_erasure(stream)
        references: set[str] = set()
        if not already:
            try:
                events = self.service.history(registration_id)
            except DataErased:
                events = []  # the key went before the event was recorded: record it now
            for event in events:
                references.update(_references(vars(event)))
            if events and not _has_erasure(stream):
                view = self.service.get(registration_id)
                if not is_final(view.state):
                    raise StillOpen(request_id, view.state)
                self.service.execute(
                    registration_id,
                    Registration.erase,
                    reason,
                    Cause(
                        actor_kind=ActorKind.OPERATOR,
                        actor_id=operator,
                        correlation_id=f"registration-{request_id}",
                        command_id=f"erase-{registration_id}",
                        at=datetime.now(UTC),
                    ),
                )
            self.keys.erase(registration_id)
            stream = self._stream(registration_id)
        files = self._remove_documents(registration_id, references)
        mail = _remove(self.places.mail.glob(f"*{registration_id}*.eml"))
        sms = _remove(self.places.sms.glob(f"*{registration_id}*.json"))
        claims = self._release_claim(registration_id)
        erased = self.keys.find(registration_id)
        return ErasureReport(
            request_id=request_id,
            registration_id=registration_id,
            already_erased=already,
            erased_at=erased.erased_at if erased is not None else None,
            events_unreadable=sum(1 for _, topic in stream if not topic.endswith(".Erased")),
            files_removed=files,
            mail_removed=mail,
            sms_removed=sms,
            claims_released=claims,
        )

    def _remove_documents(self, registration_id: UUID, references: set[str]) -> int:
        root = self.places.documents
        kept = root / "registrations" / str(registration_id)
        removed = _remove(path for path in kept.rglob("*") if path.is_file())
        for folder in sorted((p for p in kept.rglob("*") if p.is_dir()), reverse=True):
            folder.rmdir()
        if kept.is_dir():
            kept.rmdir()
        removed += _remove(root / "intake" / digest for digest in sorted(references))
        return removed

    def _release_claim(self, registration_id: UUID) -> int:
        with psycopg.connect(self.database_url) as connection:
            if connection.execute("SELECT to_regclass('registry_child_claims')").fetchone() == (
                None,
            ):
                return 0
            cursor = connection.execute(
                "DELETE FROM registry_child_claims WHERE registration_id = %s", (registration_id,)
            )
            return cursor.rowcount


def _has_erasure(stream: list[tuple[int, str]]) -> bool:
    return any(topic.endswith(".Erased") for _, topic in stream)


def _references(value: Any) -> Iterator[str]:
    """The intake digests (``sha256:<hex>``) anywhere in an event's fields."""
    if isinstance(value, str):
        found = _REFERENCE.match(value)
        if found:
            yield found.group(1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _references(item)


def _remove(paths: Iterator[Path] | Any) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed
