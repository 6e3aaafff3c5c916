"""Read model: office statistics.

Two tables: one row per registration (its office, state and overdue flags) for the counts, and
one row per reviewer decision (approved or rejected) with the time it took, over which the
queries compute the median and the 90th percentile with ``percentile_cont``. Only reviewers'
decisions count as the office's decisions: automatic rejections, withdrawals and expiries are
counted by state, not timed. Days are counted in Vietnam's time (UTC+7, no daylight saving).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from domain.contract import VIETNAM, FinalOutcome
from domain.lifecycle import State, new_state, state_after
from projections.base import (
    EVENTS,
    Answer,
    ReadModelProjection,
    ReadModelView,
    Row,
    fetch_all,
)

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
        if isinstance(event, EVENTS.Erased):
            # Counted by its office and final state, from the erasure alone (a rebuild cannot read
            # the events before it); its overdue marks and decision time are gone.
            self.upsert_row(curs, REGISTRATIONS, erased(event))
            self.delete_row(curs, DECISIONS, event.originator_id)
            return
        if isinstance(event, EVENTS.Submitted):
            row: Row | None = None
        elif new_state(event) is not None or isinstance(event, EVENTS.ReviewOverdue):
            row = self.select_row(curs, REGISTRATIONS, event.originator_id)
            if row is None:
                return
        else:
            return  # refused decisions and notifications count nowhere here
        new = evolve(row, event)
        self.upsert_row(curs, REGISTRATIONS, new)
        if row is not None and isinstance(event, EVENTS.Approved | EVENTS.Rejected):
            self.upsert_row(curs, DECISIONS, decision(row, event))


class OfficeStatisticsProjection(ReadModelProjection):
    name = OfficeStatisticsView.projection_name


def evolve(row: Row | None, event: Any) -> Row:
    if row is None:
        return {
            "registration_id": event.originator_id,
            "office_code": event.office_code,
            "state": State.SUBMITTED.value,
            "submitted_at": event.timestamp,
            "overdue": False,
            "ever_overdue": False,
        }
    row = dict(row)
    if isinstance(event, EVENTS.ReviewOverdue):
        row.update(overdue=True, ever_overdue=True)
        return row
    row["state"] = state_after(event, State(row["state"])).value
    if isinstance(event, EVENTS.ReviewRequested):
        row.update(overdue=False, office_code=event.office_code)
    return row


def erased(event: Any) -> Row:
    return {
        "registration_id": event.originator_id,
        "office_code": event.office_code,
        "state": event.state,
        "submitted_at": event.submitted_at or event.timestamp,
        "overdue": False,
        "ever_overdue": False,
    }


def decision(row: Row, event: Any) -> Row:
    decided_at = event.timestamp
    return {
        "registration_id": event.originator_id,
        "office_code": row["office_code"],
        "outcome": (
            FinalOutcome.APPROVED if isinstance(event, EVENTS.Approved) else FinalOutcome.REJECTED
        ).value,
        "reviewer_id": event.reviewer_id,
        "submitted_at": row["submitted_at"],
        "decided_at": decided_at,
        "decided_on": decided_at.astimezone(VIETNAM).date(),
        "seconds_to_decision": (decided_at - row["submitted_at"]).total_seconds(),
    }


# --- the answer -------------------------------------------------------------------------------


class DailyDecisions(Answer):
    date: date
    approved: int
    rejected: int
    total: int


class OfficeStatistics(Answer):
    office_code: str
    as_of_position: int
    registrations: int
    counts: dict[State, int]
    """Registrations per current state; every state is present."""
    awaiting_review: int
    overdue: int
    """Awaiting review and past the review deadline now."""
    overdue_total: int
    """Ever marked overdue."""
    decisions: int
    approved: int
    rejected: int
    median_seconds_to_decision: float | None
    p90_seconds_to_decision: float | None
    decisions_per_day: list[DailyDecisions]


def _where(office_code: str | None) -> SQL:
    return SQL("WHERE office_code = %(office)s" if office_code is not None else "")


def _counts(where: SQL) -> Composed:
    return SQL(
        "SELECT office_code, state, count(*) AS n,"
        " count(*) FILTER (WHERE overdue AND state = %(awaiting_state)s) AS overdue,"
        " count(*) FILTER (WHERE ever_overdue) AS ever_overdue"
        " FROM {table} {where} GROUP BY office_code, state"
    ).format(table=Identifier(REGISTRATIONS), where=where)


def _daily(where: SQL) -> Composed:
    return SQL(
        "SELECT office_code, decided_on,"
        " count(*) FILTER (WHERE outcome = %(approved_outcome)s) AS approvals,"
        " count(*) FILTER (WHERE outcome = %(rejected_outcome)s) AS rejections"
        " FROM {table} {where} GROUP BY office_code, decided_on"
    ).format(table=Identifier(DECISIONS), where=where)


def _timing(where: SQL) -> Composed:
    return SQL(
        "SELECT office_code,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_decision) AS median,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds_to_decision) AS p90"
        " FROM {table} {where} GROUP BY office_code"
    ).format(table=Identifier(DECISIONS), where=where)


def statistics(
    conn: psycopg.Connection[Any], office_code: str | None, as_of: int
) -> list[OfficeStatistics]:
    """The statistics of one office, or of every office that has registrations (by office
    code); an office without registrations has none."""
    where = _where(office_code)
    params = {
        "office": office_code,
        "awaiting_state": State.AWAITING_REVIEW.value,
        "approved_outcome": FinalOutcome.APPROVED.value,
        "rejected_outcome": FinalOutcome.REJECTED.value,
    }
    counts = fetch_all(conn, _counts(where), params)
    daily = fetch_all(conn, _daily(where), params)
    timing = fetch_all(conn, _timing(where), params)
    offices = sorted({row["office_code"] for row in counts})
    times = {row["office_code"]: row for row in timing}
    return [
        summary(
            office,
            as_of,
            [row for row in counts if row["office_code"] == office],
            [row for row in daily if row["office_code"] == office],
            times.get(office, {}),
        )
        for office in offices
    ]


def summary(
    office_code: str,
    as_of: int,
    counts: Sequence[Row] = (),
    daily: Sequence[Row] = (),
    timing: Row | None = None,
) -> OfficeStatistics:
    """One office's statistics from its rows (none: an office without registrations)."""
    per_state = dict.fromkeys(State, 0)
    for row in counts:
        per_state[State(row["state"])] = row["n"]
    days = sorted(
        (
            DailyDecisions(
                date=row["decided_on"],
                approved=row["approvals"],
                rejected=row["rejections"],
                total=row["approvals"] + row["rejections"],
            )
            for row in daily
        ),
        key=lambda day: day.date,
    )
    approved = sum(day.approved for day in days)
    rejected = sum(day.rejected for day in days)
    timing = timing or {}
    return OfficeStatistics(
        office_code=office_code,
        as_of_position=as_of,
        registrations=sum(per_state.values()),
        counts=per_state,
        awaiting_review=per_state[State.AWAITING_REVIEW],
        overdue=sum(row["overdue"] for row in counts),
        overdue_total=sum(row["ever_overdue"] for row in counts),
        decisions=approved + rejected,
        approved=approved,
        rejected=rejected,
        median_seconds_to_decision=timing.get("median"),
        p90_seconds_to_decision=timing.get("p90"),
        decisions_per_day=days,
    )
