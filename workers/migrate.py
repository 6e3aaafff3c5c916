"""Schema set-up, as an explicit step (``childreg db migrate``): never a side effect of a write.

Every statement is idempotent (CREATE … IF NOT EXISTS), so migrating again changes nothing.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from activities.claims import PostgresChildClaims
from activities.registry import PostgresRegistry
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
        with pool.connection() as connection:
            create_audit_tables(connection)
    read_models = create_read_models(event_store_env(database_url, None))
    return ["event store", "registry", "child claims", "audit seals", *read_models]
