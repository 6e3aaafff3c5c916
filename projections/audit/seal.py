"""The global chain over the notification log, sealed in checkpoints kept apart from the events.

The per-registration hash chain (:mod:`domain.chain`) proves each history is intact as long as
the history is there; it cannot see a whole registration deleted, the newest events of the
store removed, or a history rewritten end to end with freshly computed links (the chain is
unkeyed). The sealer closes those gaps. It walks the log in notification-id order and extends a
global chain::

    link(n) = sha256(link(n-1) "\\n" notification_id "|" originator_id "|" version "|" topic "|"
                     sha256(state bytes))

over the raw rows (no key needed: the stored bytes are what is sealed), and records, in its own
tables (never the events table):

- ``audit_checkpoints``: the chain's digest every N events (``periodic``) and at the head of the
  last seal (the head row is replaced by the next seal);
- ``audit_sealed_streams``: per registration, the last sealed version, its notification id and
  the SHA-256 of that row's bytes.

``childreg audit verify --all`` recomputes the global chain and compares it with every
checkpoint, and checks every sealed stream is still there up to its sealed version with the
same bytes. Events recorded after the last seal are reported as unsealed, not as findings.

Why the head is safe to seal: eventsourcing's PostgreSQL recorder takes an exclusive lock on the
events table for each insert, so notification ids become visible in order and no event can
later appear below a sealed position.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from projections.audit.store import StoredRow, rows_in_log_order

GENESIS = "0" * 64
CHECKPOINTS = "audit_checkpoints"
SEALED_STREAMS = "audit_sealed_streams"
DEFAULT_EVERY = 100

_LOCK_KEY = 0x63687265_67617564  # "chregaud": one sealer at a time

SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
        events          bigint NOT NULL PRIMARY KEY,
        notification_id bigint NOT NULL,
        digest          text NOT NULL,
        periodic        boolean NOT NULL,
        sealed_at       timestamptz NOT NULL DEFAULT now()
    )""",
    f"""CREATE TABLE IF NOT EXISTS {SEALED_STREAMS} (
        originator_id   uuid NOT NULL PRIMARY KEY,
        version         bigint NOT NULL,
        notification_id bigint NOT NULL,
        state_sha256    text NOT NULL,
        sealed_at       timestamptz NOT NULL DEFAULT now()
    )""",
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    events: int
    """How many events the chain covers at this checkpoint."""
    notification_id: int
    """The notification id of the last event covered."""
    digest: str
    periodic: bool


@dataclass(frozen=True, slots=True)
class StreamSeal:
    originator_id: UUID
    version: int
    notification_id: int
    state_sha256: str


@dataclass(frozen=True, slots=True)
class SealReport:
    sealed: int
    """Events added to the chain by this seal."""
    head: Checkpoint | None


def create_schema(connection: psycopg.Connection[Any]) -> None:
    with connection.transaction():
        for statement in SCHEMA:
            connection.execute(statement)


def link(previous: str, row: StoredRow) -> str:
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(
        f"\n{row.notification_id}|{row.originator_id}|{row.originator_version}|{row.topic}|"
        f"{row.state_sha256()}".encode()
    )
    return digest.hexdigest()


def tables_exist(connection: psycopg.Connection[Any]) -> bool:
    cursor = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (CHECKPOINTS,))
    found = cursor.fetchone()
    return bool(found and found[0])


def checkpoints(connection: psycopg.Connection[Any]) -> list[Checkpoint]:
    if not tables_exist(connection):
        return []
    cursor = connection.execute(
        f"SELECT events, notification_id, digest, periodic FROM {CHECKPOINTS} ORDER BY events"  # noqa: S608
    )
    return [Checkpoint(int(e), int(n), d, bool(p)) for e, n, d, p in cursor.fetchall()]


def stream_seals(connection: psycopg.Connection[Any]) -> dict[UUID, StreamSeal]:
    if not tables_exist(connection):
        return {}
    cursor = connection.execute(
        f"SELECT originator_id, version, notification_id, state_sha256 FROM {SEALED_STREAMS}"  # noqa: S608
    )
    return {
        oid: StreamSeal(oid, int(version), int(nid), sha)
        for oid, version, nid, sha in cursor.fetchall()
    }


def seal(connection: psycopg.Connection[Any], every: int = DEFAULT_EVERY) -> SealReport:
    """Extend the global chain over the events recorded since the last seal (one transaction,
    one sealer at a time). Needs a role that may write the audit tables (not the auditors')."""
    if every < 1:
        raise ValueError("every: a checkpoint needs at least 1 event")
    create_schema(connection)
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        found = checkpoints(connection)
        head = found[-1] if found else Checkpoint(0, 0, GENESIS, True)
        count, digest, position = head.events, head.digest, head.notification_id
        new_periodic: list[Checkpoint] = []
        streams: dict[UUID, StreamSeal] = {}
        for row in rows_in_log_order(connection, after=head.notification_id):
            digest = link(digest, row)
            count += 1
            position = row.notification_id
            if count % every == 0:
                new_periodic.append(Checkpoint(count, position, digest, True))
            streams[row.originator_id] = StreamSeal(
                row.originator_id, row.originator_version, row.notification_id, row.state_sha256()
            )
        sealed = count - head.events
        if not sealed:
            return SealReport(0, head if found else None)
        with connection.cursor() as cursor:
            # The previous head is superseded unless it was also a periodic checkpoint.
            cursor.execute(f"DELETE FROM {CHECKPOINTS} WHERE NOT periodic")  # noqa: S608
            rows = [(c.events, c.notification_id, c.digest, c.periodic) for c in new_periodic]
            if not new_periodic or new_periodic[-1].events != count:
                rows.append((count, position, digest, False))
            cursor.executemany(
                f"INSERT INTO {CHECKPOINTS} (events, notification_id, digest, periodic) "  # noqa: S608
                "VALUES (%s, %s, %s, %s)",
                rows,
            )
            cursor.executemany(
                f"INSERT INTO {SEALED_STREAMS} AS s "  # noqa: S608
                "(originator_id, version, notification_id, state_sha256) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (originator_id) DO UPDATE SET version = EXCLUDED.version, "
                "notification_id = EXCLUDED.notification_id, "
                "state_sha256 = EXCLUDED.state_sha256, sealed_at = now() "
                "WHERE s.version < EXCLUDED.version",
                [
                    (s.originator_id, s.version, s.notification_id, s.state_sha256)
                    for s in streams.values()
                ],
            )
        return SealReport(sealed, Checkpoint(count, position, digest, count % every == 0))
