"""The review queue read model in memory: the real ``projections.queue.evolve`` applied to the
in-memory event store's history of each registration, answered in the SQL query's order."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from domain.service import RegistrationService
from projections.base import Row
from projections.queue import OfficeQueue, QueueEntry, _leaves_the_queue, evolve

_LAST = datetime.max.replace(tzinfo=UTC)


class InMemoryQueue:
    def __init__(self, service: RegistrationService) -> None:
        self._service = service
        self.registrations: list[UUID] = []
        """The registrations to project (the tests add the ones they submit)."""
        self.asked: list[tuple[str, bool]] = []

    def __call__(self, office_code: str, supervisor: bool) -> OfficeQueue:
        self.asked.append((office_code, supervisor))
        rows: list[Row] = []
        for registration_id in self.registrations:
            row: Row | None = None
            for event in self._service.history(registration_id):
                row = None if _leaves_the_queue(event) else evolve(row, event)
            if row is None or not row["awaiting"] or row["office_code"] != office_code:
                continue
            if not supervisor or row["escalated"]:
                rows.append(row)
        if supervisor:
            rows.sort(key=lambda r: (r["deadline"] or _LAST, str(r["registration_id"])))
        else:
            rows.sort(
                key=lambda r: (not r["overdue"], r["deadline"] or _LAST, str(r["registration_id"]))
            )
        entries = [
            QueueEntry(**{k: v for k, v in row.items() if k in QueueEntry.model_fields})
            for row in rows
        ]
        return OfficeQueue(
            office_code=office_code, supervisor_view=supervisor, as_of_position=0, entries=entries
        )
