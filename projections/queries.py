"""The query side over the four read models: plain data (pydantic models), never aggregates.

Each read model's answer types and SQL live in its own module (``status``, ``queue``,
``guardians``, ``statistics``); this one opens the connection, reads the position and waits.

Every answer carries ``as_of_position``: the notification id up to which its read model has
applied events. A caller that has just run a command (whose answer reports the position of its
last event) can wait for that position first: read-your-writes, with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from projections import guardians, queue, statistics, status
from projections.base import APPLICATION_NAME, NOTIFY_CHANNEL, tracking_table_for
from projections.catalogue import NAMES
from projections.guardians import GuardianChildren, GuardianChildrenView
from projections.queue import OfficeQueue, ReviewQueueView
from projections.statistics import OfficeStatistics, OfficeStatisticsView
from projections.status import RegistrationStatusView, StatusRecord


class ReadModelError(Exception):
    """A query could not be answered; the message says why and what to do."""


class NotFound(ReadModelError):
    pass


class ProjectionBehind(ReadModelError):
    """The read model had not reached the position waited for before the timeout."""


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

    def status_record(self, key: str) -> StatusRecord:
        """A registration's status record, by its request id or its registration id."""
        with self._pool.connection() as conn, conn.transaction():
            found = status.find(
                conn, key, self._position(conn, RegistrationStatusView.projection_name)
            )
        if found is None:
            raise NotFound(f"no registration with request id or registration id {key!r}")
        return found

    def queue(self, office_code: str, *, supervisor: bool = False) -> OfficeQueue:
        """The office's registrations awaiting review, overdue first, then by deadline; with
        ``supervisor``, those escalated to the office's supervisors."""
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, ReviewQueueView.projection_name)
            entries = queue.entries(conn, office_code, supervisor)
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
            as_of = self._position(conn, GuardianChildrenView.projection_name)
            children = guardians.children(conn, self._key, guardian_code)
        return GuardianChildren(as_of_position=as_of, children=children)

    def stats(self, office_code: str) -> OfficeStatistics:
        found = self._statistics(office_code)
        if found:
            return found[0]
        return statistics.summary(
            office_code, self.positions()[OfficeStatisticsView.projection_name]
        )

    def all_stats(self) -> list[OfficeStatistics]:
        """Statistics of every office that has registrations, by office code."""
        return self._statistics(None)

    # --- mechanics --------------------------------------------------------------------------------

    def _statistics(self, office_code: str | None) -> list[OfficeStatistics]:
        with self._pool.connection() as conn, conn.transaction():
            as_of = self._position(conn, OfficeStatisticsView.projection_name)
            return statistics.statistics(conn, office_code, as_of)

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
