"""The event store's PostgreSQL recorder: eventsourcing's, with a save in one round trip.

eventsourcing's ``PostgresApplicationRecorder`` sends a save as a pipeline with a sync in the
middle (after the INSERT, to see a unique violation there) and another at COMMIT: two round
trips, each with psycopg's pipeline machinery around it. This recorder sends the same statements
(BEGIN, ``SET LOCAL lock_timeout``, ``LOCK TABLE … IN EXCLUSIVE MODE``, NOTIFY, the INSERT …
RETURNING, COMMIT) and syncs once. The table lock stays: notification ids are still committed in
order, so the read models' runners and the audit sealer never skip one. A unique violation (a
stale writer) aborts the pipeline before the COMMIT; the transaction is rolled back and the
error reaches the application as eventsourcing's ``IntegrityError``, as before. Reading is
eventsourcing's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import pq
from psycopg.sql import SQL

_BEGIN = SQL("BEGIN")
_COMMIT = SQL("COMMIT")
_ROLLBACK = SQL("ROLLBACK")


class OneTripRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.datastore.enable_db_functions or not stored_events:
            done: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return done
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            try:
                with conn.pipeline():
                    curs.execute(_BEGIN)
                    self._insert_events(curs, stored_events, **kwargs)
                    # The lock, the NOTIFY and the INSERT, on this cursor: its result is the
                    # INSERT's. The COMMIT goes on a cursor of its own.
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    conn.execute(_COMMIT)
            except BaseException:
                if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    conn.execute(_ROLLBACK)
                raise
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
