"""Schema set-up, as an explicit step (``childreg db migrate``): never a side effect of a write.

Every statement is idempotent (CREATE … IF NOT EXISTS), so migrating again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from psycopg_pool import ConnectionPool

from activities import accounts, claims, registry
from activities.accounts import PostgresChildAccounts
from activities.claims import PostgresChildClaims
from activities.registry import PostgresRegistry
from domain.service import RegistrationService
from projections.audit.seal import create_schema as create_audit_tables
from projections.catalogue import create_schema as create_read_models
from workers.persistence import event_store_env, registration_service


def migrate(database_url: str) -> list[str]:
    """Create every table the service needs; returns the names of the parts set up."""
    service = registration_service(database_url, None, create_tables=True)
    service.close()
    with ConnectionPool(database_url, min_size=1, max_size=2, open=True) as pool:
        PostgresRegistry(pool).create_schema()
        PostgresChildClaims(pool).create_schema()
        PostgresChildAccounts(pool).create_schema()
        with pool.connection() as connection:
            create_audit_tables(connection)
    read_models = create_read_models(event_store_env(database_url, None))
    return [
        "event store",
        "registry",
        "child claims",
        "child accounts",
        "audit seals",
        *read_models,
    ]


def tables_created(schema: str) -> tuple[str, ...]:
    """The tables a schema script creates, in its order."""
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema))


WORKER_TABLES = (
    f"{RegistrationService.name}_events",
    *tables_created(registry.SCHEMA),
    *tables_created(claims.SCHEMA),
    *tables_created(accounts.SCHEMA),
)
"""The tables the worker reads and writes; it checks them at start and creates none."""


class SchemaMissing(RuntimeError):
    """The database lacks tables a process needs: ``childreg db migrate`` has not been run."""


def require_tables(pool: ConnectionPool, tables: Iterable[str]) -> None:
    """Raise ``SchemaMissing`` naming every one of ``tables`` the database does not have."""
    with pool.connection() as connection:
        rows = connection.execute(
            "SELECT name FROM unnest(%s::text[]) WITH ORDINALITY AS t(name, n)"
            " WHERE to_regclass(name) IS NULL ORDER BY n",
            (list(tables),),
        ).fetchall()
    if rows:
        missing = ", ".join(name for (name,) in rows)
        raise SchemaMissing(f"the database has no table {missing}: run `childreg db migrate` first")
