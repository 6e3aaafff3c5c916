"""Read model: each office's reviewer queue.

One row per registration still open: it is in the queue (``awaiting``) while it waits for a
reviewer, from a review request until a decision, a supplement request, a withdrawal or expiry;
the row goes when the registration is no longer open. Reviewers see their office's queue overdue
first, then by deadline; supervisors see the registrations escalated to them (they stay in the
reviewers' queue too).
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

from domain.lifecycle import OPEN_STATES, new_state, waiting_for
from domain.registration import CLAIM_LEASE
from projections.base import (
    EVENTS,
    Answer,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
    fetch_all,
    mask_code,
    merged,
)

TABLE = "rm_review_queue"


class ReviewQueueView(ReadModelView):
    projection_name = "review_queue"
    table_names = (TABLE,)
    index_names = (
        "rm_review_queue_pkey",
        "rm_review_queue_reviewers",
        "rm_review_queue_supervisors",
    )
    schema = (
        """CREATE TABLE IF NOT EXISTS {rm_review_queue} (
            registration_id     uuid NOT NULL,
            request_id          text NOT NULL,
            office_code         text NOT NULL,
            child_code_masked   text,
            awaiting            boolean NOT NULL DEFAULT false,
            round               integer NOT NULL DEFAULT 0,
            review_requested_at timestamptz,
            deadline            timestamptz,
            expires_at          timestamptz,
            overdue             boolean NOT NULL DEFAULT false,
            escalated           boolean NOT NULL DEFAULT false,
            escalated_to        jsonb NOT NULL DEFAULT '[]',
            supplement_rounds   integer NOT NULL DEFAULT 0,
            warnings            jsonb NOT NULL DEFAULT '[]',
            rejection_proposed_by text,
            claimed_by          text,
            claim_expires_at    timestamptz,
            CONSTRAINT {rm_review_queue_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE INDEX IF NOT EXISTS {rm_review_queue_reviewers}
            ON {rm_review_queue} (office_code, overdue DESC, deadline) WHERE awaiting""",
        """CREATE INDEX IF NOT EXISTS {rm_review_queue_supervisors}
            ON {rm_review_queue} (office_code, deadline) WHERE awaiting AND escalated""",
        """ALTER TABLE {rm_review_queue} ADD COLUMN IF NOT EXISTS rejection_proposed_by text""",
        # claims came later: tables created before them gain the columns
        "ALTER TABLE {rm_review_queue} ADD COLUMN IF NOT EXISTS claimed_by text",
        "ALTER TABLE {rm_review_queue} ADD COLUMN IF NOT EXISTS claim_expires_at timestamptz",
    )

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        if _leaves_the_queue(event):
            self.delete_row(curs, TABLE, event.originator_id)
            return
        row = (
            None
            if isinstance(event, EVENTS.Submitted)
            else self.select_row(curs, TABLE, event.originator_id)
        )
        new = evolve(row, event)
        if new is not None and new != row:
            self.upsert_row(curs, TABLE, new)


class ReviewQueueProjection(ReadModelProjection):
    name = ReviewQueueView.projection_name


def _leaves_the_queue(event: Any) -> bool:
    """A decision, a withdrawal or expiry: the registration is no longer open."""
    if isinstance(event, EVENTS.Erased):
        return True
    state = new_state(event)
    return state is not None and state not in OPEN_STATES


def evolve(row: Row | None, event: Any) -> Row | None:
    """The queue row after ``event`` (None: no row; a decision removes it before this)."""
    if isinstance(event, EVENTS.Submitted):
        return {
            "registration_id": event.originator_id,
            "request_id": event.request_id,
            "office_code": event.office_code,
            "child_code_masked": mask_code(child_code(event.request)),
            "awaiting": False,
            "round": 0,
            "review_requested_at": None,
            "deadline": None,
            "expires_at": None,
            "overdue": False,
            "escalated": False,
            "escalated_to": [],
            "supplement_rounds": 0,
            "warnings": [],
            "rejection_proposed_by": None,
            "claimed_by": None,
            "claim_expires_at": None,
        }
    if row is None:
        return None
    row = dict(row)
    state = new_state(event)
    if state is not None:
        row["awaiting"] = waiting_for(state) == "reviewer"
    if isinstance(event, EVENTS.IdentityVerified):
        row["child_code_masked"] = mask_code(event.child_social_insurance_code)
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.DocumentsStored):
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.ReviewRequested):
        row.update(round=event.round, review_requested_at=event.timestamp)
        row.update(office_code=event.office_code, deadline=event.deadline)
        row.update(expires_at=event.expires_at, overdue=False)
        row.update(claimed_by=None, claim_expires_at=None)
    elif isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, escalated=True, escalated_to=list(event.escalated_to))
    elif isinstance(event, EVENTS.SupplementRequested):
        row["expires_at"] = event.due
        row["supplement_rounds"] += 1
    elif isinstance(event, EVENTS.RejectionProposed):
        row["rejection_proposed_by"] = event.reviewer_id
    elif isinstance(event, EVENTS.RejectionDeclined):
        row["rejection_proposed_by"] = None
    elif isinstance(event, EVENTS.Claimed):
        row.update(claimed_by=event.reviewer_id, claim_expires_at=event.timestamp + CLAIM_LEASE)
    elif isinstance(event, EVENTS.Released):
        row.update(claimed_by=None, claim_expires_at=None)
    return row


# --- the answer -------------------------------------------------------------------------------


class QueueEntry(Answer):
    registration_id: UUID
    request_id: str
    child_code_masked: str | None
    round: int
    review_requested_at: datetime | None
    deadline: datetime | None
    expires_at: datetime | None
    overdue: bool
    escalated: bool
    escalated_to: list[str]
    supplement_rounds: int
    warnings: list[str]
    rejection_proposed_by: str | None = None
    """Four eyes: a proposed rejection waits for a second reviewer (who proposed it)."""
    claimed_by: str | None = None
    """The claim's holder as of the last event; held only until ``claim_expires_at``."""
    claim_expires_at: datetime | None = None

    def holder(self, now: datetime) -> str | None:
        """Who holds the claim at ``now`` (None once the lease lapsed)."""
        if self.claimed_by is None or self.claim_expires_at is None:
            return None
        return self.claimed_by if now < self.claim_expires_at else None


class OfficeQueue(Answer):
    office_code: str
    supervisor_view: bool
    as_of_position: int
    entries: list[QueueEntry]


_REVIEWERS = SQL(
    "SELECT * FROM {} WHERE office_code = %s AND awaiting"
    " ORDER BY overdue DESC, deadline, registration_id"
).format(Identifier(TABLE))
_SUPERVISORS = SQL(
    "SELECT * FROM {} WHERE office_code = %s AND awaiting AND escalated"
    " ORDER BY deadline, registration_id"
).format(Identifier(TABLE))


def entries(conn: psycopg.Connection[Any], office_code: str, supervisor: bool) -> list[QueueEntry]:
    """The office's registrations awaiting review, overdue first, then by deadline; with
    ``supervisor``, those escalated to the office's supervisors, by deadline."""
    rows = fetch_all(conn, _SUPERVISORS if supervisor else _REVIEWERS, (office_code,))
    return [
        QueueEntry(**{key: value for key, value in row.items() if key in QueueEntry.model_fields})
        for row in rows
    ]
