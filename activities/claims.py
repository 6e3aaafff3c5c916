"""Claims on a child: at most one open registration per child, race-free.

The identity check claims the child before it looks for an active account; the claim is released
when the registration reaches a final outcome. Two registrations checked at the same moment meet
at the table's primary key: one of them holds the claim, the other is told the child already has
a registration in progress.
"""

from __future__ import annotations

from uuid import UUID

from psycopg_pool import ConnectionPool

from activities.schema import create_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_child_claims (
    child_code      text PRIMARY KEY CHECK (child_code ~ '^[0-9]{10}$'),
    registration_id uuid NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS registry_child_claims_registration
    ON registry_child_claims (registration_id);
"""

_SCHEMA_LOCK = 0x63_6C_61_69_6D_73  # "claims": serialises concurrent schema creation


class PostgresChildClaims:
    """``domain.identity.ChildClaims``: the claims table over a connection pool the caller owns."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_schema(self) -> None:
        create_schema(self._pool, SCHEMA, _SCHEMA_LOCK)

    def claim(self, child_code: str, registration_id: UUID) -> UUID:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                "INSERT INTO registry_child_claims (child_code, registration_id) VALUES (%s, %s)"
                " ON CONFLICT (child_code) DO NOTHING",
                (child_code, registration_id),
            )
            row = connection.execute(
                "SELECT registration_id FROM registry_child_claims WHERE child_code = %s",
                (child_code,),
            ).fetchone()
        if row is None:  # released between the two statements: try again
            return self.claim(child_code, registration_id)
        holder: UUID = row[0]
        return holder

    def release(self, registration_id: UUID) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                "DELETE FROM registry_child_claims WHERE registration_id = %s", (registration_id,)
            )
