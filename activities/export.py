"""What is held about one registration, decrypted, for the guardian's access request.

The events (each with its type, time and actor), the request as declared, the notifications
prepared (channel, masked recipient, subject and text as sent, the body's digest and message id,
as the event store keeps them), and the kept documents' bytes. When the registration's data key was erased, only what is
stored readable without it is given: the event types and versions, and when the data was erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from uuid import UUID

from activities.documents import DocumentStore
from activities.keys import DataErased, DataKeys
from domain.errors import RegistrationNotFound
from domain.registration import Registration, registration_id_for
from domain.service import RegistrationService


@dataclass
class PrivacyExport:
    document: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    """Relative file name (``round-N/name.ext``) → the document's decrypted bytes."""


_ENVELOPE = {"originator_id", "originator_version", "timestamp"}
_BEFORE_TEXTS = (
    "prepared before the service kept each message's text: only its digest (body_sha256) is held"
)


class RegistrationExporter:
    def __init__(
        self, service: RegistrationService, documents: DocumentStore, data_keys: DataKeys | None
    ) -> None:
        self._service = service
        self._documents = documents
        self._keys = data_keys

    def collect(self, request_id: str) -> PrivacyExport | None:
        """Everything held about the registration of ``request_id``; ``None`` when unknown."""
        registration_id = registration_id_for(request_id)
        stored = list(self._service.repository.event_store.recorder.select_events(registration_id))
        if not stored:
            return None
        data_key = None if self._keys is None else self._keys.find(registration_id)
        head: dict[str, Any] = {
            "request_id": request_id,
            "registration_id": str(registration_id),
        }
        try:
            if data_key is not None and data_key.erased:
                raise DataErased(registration_id)
            events = self._service.history(registration_id)
        except DataErased:
            erased_at = data_key.erased_at if data_key is not None else None
            return PrivacyExport(
                head
                | {
                    "erased": True,
                    "erased_at": erased_at.astimezone(UTC).isoformat() if erased_at else None,
                    "note": "the registration's data was erased: its events, documents and"
                    " messages can no longer be decrypted by anyone",
                    "events": [
                        {"version": row.originator_version, "event": row.topic.rsplit(".", 1)[-1]}
                        for row in stored
                    ],
                    "notifications": [],
                    "documents": [],
                }
            )
        except RegistrationNotFound:
            return None
        return self._readable(head, registration_id, events)

    def _readable(
        self, head: dict[str, Any], registration_id: UUID, events: list[Registration.Event]
    ) -> PrivacyExport:
        request: dict[str, Any] = {}
        notifications: list[dict[str, Any]] = []
        documents: list[dict[str, Any]] = []
        files: dict[str, bytes] = {}
        listed = []
        for event in events:
            name = type(event).__name__
            data = {k: v for k, v in event.__dict__.items() if k not in _ENVELOPE}
            listed.append(
                {
                    "version": event.originator_version,
                    "event": name,
                    "at": event.timestamp.astimezone(UTC).isoformat(),
                    "actor": {"kind": str(event.actor_kind), "id": event.actor_id},
                    "data": data,
                }
            )
            if isinstance(event, Registration.Submitted):
                request = event.request
            elif isinstance(event, Registration.NotificationPrepared):
                notifications.append(
                    {
                        "at": event.timestamp.astimezone(UTC).isoformat(),
                        "kind": event.kind,
                        "channel": event.channel,
                        "recipient": event.recipient_masked,
                        "template": f"{event.template_id} v{event.template_version}",
                        "subject": event.subject,
                        "body": event.body,
                        **({} if event.body is not None else {"note": _BEFORE_TEXTS}),
                        "body_sha256": event.body_sha256,
                        "attachment_sha256": event.attachment_sha256,
                        "message_id": event.message_id,
                    }
                )
            elif isinstance(event, Registration.DocumentsStored):
                for document, summary in event.documents.items():
                    documents.append(self._document(registration_id, document, summary, files))
        return PrivacyExport(
            head
            | {
                "erased": False,
                "request": request,
                "events": listed,
                "notifications": notifications,
                "documents": documents,
            },
            files,
        )

    def _document(
        self, registration_id: UUID, name: str, summary: dict[str, Any], files: dict[str, bytes]
    ) -> dict[str, Any]:
        relative = str(summary.get("file", ""))
        entry = {"name": name, "sha256": summary.get("sha256"), "file": None}
        path = self._documents.root / "registrations" / str(registration_id) / relative
        if not relative or not path.is_file():
            entry["missing"] = "the kept file is not under the data directory"
            return entry
        exported = relative.removesuffix(".aes")
        files[exported] = self._documents.read_kept(path, registration_id, name)
        entry["file"] = f"documents/{exported}"
        return entry
