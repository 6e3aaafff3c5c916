"""Schema set-up is an explicit step: ``childreg db migrate`` creates every table, idempotently,
and the worker creates none: on a database nobody migrated it stops at once and says what to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.workflow.conftest import TEST_KEY
from workers.bootstrap import WORKER_TABLES

BIN = Path(sys.executable).parent


def tables(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {name for (name,) in rows}


def childreg(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHILDREG_")}
    return subprocess.run(
        [str(BIN / "childreg"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **inherited,
            "CHILDREG_DATA_DIR": str(data_dir),
            "CHILDREG_DATABASE_URL": database_url,
            "CHILDREG_CIPHER_KEY": TEST_KEY,
            "CHILDREG_TEMPORAL_ADDRESS": "127.0.0.1:1",  # never reached
            "CHILDREG_LOG_FORMAT": "json",
        },
    )


def test_migrate_creates_every_table_the_worker_needs_and_again_changes_nothing(
    database_url: str, data_dir: Path
) -> None:
    first = childreg(database_url, data_dir, "db", "migrate")
    created = tables(database_url)
    again = childreg(database_url, data_dir, "db", "migrate")

    assert first.returncode == 0, first.stderr
    assert "child accounts" in first.stdout
    assert set(WORKER_TABLES) <= created
    assert {"rm_registration_status", "rm_review_queue", "audit_checkpoints"} <= created
    assert again.returncode == 0, again.stderr
    assert tables(database_url) == created


def test_the_worker_on_an_unmigrated_database_stops_and_names_what_to_run(
    database_url: str, data_dir: Path
) -> None:
    done = childreg(database_url, data_dir, "worker")

    assert done.returncode == 1
    assert "run `childreg db migrate` first" in done.stderr
    for table in WORKER_TABLES:
        assert table in done.stderr
    assert tables(database_url) == set()  # it created nothing


def test_the_worker_names_only_the_tables_that_are_missing(
    database_url: str, data_dir: Path
) -> None:
    assert childreg(database_url, data_dir, "db", "migrate").returncode == 0
    with psycopg.connect(database_url) as connection:
        connection.execute("DROP TABLE registry_child_accounts")

    done = childreg(database_url, data_dir, "worker")

    assert done.returncode == 1
    assert "no table registry_child_accounts: run `childreg db migrate` first" in done.stderr
