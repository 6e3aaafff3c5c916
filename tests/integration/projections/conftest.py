"""Fixtures for the read models: a service over a fresh database, the query side, runners."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from domain.service import RegistrationService
from projections.catalogue import create_schema, digest_key
from projections.queries import ReadModels
from tests.builders.registrations import Registrar
from workers.bootstrap import event_store_env, registration_service

KEY = digest_key("a link secret for the tests")


@pytest.fixture
def env(database_url: str, cipher_key: str) -> dict[str, str]:
    return event_store_env(database_url, cipher_key)


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, cipher_key)
    yield app
    app.close()


@pytest.fixture
def registrar(service: RegistrationService) -> Registrar:
    return Registrar(service)


@pytest.fixture
def read_models(database_url: str, env: dict[str, str]) -> Iterator[ReadModels]:
    with query_side(database_url, env) as models:
        yield models


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database for one hypothesis example (function fixtures don't reset per example)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield str(psycopg.conninfo.make_conninfo(server_url, dbname=name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def query_side(database_url: str, env: dict[str, str]) -> Iterator[ReadModels]:
    create_schema(env)
    pool: ConnectionPool = ConnectionPool(database_url, min_size=1, max_size=4, open=False)
    pool.open()
    try:
        yield ReadModels(pool, KEY)
    finally:
        pool.close()
