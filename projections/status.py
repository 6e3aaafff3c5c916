"""Read model: each registration's status, found by registration id or request id.

No personal data: the child's code is masked to its last 4 digits; no name, no birth date.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.base import (
    EVENTS,
    FINAL_OUTCOMES,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
    mask_code,
    merged,
)

TABLE = "rm_registration_status"


class RegistrationStatusView(ReadModelView):
    projection_name = "registration_status"
    table_names = (TABLE,)
    index_names = ("rm_registration_status_pkey", "rm_registration_status_request_id")
    schema = (
        """CREATE TABLE IF NOT EXISTS {rm_registration_status} (
            registration_id   uuid NOT NULL,
            request_id        text NOT NULL,
            state             text NOT NULL,
            office_code       text NOT NULL,
            child_code_masked text,
            submitted_at      timestamptz NOT NULL,
            review_deadline   timestamptz,
            expires_at        timestamptz,
            overdue           boolean NOT NULL DEFAULT false,
            escalated         boolean NOT NULL DEFAULT false,
            waiting_for       text NOT NULL,
            supplement_rounds integer NOT NULL DEFAULT 0,
            outcome           text,
            reason_code       text,
            decided_by        text,
            decided_at        timestamptz,
            warnings          jsonb NOT NULL DEFAULT '[]',
            child_account_id  text,
            version           integer NOT NULL,
            events_applied    integer NOT NULL,
            updated_at        timestamptz NOT NULL,
            position          bigint NOT NULL,
            CONSTRAINT {rm_registration_status_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE UNIQUE INDEX IF NOT EXISTS {rm_registration_status_request_id}
            ON {rm_registration_status} (request_id)""",
    )

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        row = self.select_row(curs, TABLE, event.originator_id)
        new = evolve(row, event, tracking.notification_id)
        if new is not None:
            self.upsert_row(curs, TABLE, new)


class RegistrationStatusProjection(ReadModelProjection):
    name = RegistrationStatusView.projection_name


def evolve(row: Row | None, event: Any, position: int) -> Row | None:
    """The status row after ``event``; None when there is nothing to keep."""
    if isinstance(event, EVENTS.Submitted):
        row = {
            "registration_id": event.originator_id,
            "request_id": event.request_id,
            "state": "submitted",
            "office_code": event.office_code,
            "child_code_masked": mask_code(child_code(event.request)),
            "submitted_at": event.timestamp,
            "review_deadline": None,
            "expires_at": None,
            "overdue": False,
            "escalated": False,
            "supplement_rounds": 0,
            "reason_code": None,
            "decided_by": None,
            "decided_at": None,
            "warnings": [],
            "child_account_id": None,
            "events_applied": 0,
        }
    elif row is None or not isinstance(event, EVENTS.Event):
        return None
    else:
        row = dict(row)
        _apply(row, event)
    row["version"] = event.originator_version
    row["events_applied"] += 1
    row["updated_at"] = event.timestamp
    row["position"] = position
    row["outcome"] = FINAL_OUTCOMES.get(row["state"])
    row["waiting_for"] = _waiting_for(row["state"], row["outcome"])
    return row


def _apply(row: Row, event: Any) -> None:
    if isinstance(event, EVENTS.IdentityVerified):
        row["state"] = "identity_verified"
        row["child_code_masked"] = mask_code(event.child_social_insurance_code)
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.AutoRejected):
        row.update(state="auto_rejected", reason_code=event.reason_code)
        row.update(decided_at=event.timestamp, decided_by="system")
    elif isinstance(event, EVENTS.DocumentsStored):
        row["state"] = "documents_stored"
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.ReviewRequested):
        row.update(state="awaiting_review", review_deadline=event.deadline)
        row.update(expires_at=event.expires_at, overdue=False)
    elif isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, escalated=True)
    elif isinstance(event, EVENTS.SupplementRequested):
        row.update(state="supplement_requested", expires_at=event.due)
        row["supplement_rounds"] += 1
    elif isinstance(event, EVENTS.SupplementProvided):
        row["state"] = "supplement_provided"
    elif isinstance(event, EVENTS.Approved):
        row.update(state="approved", decided_by=event.reviewer_id, decided_at=event.timestamp)
    elif isinstance(event, EVENTS.Rejected):
        row.update(state="rejected", reason_code=event.reason_code)
        row.update(decided_by=event.reviewer_id, decided_at=event.timestamp)
    elif isinstance(event, EVENTS.Withdrawn):
        row.update(state="withdrawn", decided_at=event.timestamp, decided_by="guardian")
    elif isinstance(event, EVENTS.Expired):
        row.update(state="expired", decided_at=event.timestamp, decided_by="system")
    elif isinstance(event, EVENTS.ChildAccountActivated):
        row.update(state="account_activated", child_account_id=event.account_id)
    # Refused decisions and notifications change no status: only the version moves.


def _waiting_for(state: str, outcome: str | None) -> str:
    if state == "awaiting_review":
        return "reviewer"
    if state == "supplement_requested":
        return "guardian"
    if outcome is not None and state != "approved":
        return "nobody"
    return "system"
