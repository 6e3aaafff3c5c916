"""Creating an adapter's tables: an idempotent script, serialised across processes.

``CREATE TABLE IF NOT EXISTS`` is not safe against itself: two processes migrating at once can
both find a table missing and one then fails on the catalogue's unique index. A transaction-scoped
advisory lock per script makes the second wait for the first, then find everything there.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool


def create_schema(pool: ConnectionPool, script: str, lock_key: int) -> None:
    """Run ``script`` (idempotent DDL) in one transaction under the advisory lock ``lock_key``."""
    with pool.connection() as connection:
        apply_schema(connection, script, lock_key)


def apply_schema(connection: psycopg.Connection[Any], script: str, lock_key: int) -> None:
    """The same on a connection of the caller's (one that is not from a pool)."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        connection.execute(script)
