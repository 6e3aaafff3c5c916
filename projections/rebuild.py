"""Rebuild a read model from the event store, beside the live one, and swap it in.

The events are replayed (read through the application's mapper, so decrypted) into fresh
``_next`` tables with their own tracking table, while the live tables keep answering queries
and the live runner keeps them current. The swap is one transaction: lock the live tables (the
live runner waits, queries wait a moment), apply the events recorded since the replay, drop the
live tables and rename the fresh ones (tables, indexes, tracking table) to the live names. The
tracking position moves with the swap: a live runner that was behind it finds its next events
already applied (its tracking write is refused, its transaction rolls back) and carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.service import RegistrationService
from projections.base import (
    APPLICATION_NAME,
    NEXT_SUFFIX,
    ReadModelView,
    drop_statements,
    notify,
    tracking_table_for,
)
from projections.catalogue import ReadModel, factory, projection_env, read_models

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (read model, position reached, position to reach)."""


@dataclass(frozen=True)
class RebuildReport:
    name: str
    events: int
    """Events replayed into the fresh tables (including those applied during the swap)."""
    position: int
    """The tracking position the swapped-in tables have."""


def rebuild(
    event_store_env: Mapping[str, str],
    key: bytes,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    batch_size: int = 500,
) -> list[RebuildReport]:
    """Rebuild the named read models (all by default), one after another."""
    env = projection_env(event_store_env)
    models = read_models(key, names)
    app = RegistrationService(env)
    try:
        return [_rebuild(app, model, env, progress, batch_size) for model in models]
    finally:
        app.close()


def _rebuild(
    app: RegistrationService,
    model: ReadModel,
    env: Mapping[str, str],
    progress: Progress | None,
    batch_size: int,
) -> RebuildReport:
    made = factory(model, {**env, "CREATE_TABLE": "no"})
    try:
        live = model.view_class(made.datastore)
        live.create_table()  # so there is something to lock and swap, even on a new database
        fresh = model.view_class(
            made.datastore,
            tracking_table_name=tracking_table_for(model.name, NEXT_SUFFIX),
            suffix=NEXT_SUFFIX,
        )
        with made.datastore.transaction(commit=True) as curs:
            for statement in drop_statements(fresh):  # a rebuild interrupted earlier
                curs.execute(statement)
        fresh.create_table()
        log.info("rebuild.started", projection=model.name)

        target = app.recorder.max_notification_id() or 0
        position, events = 0, 0
        if progress:
            progress(model.name, 0, target)
        while position < target:
            with made.datastore.transaction(commit=True) as curs:
                applied, position = _replay(app, fresh, curs, position, batch_size, stop=target)
            if not applied:
                break
            events += applied
            if progress:
                progress(model.name, position, target)

        with made.datastore.transaction(commit=True) as curs:
            _lock(curs, live)
            while True:  # the events recorded while replaying; the live runner is held off now
                applied, position = _replay(app, fresh, curs, position, batch_size)
                if not applied:
                    break
                events += applied
            _swap(curs, live, fresh)
            notify(curs, model.name, position)
        if progress:
            progress(model.name, position, position)
        log.info("rebuild.swapped", projection=model.name, events=events, position=position)
        return RebuildReport(name=model.name, events=events, position=position)
    finally:
        made.close()


def _replay(
    app: RegistrationService,
    view: ReadModelView,
    curs: Cursor[DictRow],
    after: int,
    limit: int,
    stop: int | None = None,
) -> tuple[int, int]:
    notifications = app.recorder.select_notifications(
        start=after, limit=limit, stop=stop, inclusive_of_start=False
    )
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        view.write(curs, event, Tracking(APPLICATION_NAME, notification.id))
    if not notifications:
        return 0, after
    position = notifications[-1].id
    view._insert_tracking(curs, Tracking(APPLICATION_NAME, position))
    return len(notifications), position


def _lock(curs: Cursor[DictRow], live: ReadModelView) -> None:
    # The view tables before the tracking table: the order a runner's transaction writes them.
    tables = [live.table(name) for name in live.table_names]
    tables.append(Identifier(live.tracking_table_name))
    curs.execute(SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(SQL(", ").join(tables)))


def _swap(curs: Cursor[DictRow], live: ReadModelView, fresh: ReadModelView) -> None:
    for statement in drop_statements(live):
        curs.execute(statement)
    renames = [(fresh.table(name), Identifier(name), "TABLE") for name in live.table_names] + [
        (Identifier(name + fresh.suffix), Identifier(name), "INDEX") for name in live.index_names
    ]
    renames.append(
        (Identifier(fresh.tracking_table_name), Identifier(live.tracking_table_name), "TABLE")
    )
    renames.append(
        (
            Identifier(f"{fresh.tracking_table_name}_pkey"),
            Identifier(f"{live.tracking_table_name}_pkey"),
            "INDEX",
        )
    )
    for old, new, kind in renames:
        curs.execute(SQL(f"ALTER {kind} {{}} RENAME TO {{}}").format(old, new))
