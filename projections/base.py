"""What every read model shares: tables kept beside a tracking table, written in one transaction.

A view is an eventsourcing ``PostgresTrackingRecorder`` that also owns the read model's tables.
For each event the projection runner hands over, :meth:`ReadModelView.apply` writes the view's
rows and the tracking record (the event's notification id) in one transaction: either both are
committed or neither, so each event is applied exactly once. The single-row tracking table only
moves forward (``... WHERE notification_id < new``), so a second runner that reaches an event
already applied fails its tracking write, its transaction rolls back, and the event is skipped.

The live tables have plain names; a rebuild builds the same tables with the ``_next`` suffix
beside them and swaps them in (see :mod:`projections.rebuild`).

On the reading side, every read model's answers are :class:`Answer` models (plain data, never
aggregates), read with :func:`fetch_one` / :func:`fetch_all` inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, LiteralString

import psycopg
import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from domain.registration import Registration
from domain.service import RegistrationService

APPLICATION_NAME = RegistrationService.name
"""The application whose notification ids the tracking tables record."""

NOTIFY_CHANNEL = "childreg_read_models"
"""Every committed view write notifies this channel (payload ``<projection>:<position>``), so a
query waiting for its own write (read-your-writes) listens instead of polling."""

NEXT_SUFFIX = "_next"

log = structlog.get_logger(__name__)

Row = dict[str, Any]


class ReadModelView(PostgresTrackingRecorder):
    """A read model's tables and its tracking table.

    Subclasses name their tables and indexes and give their ``CREATE`` statements with
    ``{placeholders}`` for those names, so the same schema is built live or with a suffix.
    """

    projection_name: ClassVar[str]
    table_names: ClassVar[tuple[str, ...]]
    index_names: ClassVar[tuple[str, ...]]
    """Every index and constraint name, so a swap can rename them back to their live names."""
    schema: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "",
        suffix: str = "",
        **kwargs: Any,
    ) -> None:
        tracking_table_name = tracking_table_name or tracking_table_for(self.projection_name)
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        self.suffix = suffix
        names = {name: Identifier(name + suffix) for name in self.table_names + self.index_names}
        self.sql_create_statements.extend(
            SQL(statement).format(**names) for statement in self.schema
        )

    def table(self, name: str) -> Identifier:
        return Identifier(name + self.suffix)

    # --- writing ----------------------------------------------------------------------------------

    def apply(self, event: Any, tracking: Tracking) -> None:
        """Write the view for ``event`` and record ``tracking``, in one transaction."""
        try:
            with self.datastore.transaction(commit=True) as curs:
                self.write(curs, event, tracking)
                self.after_view_write(tracking)
                self._insert_tracking(curs, tracking)
                notify(curs, self.projection_name, tracking.notification_id, wait_for_flush=False)
        except IntegrityError:
            if self.has_tracking_id(tracking.application_name, tracking.notification_id):
                # Another runner applied it first: this transaction rolled back whole.
                log.info(
                    "projection.event_already_applied",
                    projection=self.projection_name,
                    position=tracking.notification_id,
                )
                return
            raise

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        """Update the view's rows for one event, inside the caller's transaction."""
        raise NotImplementedError

    def after_view_write(self, tracking: Tracking) -> None:
        """Called between the view write and the tracking write; tests inject failures here."""

    def position(self) -> int:
        return self.max_tracking_id(APPLICATION_NAME) or 0

    # --- helpers for subclasses -------------------------------------------------------------------

    def select_row(self, curs: Cursor[DictRow], table: str, registration_id: Any) -> Row | None:
        curs.execute(
            _statement(
                "SELECT * FROM {} WHERE registration_id = %s FOR UPDATE", table + self.suffix
            ),
            (registration_id,),
        )
        found = curs.fetchone()
        return dict(found) if found is not None else None

    def upsert_row(self, curs: Cursor[DictRow], table: str, row: Mapping[str, Any]) -> None:
        upsert(curs, table + self.suffix, "registration_id", row)

    def delete_row(self, curs: Cursor[DictRow], table: str, registration_id: Any) -> None:
        curs.execute(
            _statement("DELETE FROM {} WHERE registration_id = %s", table + self.suffix),
            (registration_id,),
        )


class ReadModelProjection(Projection[ReadModelView]):
    """Hands every event of the registration service to its view; events the view ignores still
    move the tracking position, so a query can wait for any command's position."""

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def tracking_table_for(projection_name: str, suffix: str = "") -> str:
    """The table eventsourcing's factory names for a projection: ``<name>_tracking``."""
    return f"{projection_name}_tracking{suffix}"


def notify(
    curs: Cursor[DictRow], projection_name: str, position: int, *, wait_for_flush: bool = True
) -> None:
    """Say on :data:`NOTIFY_CHANNEL` that the view is at ``position`` when the transaction commits.

    ``wait_for_flush=False`` also lets that commit return before its WAL reaches the disk
    (``synchronous_commit`` off for this transaction only), which is what a view's write to a
    read model asks for: a read model is derived from the event store, and its rows and tracking
    record are in the one transaction, so a server crash can lose only the last fraction of a
    second of view writes together with their tracking records, and the runner applies those
    events again from its tracking position. The commit is visible to other sessions at once
    either way. The event store's own commits, and a rebuild's swap, wait for the flush."""
    payload = (NOTIFY_CHANNEL, f"{projection_name}:{position}")
    if wait_for_flush:
        curs.execute("SELECT pg_notify(%s, %s)", payload)
    else:
        curs.execute(
            "SELECT pg_notify(%s, %s), set_config('synchronous_commit', 'off', true)", payload
        )


def upsert(curs: Cursor[DictRow], table: str, key: str, row: Mapping[str, Any]) -> None:
    columns = tuple(row)
    curs.execute(_upsert_statement(table, key, columns), [_adapt(row[c]) for c in columns])


@lru_cache(maxsize=256)
def _statement(template: LiteralString, table: str) -> bytes:
    """``template`` with ``table`` quoted into it, composed once: composing the same few statements
    anew for every event was about 8% of the projector's samples (py-spy under ``make bench``)."""
    return SQL(template).format(Identifier(table)).as_bytes(None)


@lru_cache(maxsize=256)
def _upsert_statement(table: str, key: str, columns: tuple[str, ...]) -> bytes:
    """The INSERT … ON CONFLICT of a row of ``columns`` (a view writes a few shapes), composed once."""
    return (
        SQL(
            "INSERT INTO {table} ({columns}) VALUES ({values})"
            " ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )
        .format(
            table=Identifier(table),
            columns=SQL(", ").join(Identifier(column) for column in columns),
            values=SQL(", ").join(SQL("%s") for _ in columns),
            key=Identifier(key),
            updates=SQL(", ").join(
                SQL("{0} = EXCLUDED.{0}").format(Identifier(column))
                for column in columns
                if column != key
            ),
        )
        .as_bytes(None)
    )


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, list | dict) else value


def mask_code(code: str | None) -> str | None:
    """A code with all but its last 4 digits hidden: ``7912345678`` → ``******5678``."""
    if not code:
        return None
    return "*" * max(len(code) - 4, 0) + code[-4:]


def text_at(request: Any, *path: str) -> str | None:
    """The text at ``path`` in a stored request, or None.

    A malformed request is recorded as it was sent (then auto-rejected), so a stored request may
    hold anything: every read model reads it through here and never assumes its shape.
    """
    value = request
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def child_code(request: Any) -> str | None:
    return text_at(request, "child", "social_insurance_code") or text_at(
        request, "child", "personal_id_number"
    )


def merged(existing: Sequence[str], new: Sequence[str]) -> list[str]:
    """Warnings in order of first appearance, each once (as the aggregate keeps them)."""
    result = list(existing)
    result.extend(item for item in new if item not in result)
    return result


def drop_statements(view: ReadModelView) -> list[Composed]:
    """``DROP TABLE`` for the view's tables and its tracking table (with the view's suffix)."""
    names = [view.table(name) for name in view.table_names]
    names.append(Identifier(view.tracking_table_name))
    return [SQL("DROP TABLE IF EXISTS {}").format(name) for name in names]


EVENTS = Registration
"""Shorthand for the event classes (``EVENTS.Approved``...)."""


# --- reading ----------------------------------------------------------------------------------


class Answer(BaseModel):
    """What a query over a read model answers: frozen plain data."""

    model_config = ConfigDict(frozen=True)


def fetch_one(conn: psycopg.Connection[Any], query: SQL | Composed, params: Any) -> Row | None:
    with conn.cursor(row_factory=dict_row) as curs:
        curs.execute(query, params)
        found: DictRow | None = curs.fetchone()
    return dict(found) if found is not None else None


def fetch_all(conn: psycopg.Connection[Any], query: SQL | Composed, params: Any) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as curs:
        curs.execute(query, params)
        return [dict(row) for row in curs.fetchall()]
