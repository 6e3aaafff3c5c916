"""Read model: each office's reviewer queue.

One row per registration still open: it is in the queue (``awaiting``) from a review request
until a decision, a supplement request, a withdrawal or expiry; the row goes at the end of the
lifecycle. Reviewers see their office's queue overdue first, then by deadline; supervisors see
the registrations escalated to them (they stay in the reviewers' queue too).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.base import (
    EVENTS,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
    mask_code,
    merged,
)

TABLE = "rm_review_queue"

_LEAVES = (EVENTS.Approved, EVENTS.Rejected, EVENTS.AutoRejected, EVENTS.Withdrawn, EVENTS.Expired)


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
            CONSTRAINT {rm_review_queue_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE INDEX IF NOT EXISTS {rm_review_queue_reviewers}
            ON {rm_review_queue} (office_code, overdue DESC, deadline) WHERE awaiting""",
        """CREATE INDEX IF NOT EXISTS {rm_review_queue_supervisors}
            ON {rm_review_queue} (office_code, deadline) WHERE awaiting AND escalated""",
    )

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        if isinstance(event, _LEAVES):
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
        }
    if row is None:
        return None
    row = dict(row)
    if isinstance(event, EVENTS.IdentityVerified):
        row["child_code_masked"] = mask_code(event.child_social_insurance_code)
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.DocumentsStored):
        row["warnings"] = merged(row["warnings"], event.warnings)
    elif isinstance(event, EVENTS.ReviewRequested):
        row.update(awaiting=True, round=event.round, review_requested_at=event.timestamp)
        row.update(office_code=event.office_code, deadline=event.deadline)
        row.update(expires_at=event.expires_at, overdue=False)
    elif isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, escalated=True, escalated_to=list(event.escalated_to))
    elif isinstance(event, EVENTS.SupplementRequested):
        row.update(awaiting=False, expires_at=event.due)
        row["supplement_rounds"] += 1
    return row
