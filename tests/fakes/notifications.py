"""Fakes of the notification ports, and of the ``notify_guardian`` activity for the workflow tests:
they record what happened, and tests assert on that state."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from uuid import UUID

from temporalio import activity

from activities.notifications.errors import DeliveryError
from activities.notifications.gateways import SmsMessage
from activities.notifications.journal import FINAL_STATUSES, DeliveryStatus, NotificationRecord
from activities.notifications.kinds import Channel
from activities.notifications.models import NotifyGuardianInput

Key = tuple[UUID, str, Channel]
"""(registration, delivery name, channel): one delivery, as the journal port names it."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    step: str
    """prepared, sent, failed or skipped."""
    key: Key
    at: datetime
    record: NotificationRecord | None = None
    message_id: str | None = None
    error: str | None = None
    permanent: bool | None = None
    why: str | None = None


class WorkerDied(Exception):
    """Stands for a worker that dies at a chosen point (no DeliveryError: nothing is recorded)."""


class InMemoryNotificationJournal:
    """The journal in memory, idempotent as the port requires.

    ``die_before_recording_sent``: the next ``sent`` raises :class:`WorkerDied` instead of
    recording, as if the worker died right after the server accepted the message.
    """

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []
        self._status: dict[Key, DeliveryStatus] = {}
        self.die_before_recording_sent = False

    def delivery_status(
        self, registration_id: UUID, delivery: str, channel: Channel
    ) -> DeliveryStatus | None:
        return self._status.get((registration_id, str(delivery), channel))

    def prepared(self, record: NotificationRecord) -> None:
        key = (record.registration_id, record.delivery, record.channel)
        earlier = self.records(key)
        if earlier and dataclasses.replace(earlier[-1], at=record.at) == record:
            return
        self.entries.append(JournalEntry("prepared", key, record.at, record=record))
        self._status[key] = DeliveryStatus.PREPARED

    def sent(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        message_id: str,
        at: datetime,
    ) -> None:
        if self.die_before_recording_sent:
            self.die_before_recording_sent = False
            raise WorkerDied
        self._final(
            (registration_id, str(delivery), channel),
            DeliveryStatus.SENT,
            at,
            message_id=message_id,
        )

    def failed(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        error: str,
        permanent: bool,
        at: datetime,
    ) -> None:
        key = (registration_id, str(delivery), channel)
        if permanent:
            self._final(key, DeliveryStatus.FAILED, at, error=error, permanent=True)
        else:
            self.entries.append(JournalEntry("failed", key, at, error=error, permanent=False))

    def skipped(
        self,
        registration_id: UUID,
        delivery: str,
        channel: Channel,
        why: str,
        at: datetime,
    ) -> None:
        self._final((registration_id, str(delivery), channel), DeliveryStatus.SKIPPED, at, why=why)

    def _final(
        self,
        key: Key,
        status: DeliveryStatus,
        at: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
        permanent: bool | None = None,
        why: str | None = None,
    ) -> None:
        if self._status.get(key) in FINAL_STATUSES:
            return
        self._status[key] = status
        self.entries.append(
            JournalEntry(
                str(status),
                key,
                at,
                message_id=message_id,
                error=error,
                permanent=permanent,
                why=why,
            )
        )

    # --- what tests read ---------------------------------------------------------------------

    def steps(self, key: Key) -> list[str]:
        return [entry.step for entry in self.entries if entry.key == key]

    def records(self, key: Key) -> list[NotificationRecord]:
        return [entry.record for entry in self.entries if entry.key == key and entry.record]

    def last(self, key: Key) -> JournalEntry:
        return [entry for entry in self.entries if entry.key == key][-1]


class RecordingMailer:
    """Accepts every message into ``sent``, or raises the failures queued in ``failures``."""

    def __init__(self, sender: str = "VssID - BHXH Việt Nam <no-reply@vssid.example.vn>") -> None:
        self._sender = sender
        self.sent: list[EmailMessage] = []
        self.failures: list[DeliveryError] = []
        self.closed = False

    @property
    def sender(self) -> str:
        return self._sender

    async def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    async def close(self) -> None:
        self.closed = True


class RecordingSmsGateway:
    """Accepts every message into ``sent``, or raises the failures queued in ``failures``."""

    def __init__(self) -> None:
        self.sent: list[SmsMessage] = []
        self.failures: list[DeliveryError] = []

    async def send(self, message: SmsMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


@dataclass
class FakeNotifier:
    """Stands in for ``notify_guardian`` under its real name; checks each input against the
    notifications' own model, and records what would be sent."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    @activity.defn(name="notify_guardian")
    async def notify_guardian(self, message: NotifyGuardianInput) -> None:
        self.sent.append((str(message.registration_id), message.kind.value))
