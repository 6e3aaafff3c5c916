"""Wiring shared by the composition roots: where the database is, which keys are in force."""

from __future__ import annotations

from dataclasses import dataclass

from workers.embedded import generated_key, start_postgres
from workers.settings import Settings


@dataclass(frozen=True)
class Resolved:
    """The settings with the embedded defaults filled in."""

    database_url: str
    cipher_key: str | None
    link_secret: str


def resolve(settings: Settings) -> Resolved:
    """Fill in the embedded defaults: start the embedded PostgreSQL and generate keys when needed.

    Keys are generated only beside the embedded database; with an external database a missing
    cipher key means "store in plain text" (the README says so) and the link secret is required.
    """
    cipher_key: str | None
    if settings.database_url is None:
        database_url = start_postgres(settings.data_dir)
        cipher_key = (
            settings.cipher_key.get_secret_value()
            if settings.cipher_key
            else generated_key(settings.data_dir, "cipher.key")
        )
    else:
        database_url = settings.database_url
        cipher_key = settings.cipher_key.get_secret_value() if settings.cipher_key else None
    link_secret = (
        settings.link_secret.get_secret_value()
        if settings.link_secret
        else generated_key(settings.data_dir, "link.key")
    )
    return Resolved(database_url=database_url, cipher_key=cipher_key, link_secret=link_secret)
