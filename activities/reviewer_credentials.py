"""Reviewers' passwords and sign-in attempts, in PostgreSQL tables of their own.

The console (``web/console``) signs reviewers in against this store: an argon2id hash per reviewer
(set with ``childreg reviewers set-password``), a count of consecutive failures and the time until
which the account is locked. Every attempt is recorded in ``reviewer_sign_ins`` (who, what outcome,
when): never the password, never the client's address. The failure count and the lock change in
one statement, so two wrong passwords at the same moment are both counted.

Each attempt also says which client it came through (the console or ``childreg review``) and by
which method (a password, or an ID token of the organisation's OIDC provider).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from activities.schema import create_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS reviewer_credentials (
    reviewer_id     text PRIMARY KEY,
    password_hash   text NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    updated_at      timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS reviewer_sign_ins (
    id          bigserial PRIMARY KEY,
    reviewer_id text NOT NULL,
    outcome     text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reviewer_sign_ins_reviewer ON reviewer_sign_ins (reviewer_id, at);
ALTER TABLE reviewer_sign_ins ADD COLUMN IF NOT EXISTS client text NOT NULL DEFAULT 'console';
ALTER TABLE reviewer_sign_ins ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'password';
"""

_SCHEMA_LOCK = 0x72_65_76_70_77_64  # "revpwd": serialises concurrent schema creation


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    FAILED = "failed"
    """A wrong password, an unknown reviewer id or a reviewer without a password."""
    LOCKED = "locked"
    """The failure that locked the account."""
    REFUSED_LOCKED = "refused_locked"
    """An attempt while the account was locked (not checked, not counted)."""
    REFUSED_INACTIVE = "refused_inactive"
    SIGNED_OUT = "signed_out"
    PASSWORD_SET = "password_set"  # noqa: S105  (an outcome, not a password)


class SignInClient(StrEnum):
    CONSOLE = "console"
    CLI = "cli"
    """``childreg review``: every decision is its own sign-in."""


class SignInMethod(StrEnum):
    PASSWORD = "password"  # noqa: S105  (a method, not a password)
    OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class Credential:
    password_hash: str
    failed_attempts: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class SignInRecord:
    reviewer_id: str
    outcome: SignInOutcome
    at: datetime
    client: SignInClient = SignInClient.CONSOLE
    method: SignInMethod = SignInMethod.PASSWORD


class ReviewerCredentials(Protocol):
    """The port the console signs in against."""

    def set_password(self, reviewer_id: str, password_hash: str, at: datetime) -> None:
        """Store the hash; clears the failures and any lock."""

    def credential(self, reviewer_id: str) -> Credential | None: ...

    def record_failure(
        self, reviewer_id: str, at: datetime, *, lock_after: int, lock_for: timedelta
    ) -> Credential | None:
        """Count one failure; the ``lock_after``-th locks the account until ``at + lock_for``
        (and starts the count again). None when the reviewer has no password."""

    def record_success(self, reviewer_id: str) -> None:
        """Clear the failures."""

    def record(
        self,
        reviewer_id: str,
        outcome: SignInOutcome,
        at: datetime,
        client: SignInClient = SignInClient.CONSOLE,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> None: ...

    def history(self, reviewer_id: str) -> list[SignInRecord]: ...


class PostgresReviewerCredentials:
    """:class:`ReviewerCredentials` over a connection pool the caller owns."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_schema(self) -> None:
        create_schema(self._pool, SCHEMA, _SCHEMA_LOCK)

    def set_password(self, reviewer_id: str, password_hash: str, at: datetime) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                "INSERT INTO reviewer_credentials (reviewer_id, password_hash, updated_at)"
                " VALUES (%s, %s, %s) ON CONFLICT (reviewer_id) DO UPDATE SET"
                " password_hash = EXCLUDED.password_hash, failed_attempts = 0,"
                " locked_until = NULL, updated_at = EXCLUDED.updated_at",
                (reviewer_id, password_hash, at),
            )
            self._insert(connection, reviewer_id, SignInOutcome.PASSWORD_SET, at)

    def credential(self, reviewer_id: str) -> Credential | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                "SELECT password_hash, failed_attempts, locked_until FROM reviewer_credentials"
                " WHERE reviewer_id = %s",
                (reviewer_id,),
            ).fetchone()
        return None if row is None else Credential(row[0], row[1], row[2])

    def record_failure(
        self, reviewer_id: str, at: datetime, *, lock_after: int, lock_for: timedelta
    ) -> Credential | None:
        with self._pool.connection() as connection, connection.transaction():
            row = connection.execute(
                "UPDATE reviewer_credentials SET"
                " locked_until = CASE WHEN failed_attempts + 1 >= %(after)s"
                "   THEN %(until)s ELSE locked_until END,"
                " failed_attempts = CASE WHEN failed_attempts + 1 >= %(after)s"
                "   THEN 0 ELSE failed_attempts + 1 END"
                " WHERE reviewer_id = %(id)s"
                " RETURNING password_hash, failed_attempts, locked_until",
                {"after": lock_after, "until": at + lock_for, "id": reviewer_id},
            ).fetchone()
        return None if row is None else Credential(row[0], row[1], row[2])

    def record_success(self, reviewer_id: str) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                "UPDATE reviewer_credentials SET failed_attempts = 0 WHERE reviewer_id = %s",
                (reviewer_id,),
            )

    def record(
        self,
        reviewer_id: str,
        outcome: SignInOutcome,
        at: datetime,
        client: SignInClient = SignInClient.CONSOLE,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> None:
        with self._pool.connection() as connection, connection.transaction():
            self._insert(connection, reviewer_id, outcome, at, client, method)

    def history(self, reviewer_id: str) -> list[SignInRecord]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT reviewer_id, outcome, at, client, method FROM reviewer_sign_ins"
                " WHERE reviewer_id = %s ORDER BY id",
                (reviewer_id,),
            ).fetchall()
        return [
            SignInRecord(
                row[0], SignInOutcome(row[1]), row[2], SignInClient(row[3]), SignInMethod(row[4])
            )
            for row in rows
        ]

    @staticmethod
    def _insert(
        connection: psycopg.Connection[Any],
        reviewer_id: str,
        outcome: SignInOutcome,
        at: datetime,
        client: SignInClient = SignInClient.CONSOLE,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> None:
        connection.execute(
            "INSERT INTO reviewer_sign_ins (reviewer_id, outcome, at, client, method)"
            " VALUES (%s, %s, %s, %s, %s)",
            (reviewer_id, outcome.value, at, client.value, method.value),
        )
