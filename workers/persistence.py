"""The event store's configuration: eventsourcing reads it as environment-style settings."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from domain.service import RegistrationService

EVENTS_TABLE = f"{RegistrationService.name}_events"


def event_store_env(
    database_url: str, cipher_key: str | None, *, create_tables: bool = True
) -> dict[str, str]:
    """eventsourcing's PostgreSQL settings for ``database_url``; AES-GCM when a key is given."""
    parts = conninfo_to_dict(database_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "localhost"),
        "POSTGRES_PORT": str(parts.get("port") or "5432"),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "5",
        "CREATE_TABLE": "yes" if create_tables else "no",
    }
    if cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
        env["CIPHER_KEY"] = cipher_key
    return env


def registration_service(
    database_url: str, cipher_key: str | None, *, create_tables: bool = True
) -> RegistrationService:
    return RegistrationService(
        env=event_store_env(database_url, cipher_key, create_tables=create_tables)
    )


def store_position(connection: psycopg.Connection[Any]) -> int:
    """The notification id of the newest event in the store (0 when it is empty). A command
    reports it, and a query waits until the read models have reached it (read-your-writes)."""
    row = connection.execute(
        f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"  # noqa: S608  (a constant)
    ).fetchone()
    return int(row[0]) if row else 0
