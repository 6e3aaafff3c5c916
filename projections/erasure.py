"""What the read models hold of a registration's personal data, and which registrations are past
the retention (``childreg privacy erase`` and ``sweep``).

Every read model applies the ``Erased`` event: the status row is rewritten from it alone (no child
code, no warnings, no decision details), the review queue and the guardians' index drop their rows
(the latter are keyed by digests of the guardian's and the child's codes), the office statistics
keep the registration counted by its office and final state only. A rebuild, which cannot read
the erased events before ``Erased``, writes the same rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Identifier
from pydantic import BaseModel, ConfigDict

from domain.lifecycle import FINAL_STATES
from projections import guardians, queue, statistics, status

_COUNT = SQL("SELECT count(*) FROM {} WHERE registration_id = %s")
_COUNT_NOT_ERASED = SQL("SELECT count(*) FROM {} WHERE registration_id = %s AND erased_at IS NULL")


def read_model_rows(connection: psycopg.Connection[Any], registration_id: UUID) -> int:
    """The rows a registration's erasure drops or blanks: its status row (unless already
    erased), its queue and guardian-index rows, its office-decision row."""
    total = 0
    for table, only_erased in (
        (status.TABLE, True),
        (queue.TABLE, False),
        (guardians.TABLE, False),
        (statistics.DECISIONS, False),
    ):
        if connection.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            continue
        row = connection.execute(
            (_COUNT_NOT_ERASED if only_erased else _COUNT).format(Identifier(table)),
            (registration_id,),
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


class Erasable(BaseModel):
    """A final registration past the retention."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    registration_id: UUID
    office_code: str
    state: str
    outcome_at: datetime


def erasable(
    connection: psycopg.Connection[Any], retention_days: int, now: datetime
) -> list[Erasable]:
    """Final registrations whose outcome (``decided_at``, else the last event's time) is more than
    ``retention_days`` before ``now``, not erased yet, oldest first."""
    cutoff = now - timedelta(days=retention_days)
    rows = connection.execute(
        SQL(
            "SELECT request_id, registration_id, office_code, state,"
            " coalesce(decided_at, updated_at) AS outcome_at FROM {}"
            " WHERE erased_at IS NULL AND state = ANY(%s)"
            " AND coalesce(decided_at, updated_at) < %s ORDER BY outcome_at, request_id"
        ).format(Identifier(status.TABLE)),
        ([state.value for state in FINAL_STATES], cutoff),
    ).fetchall()
    return [
        Erasable(
            request_id=request_id,
            registration_id=registration_id,
            office_code=office_code,
            state=state,
            outcome_at=outcome_at,
        )
        for request_id, registration_id, office_code, state, outcome_at in rows
    ]
