"""The event store's configuration: eventsourcing reads it as environment-style settings."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from domain.service import RegistrationService


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
