"""Read model: office statistics.

Two tables: one row per registration (its office, state and overdue flags) for the counts, and
one row per reviewer decision (approved or rejected) with the time it took, over which the
queries compute the median and the 90th percentile with ``percentile_cont``. Only reviewers'
decisions count as the office's decisions: automatic rejections, withdrawals and expiries are
counted by state, not timed. Days are counted in Vietnam's time (UTC+7, no daylight saving).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.contract import VIETNAM
from projections.base import EVENTS, STATE_AFTER, ReadModelProjection, ReadModelView, Row, upsert

REGISTRATIONS = "rm_office_registrations"
DECISIONS = "rm_office_decisions"


class OfficeStatisticsView(ReadModelView):
    projection_name = "office_statistics"
    table_names = (REGISTRATIONS, DECISIONS)
    index_names = (
        "rm_office_registrations_pkey",
        "rm_office_registrations_office",
        "rm_office_decisions_pkey",
        "rm_office_decisions_office",
    )
    schema = (
        """CREATE TABLE IF NOT EXISTS {rm_office_registrations} (
            registration_id uuid NOT NULL,
            office_code     text NOT NULL,
            state           text NOT NULL,
            submitted_at    timestamptz NOT NULL,
            overdue         boolean NOT NULL DEFAULT false,
            ever_overdue    boolean NOT NULL DEFAULT false,
            CONSTRAINT {rm_office_registrations_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE INDEX IF NOT EXISTS {rm_office_registrations_office}
            ON {rm_office_registrations} (office_code, state)""",
        """CREATE TABLE IF NOT EXISTS {rm_office_decisions} (
            registration_id     uuid NOT NULL,
            office_code         text NOT NULL,
            outcome             text NOT NULL,
            reviewer_id         text NOT NULL,
            submitted_at        timestamptz NOT NULL,
            decided_at          timestamptz NOT NULL,
            decided_on          date NOT NULL,
            seconds_to_decision double precision NOT NULL,
            CONSTRAINT {rm_office_decisions_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE INDEX IF NOT EXISTS {rm_office_decisions_office}
            ON {rm_office_decisions} (office_code, decided_on)""",
    )

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        if isinstance(event, EVENTS.Submitted):
            row: Row | None = None
        elif type(event) in STATE_AFTER or isinstance(event, EVENTS.ReviewOverdue):
            row = self.select_row(curs, REGISTRATIONS, event.originator_id)
            if row is None:
                return
        else:
            return  # refused decisions and notifications count nowhere here
        new = evolve(row, event)
        self.upsert_row(curs, REGISTRATIONS, new)
        if row is not None and isinstance(event, EVENTS.Approved | EVENTS.Rejected):
            upsert(curs, self.table(DECISIONS), "registration_id", decision(row, event))


class OfficeStatisticsProjection(ReadModelProjection):
    name = OfficeStatisticsView.projection_name


def evolve(row: Row | None, event: Any) -> Row:
    if row is None:
        return {
            "registration_id": event.originator_id,
            "office_code": event.office_code,
            "state": "submitted",
            "submitted_at": event.timestamp,
            "overdue": False,
            "ever_overdue": False,
        }
    row = dict(row)
    if isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, ever_overdue=True)
        return row
    row["state"] = STATE_AFTER[type(event)]
    if isinstance(event, EVENTS.ReviewRequested):
        row.update(overdue=False, office_code=event.office_code)
    return row


def decision(row: Row, event: Any) -> Row:
    decided_at = event.timestamp
    return {
        "registration_id": event.originator_id,
        "office_code": row["office_code"],
        "outcome": "approved" if isinstance(event, EVENTS.Approved) else "rejected",
        "reviewer_id": event.reviewer_id,
        "submitted_at": row["submitted_at"],
        "decided_at": decided_at,
        "decided_on": decided_at.astimezone(VIETNAM).date(),
        "seconds_to_decision": (decided_at - row["submitted_at"]).total_seconds(),
    }
