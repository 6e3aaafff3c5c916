"""``audit rebuild --check``: replay the events into scratch read models and compare them with
the live ones, row by row, without touching the live ones.

It reuses the read models' own machinery: each view class writes the replayed events through its
``write`` method, as the projection runners and :mod:`projections.rebuild` do, into tables with
the ``_check`` suffix. Those are *temporary* tables (``CREATE TEMP TABLE … (LIKE live INCLUDING
ALL)``): they live in the auditor's session only and vanish with it, so the check needs no write
privilege on anything shared. They are created in one short transaction (PostgreSQL refuses
``CREATE`` in a read-only transaction, even for temporary tables); the replay and the comparison
then run in one read-only repeatable-read transaction (writing temporary tables is allowed
there), so the live rows, their tracking position and the events are one snapshot.

Each read model is replayed up to its own tracking position, so a projector that is merely
behind is not reported as a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier

from projections.audit.store import (
    ErasedData,
    EventDecoder,
    UndecodableEvent,
    rows_in_log_order,
)
from projections.base import APPLICATION_NAME, ReadModelView, tracking_table_for
from projections.catalogue import factory, projection_env, read_models

CHECK_SUFFIX = "_check"
_KEY = "registration_id"

Progress = Callable[[str, int, int], None]
"""Called with (read model, position reached, position to reach)."""


@dataclass(frozen=True, slots=True)
class Difference:
    read_model: str
    table: str
    registration_id: str
    what: str
    """``missing`` (replay has it, live doesn't), ``unexpected`` (live only), or the columns
    that differ with both values."""


@dataclass(frozen=True, slots=True)
class ReadModelCheck:
    name: str
    position: int
    rows: int
    differences: list[Difference] = field(default_factory=list)


def check(
    connection: psycopg.Connection[Any],
    event_store_env: Mapping[str, str],
    key: bytes,
    decoder: EventDecoder,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> list[ReadModelCheck]:
    """Compare every named read model (all by default) with a replay of the event store."""
    env = {**projection_env(event_store_env), "CREATE_TABLE": "no"}
    results = []
    for model in read_models(key, names):
        made = factory(model, env)
        try:
            scratch = model.view_class(made.datastore, suffix=CHECK_SUFFIX)
            results.append(_check(connection, scratch, decoder, progress))
        finally:
            made.close()
    return results


def _exists(connection: psycopg.Connection[Any], table: str) -> bool:
    found = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(found and found[0])


def _check(
    connection: psycopg.Connection[Any],
    scratch: ReadModelView,
    decoder: EventDecoder,
    progress: Progress | None,
) -> ReadModelCheck:
    name = scratch.projection_name
    live_tracking = tracking_table_for(name)
    if not all(_exists(connection, table) for table in (*scratch.table_names, live_tracking)):
        return ReadModelCheck(
            name, 0, 0, [Difference(name, "-", "-", "the live read model does not exist")]
        )
    read_only = connection.read_only
    connection.read_only = False
    try:
        with connection.transaction():
            for table in scratch.table_names:
                connection.execute(
                    SQL(
                        "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING ALL) "
                        "ON COMMIT PRESERVE ROWS"
                    ).format(scratch.table(table), Identifier(table))
                )
                connection.execute(SQL("TRUNCATE {}").format(scratch.table(table)))
    finally:
        connection.read_only = read_only
    with connection.transaction():
        found = connection.execute(
            SQL("SELECT max(notification_id) FROM {} WHERE application_name = %s").format(
                Identifier(live_tracking)
            ),
            (APPLICATION_NAME,),
        ).fetchone()
        position = int(found[0]) if found and found[0] is not None else 0
        differences: list[Difference] = []
        if progress:
            progress(name, 0, position)
        with connection.cursor(row_factory=dict_row) as curs:
            for row in rows_in_log_order(connection, upto=position):
                try:
                    event = decoder.decode(row)
                except ErasedData:
                    continue  # an erased registration's: its ``Erased`` says what is kept
                except UndecodableEvent as error:
                    differences.append(
                        Difference(name, "-", str(row.originator_id), f"event unreadable: {error}")
                    )
                    continue
                scratch.write(curs, event, Tracking(APPLICATION_NAME, row.notification_id))
                if progress and row.notification_id % 500 == 0:
                    progress(name, row.notification_id, position)
        rows = 0
        for table in scratch.table_names:
            live = _rows(connection, Identifier(table))
            fresh = _rows(connection, scratch.table(table))
            rows += len(live)
            differences.extend(_compare(name, table, live, fresh))
        if progress:
            progress(name, position, position)
    return ReadModelCheck(name, position, rows, differences)


def _rows(connection: psycopg.Connection[Any], table: Identifier) -> dict[str, dict[str, Any]]:
    with connection.cursor(row_factory=dict_row) as curs:
        curs.execute(SQL("SELECT * FROM {}").format(table))
        return {str(row[_KEY]): dict(row) for row in curs.fetchall()}


def _compare(
    name: str,
    table: str,
    live: Mapping[str, Mapping[str, Any]],
    fresh: Mapping[str, Mapping[str, Any]],
) -> list[Difference]:
    differences = []
    for key in sorted(live.keys() | fresh.keys()):
        if key not in live:
            differences.append(Difference(name, table, key, "missing from the live read model"))
        elif key not in fresh:
            differences.append(Difference(name, table, key, "in the live read model only"))
        else:
            changed = [
                f"{column}: live {_shown(live[key].get(column))} != "
                f"replayed {_shown(fresh[key].get(column))}"
                for column in sorted(live[key].keys() | fresh[key].keys())
                if live[key].get(column) != fresh[key].get(column)
            ]
            if changed:
                differences.append(Difference(name, table, key, "; ".join(changed)))
    return differences


def _shown(value: Any) -> str:
    """Read-model rows hold no personal data (codes are masked, guardians are digests), so a
    value can be shown; long ones (digests) are shortened."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"
