"""Read model: each registration's status, found by registration id or request id.

No personal data: the child's code is masked to its last 4 digits; no name, no birth date.
Its answer is a :class:`StatusRecord`: the read model's row, as of a position; not to be confused
with ``domain.contract.RegistrationStatus``, the workflow's live ``status`` query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.contract import FinalOutcome
from domain.lifecycle import State, WaitingFor, outcome_of, state_after, waiting_for
from projections.base import (
    EVENTS,
    Answer,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
    fetch_one,
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
            erased_at         timestamptz,
            CONSTRAINT {rm_registration_status_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE UNIQUE INDEX IF NOT EXISTS {rm_registration_status_request_id}
            ON {rm_registration_status} (request_id)""",
        # Before erasures (issue 14): a database migrated earlier gains the column.
        """ALTER TABLE {rm_registration_status} ADD COLUMN IF NOT EXISTS erased_at timestamptz""",
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
    if isinstance(event, EVENTS.Erased):
        return erased(event, position)
    if isinstance(event, EVENTS.Submitted):
        row = {
            "registration_id": event.originator_id,
            "request_id": event.request_id,
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
            "erased_at": None,
        }
        state = State.SUBMITTED
    elif row is None or not isinstance(event, EVENTS.Event):
        return None
    else:
        row = dict(row)
        _apply(row, event)
        state = State(row["state"])
    state = state_after(event, state)
    outcome = outcome_of(state)
    row["state"] = state.value
    row["outcome"] = outcome.value if outcome is not None else None
    row["waiting_for"] = waiting_for(state)
    row["version"] = event.originator_version
    row["events_applied"] += 1
    row["updated_at"] = event.timestamp
    row["position"] = position
    return row


def erased(event: Any, position: int) -> Row:
    """An erased registration's row: made from the ``Erased`` event alone (the events before it
    can no longer be read), so a rebuild gives the row the live projection wrote."""
    state = State(event.state)
    return {
        "registration_id": event.originator_id,
        "request_id": event.request_id,
        "state": state.value,
        "office_code": event.office_code,
        "child_code_masked": None,
        "submitted_at": event.submitted_at or event.timestamp,
        "review_deadline": None,
        "expires_at": None,
        "overdue": False,
        "escalated": False,
        "waiting_for": waiting_for(state),
        "supplement_rounds": 0,
        "outcome": event.outcome,
        "reason_code": None,
        "decided_by": None,
        "decided_at": event.outcome_at,
        "warnings": [],
        "child_account_id": None,
        "version": event.originator_version,
        "events_applied": event.originator_version,
        "updated_at": event.timestamp,
        "position": position,
        "erased_at": event.timestamp,
    }


def _apply(row: Row, event: Any) -> None:
    """The columns besides the state (which :mod:`domain.lifecycle` gives)."""
    if isinstance(event, EVENTS.IdentityVerified):
        row["child_code_masked"] = mask_code(event.child_social_insurance_code)
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.AutoRejected):
        row.update(reason_code=event.reason_code, decided_at=event.timestamp, decided_by="system")
    elif isinstance(event, EVENTS.DocumentsStored):
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.ReviewRequested):
        row.update(review_deadline=event.deadline, expires_at=event.expires_at, overdue=False)
    elif isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, escalated=True)
    elif isinstance(event, EVENTS.SupplementRequested):
        row["expires_at"] = event.due
        row["supplement_rounds"] += 1
    elif isinstance(event, EVENTS.Approved):
        row.update(decided_by=event.reviewer_id, decided_at=event.timestamp)
    elif isinstance(event, EVENTS.Rejected):
        row.update(reason_code=event.reason_code)
        row.update(decided_by=event.reviewer_id, decided_at=event.timestamp)
    elif isinstance(event, EVENTS.Withdrawn):
        row.update(decided_at=event.timestamp, decided_by="guardian")
    elif isinstance(event, EVENTS.Expired):
        row.update(decided_at=event.timestamp, decided_by="system")
    elif isinstance(event, EVENTS.ChildAccountActivated):
        row["child_account_id"] = event.account_id
    # Refused decisions and notifications change no status: only the version moves.


# --- the answer -------------------------------------------------------------------------------


class StatusRecord(Answer):
    """A registration's row in the status read model (no personal data)."""

    registration_id: UUID
    request_id: str
    state: State
    office_code: str
    child_code_masked: str | None
    submitted_at: datetime
    review_deadline: datetime | None
    expires_at: datetime | None
    overdue: bool
    escalated: bool
    waiting_for: WaitingFor
    supplement_rounds: int
    outcome: FinalOutcome | None
    reason_code: str | None
    decided_by: str | None
    decided_at: datetime | None
    warnings: list[str]
    child_account_id: str | None
    version: int
    updated_at: datetime
    position: int
    """The notification id of this registration's last applied event."""
    as_of_position: int
    erased_at: datetime | None = None
    """When its personal data was erased (``childreg privacy erase``); None: it was not."""


def find(conn: psycopg.Connection[Any], key: str, as_of: int) -> StatusRecord | None:
    """A registration by its request id or its registration id."""
    row = fetch_one(
        conn,
        SQL("SELECT * FROM {} WHERE request_id = %s OR registration_id = %s LIMIT 1").format(
            Identifier(TABLE)
        ),
        (key, _as_uuid(key)),
    )
    if row is None:
        return None
    row.pop("events_applied", None)
    return StatusRecord(**row, as_of_position=as_of)


def _as_uuid(key: str) -> UUID | None:
    try:
        return UUID(key)
    except ValueError:
        return None
