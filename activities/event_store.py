"""The event store's PostgreSQL recorder: eventsourcing's, with a save in one statement.

eventsourcing's ``PostgresApplicationRecorder`` sends a save as six statements in a pipeline
(BEGIN, ``SET LOCAL lock_timeout``, ``LOCK TABLE … IN EXCLUSIVE MODE``, NOTIFY, the INSERT …
RETURNING, COMMIT) with two syncs. This recorder calls a function of its own,
``childreg_insert_events``, in one statement that is its own transaction: the function takes the
same table lock (with the same ``lock_timeout``), sends the same NOTIFY and runs the same INSERT;
the lock is held until the statement's transaction commits, so notification ids are still
committed in order and the read models' runners and the audit sealer never skip one.
(eventsourcing's own function, ``POSTGRES_ENABLE_DB_FUNCTIONS``, skips the lock: a tailing
reader was measured skipping ids that committed later; it is not used.)

A unique violation (a stale writer) fails the statement, nothing is stored, and the error
reaches the application as eventsourcing's ``IntegrityError``, as before. The function is created
with the tables (``CREATE_TABLE``); a process that does not create tables (the web tier, the
eraser) creates it on first use if a database made before it lacks it. The function's
``lock_timeout`` is ``POSTGRES_LOCK_TIMEOUT`` as it was where the function was made (childreg
sets none: 0, wait for the lock, as eventsourcing's default). Reading is eventsourcing's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

FUNCTION = "childreg_insert_events"


class OneStatementRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(datastore.schema)
        self._create_function: Composed = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql "
            "SET lock_timeout = {lock_timeout} "
            "AS $BODY$ BEGIN "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id; "
            "END; $BODY$"
        ).format(
            schema=schema,
            function=Identifier(FUNCTION),
            event=Identifier(self.stored_event_type_name),
            lock_timeout=f"{datastore.lock_timeout}s",
            table=Identifier(self.events_table_name),
            channel=Identifier(self.channel_name),
        )
        self.sql_create_statements.append(self._create_function)
        self._qualified_name = f"{datastore.schema}.{FUNCTION}"
        self._insert: Composed = SQL("SELECT * FROM {schema}.{function}(%s)").format(
            schema=schema, function=Identifier(FUNCTION)
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.datastore.enable_db_functions or not stored_events:
            done: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return done
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            try:
                curs.execute(self._insert, (events,), prepare=True)
            except psycopg.errors.UndefinedFunction:
                self._create_missing_function(conn)
                curs.execute(self._insert, (events,), prepare=True)
            return [row[FUNCTION] for row in curs.fetchall()]

    def _create_missing_function(self, conn: psycopg.Connection[DictRow]) -> None:
        """Create the function unless another thread or process just did: one at a time (an
        advisory lock), so concurrent first saves neither collide in the catalogue (a unique
        violation there would look like a stale writer) nor replace it under each other."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._qualified_name,))
            row = conn.execute(
                "SELECT to_regproc(%s) IS NOT NULL AS present", (self._qualified_name,)
            ).fetchone()
            if not (row and row["present"]):
                conn.execute(self._create_function)
