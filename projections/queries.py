"""Queries over the read models: plain data (pydantic models), never aggregates.

Every answer carries ``as_of_position``: the notification id up to which its read model has
applied events. A caller that has just run a command (whose answer reports the position of its
last event) can wait for that position first: read-your-writes, with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict

from projections.base import APPLICATION_NAME, NOTIFY_CHANNEL, tracking_table_for
from projections.catalogue import NAMES
from projections.guardians import code_digest

STATES = (
    "submitted",
    "identity_verified",
    "documents_stored",
    "awaiting_review",
    "supplement_requested",
    "supplement_provided",
    "approved",
    "account_activated",
    "rejected",
    "auto_rejected",
    "withdrawn",
    "expired",
)
_OPEN = frozenset(STATES[:6])


class ReadModelError(Exception):
    """A query could not be answered; the message says why and what to do."""


class NotFound(ReadModelError):
    pass


class ProjectionBehind(ReadModelError):
    """The read model had not reached the position waited for before the timeout."""


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


class RegistrationStatus(_Answer):
    registration_id: UUID
    request_id: str
    state: str
    office_code: str
    child_code_masked: str | None
    submitted_at: datetime
    review_deadline: datetime | None
    expires_at: datetime | None
    overdue: bool
    escalated: bool
    waiting_for: Literal["system", "reviewer", "guardian", "nobody"]
    supplement_rounds: int
    outcome: str | None
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


class QueueEntry(_Answer):
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


class OfficeQueue(_Answer):
    office_code: str
    supervisor_view: bool
    as_of_position: int
    entries: list[QueueEntry]


class ChildRegistration(_Answer):
    registration_id: UUID
    request_id: str
    office_code: str
    state: str
    outcome: str | None
    submitted_at: datetime
    decided_at: datetime | None


class ChildEntry(_Answer):
    child_code_masked: str | None
    account_status: Literal["active", "pending", "none"]
    """active: an approved registration's account was activated; pending: a registration is open
    or approved and awaiting activation; none: every registration ended without an account."""
    child_account_id: str | None
    registrations: list[ChildRegistration]


class GuardianChildren(_Answer):
    as_of_position: int
    children: list[ChildEntry]


class DailyDecisions(_Answer):
    date: date
    approved: int
    rejected: int
    total: int


class OfficeStatistics(_Answer):
    office_code: str
    as_of_position: int
    registrations: int
    counts: dict[str, int]
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


class ReadModels:
    """The query side. ``pool`` is a psycopg pool the caller owns (opened, closed by it)."""

    def __init__(self, pool: ConnectionPool[Any], key: bytes) -> None:
        self._pool = pool
        self._key = key

    # --- positions and read-your-writes -----------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            return {name: self._position(conn, name) for name in NAMES}

    def wait_for(self, position: int, timeout: float, names: Sequence[str] = NAMES) -> None:
        """Block until every named read model has applied the event at ``position``.

        Listens for the notifications each view write sends, re-reading the tracking positions
        when one arrives: no polling. Raises :class:`ProjectionBehind` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._pool.connection() as conn:
            autocommit = conn.autocommit
            conn.autocommit = True  # notifications arrive between transactions
            try:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
                self._wait(conn, position, timeout, deadline, names)
            finally:
                conn.execute("UNLISTEN *")
                conn.autocommit = autocommit

    def _wait(
        self,
        conn: psycopg.Connection[Any],
        position: int,
        timeout: float,
        deadline: float,
        names: Sequence[str],
    ) -> None:
        while True:
            reached = {name: self._position(conn, name) for name in names}
            behind = {name: at for name, at in reached.items() if at < position}
            if not behind:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                where = ", ".join(f"{name} at {at}" for name, at in behind.items())
                raise ProjectionBehind(
                    f"--wait-for: the read models had not reached position {position} within "
                    f"{timeout:g}s ({where}); is `childreg projector` (or `childreg dev`) running?"
                )
            for _ in conn.notifies(timeout=remaining, stop_after=1):
                pass

    # --- the queries ------------------------------------------------------------------------------

    def status(self, key: str) -> RegistrationStatus:
        """A registration by its request id or its registration id."""
        registration_id = _as_uuid(key)
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, "registration_status")
            row = self._one(
                conn,
                "SELECT * FROM rm_registration_status WHERE request_id = %s"
                " OR registration_id = %s LIMIT 1",
                (key, registration_id),
            )
        if row is None:
            raise NotFound(f"no registration with request id or registration id {key!r}")
        row.pop("events_applied", None)
        return RegistrationStatus(**row, as_of_position=as_of)

    def queue(self, office_code: str, *, supervisor: bool = False) -> OfficeQueue:
        """The office's registrations awaiting review, overdue first, then by deadline; with
        ``supervisor``, those escalated to the office's supervisors."""
        escalated = " AND escalated" if supervisor else ""
        order = (
            "deadline, registration_id" if supervisor else "overdue DESC, deadline, registration_id"
        )
        statement = (
            "SELECT * FROM rm_review_queue WHERE office_code = %s AND awaiting"  # noqa: S608 - fixed fragments
            + escalated
            + " ORDER BY "
            + order
        )
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, "review_queue")
            rows = self._all(conn, statement, (office_code,))
        entries = [
            QueueEntry(
                **{key: value for key, value in row.items() if key in QueueEntry.model_fields}
            )
            for row in rows
        ]
        return OfficeQueue(
            office_code=office_code,
            supervisor_view=supervisor,
            as_of_position=as_of,
            entries=entries,
        )

    def guardian(self, guardian_code: str) -> GuardianChildren:
        """The guardian's children (by the guardian's social-insurance code) and their
        registrations, newest first."""
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, "guardian_children")
            rows = self._all(
                conn,
                "SELECT * FROM rm_guardian_children WHERE guardian_digest = %s"
                " ORDER BY child_digest, submitted_at DESC, registration_id",
                (code_digest(self._key, guardian_code),),
            )
        by_child: dict[str | None, list[dict[str, Any]]] = {}
        for row in rows:
            by_child.setdefault(row["child_digest"], []).append(row)
        children = [_child(group) for group in by_child.values()]
        children.sort(key=lambda child: child.registrations[0].submitted_at, reverse=True)
        return GuardianChildren(as_of_position=as_of, children=children)

    def stats(self, office_code: str) -> OfficeStatistics:
        found = self._statistics(office_code)
        if found:
            return found[0]
        return self._statistics_of(office_code, self.positions()["office_statistics"], [], [], {})

    def all_stats(self) -> list[OfficeStatistics]:
        """Statistics of every office that has registrations, by office code."""
        return self._statistics(None)

    # --- mechanics --------------------------------------------------------------------------------

    def _statistics(self, office_code: str | None) -> list[OfficeStatistics]:
        where = "WHERE office_code = %(office)s" if office_code is not None else ""
        params = {"office": office_code}
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, "office_statistics")
            counts = self._all(
                conn,
                "SELECT office_code, state, count(*) AS n, count(*) FILTER (WHERE overdue"  # noqa: S608
                " AND state = 'awaiting_review') AS overdue, count(*) FILTER (WHERE ever_overdue)"
                f" AS ever_overdue FROM rm_office_registrations {where} GROUP BY office_code, state",
                params,
            )
            daily = self._all(
                conn,
                "SELECT office_code, decided_on, count(*) FILTER (WHERE outcome = 'approved') AS"  # noqa: S608
                " approved, count(*) FILTER (WHERE outcome = 'rejected') AS rejected FROM"
                f" rm_office_decisions {where} GROUP BY office_code, decided_on",
                params,
            )
            timing = self._all(
                conn,
                "SELECT office_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY"  # noqa: S608
                " seconds_to_decision) AS median, percentile_cont(0.9) WITHIN GROUP (ORDER BY"
                f" seconds_to_decision) AS p90 FROM rm_office_decisions {where} GROUP BY office_code",
                params,
            )
        offices = sorted({row["office_code"] for row in counts})
        times = {row["office_code"]: row for row in timing}
        return [
            self._statistics_of(
                office,
                as_of,
                [row for row in counts if row["office_code"] == office],
                [row for row in daily if row["office_code"] == office],
                times.get(office, {}),
            )
            for office in offices
        ]

    @staticmethod
    def _statistics_of(
        office_code: str,
        as_of: int,
        counts: list[dict[str, Any]],
        daily: list[dict[str, Any]],
        timing: dict[str, Any],
    ) -> OfficeStatistics:
        per_state = dict.fromkeys(STATES, 0)
        for row in counts:
            per_state[row["state"]] = row["n"]
        days = sorted(
            (
                DailyDecisions(
                    date=row["decided_on"],
                    approved=row["approved"],
                    rejected=row["rejected"],
                    total=row["approved"] + row["rejected"],
                )
                for row in daily
            ),
            key=lambda day: day.date,
        )
        approved = sum(day.approved for day in days)
        rejected = sum(day.rejected for day in days)
        return OfficeStatistics(
            office_code=office_code,
            as_of_position=as_of,
            registrations=sum(per_state.values()),
            counts=per_state,
            awaiting_review=per_state["awaiting_review"],
            overdue=sum(row["overdue"] for row in counts),
            overdue_total=sum(row["ever_overdue"] for row in counts),
            decisions=approved + rejected,
            approved=approved,
            rejected=rejected,
            median_seconds_to_decision=timing.get("median"),
            p90_seconds_to_decision=timing.get("p90"),
            decisions_per_day=days,
        )

    @staticmethod
    def _position(conn: psycopg.Connection[Any], name: str) -> int:
        table = sql.Identifier(tracking_table_for(name))
        try:
            with conn.transaction(), conn.cursor() as curs:
                curs.execute(
                    sql.SQL("SELECT notification_id FROM {} WHERE application_name = %s").format(
                        table
                    ),
                    (APPLICATION_NAME,),
                )
                found = curs.fetchone()
        except psycopg.errors.UndefinedTable:
            raise ReadModelError(
                f"the read model {name} has no tables yet: run `childreg db migrate` or start "
                "`childreg projector`"
            ) from None
        return int(found[0]) if found and found[0] is not None else 0

    @staticmethod
    def _one(conn: psycopg.Connection[Any], query: str, params: Any) -> dict[str, Any] | None:
        with conn.cursor(row_factory=dict_row) as curs:
            curs.execute(query, params)
            found: DictRow | None = curs.fetchone()
        return dict(found) if found is not None else None

    @staticmethod
    def _all(conn: psycopg.Connection[Any], query: str, params: Any) -> list[dict[str, Any]]:
        with conn.cursor(row_factory=dict_row) as curs:
            curs.execute(query, params)
            return [dict(row) for row in curs.fetchall()]


def _as_uuid(key: str) -> UUID | None:
    try:
        return UUID(key)
    except ValueError:
        return None


def account_status(states: Sequence[str]) -> Literal["active", "pending", "none"]:
    if "account_activated" in states:
        return "active"
    if any(state in _OPEN or state == "approved" for state in states):
        return "pending"
    return "none"


def _child(rows: list[dict[str, Any]]) -> ChildEntry:
    registrations = [
        ChildRegistration(
            **{key: value for key, value in row.items() if key in ChildRegistration.model_fields}
        )
        for row in rows
    ]
    account_ids = [row["child_account_id"] for row in rows if row["child_account_id"]]
    masked = next((row["child_code_masked"] for row in rows if row["child_code_masked"]), None)
    return ChildEntry(
        child_code_masked=masked,
        account_status=account_status([row["state"] for row in rows]),
        child_account_id=account_ids[0] if account_ids else None,
        registrations=registrations,
    )
