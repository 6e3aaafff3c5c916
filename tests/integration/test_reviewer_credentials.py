"""The reviewers' passwords in a real PostgreSQL, set through ``childreg reviewers set-password``;
the console signs in against them, with the same rules as the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from activities.registry.store import PostgresRegistry
from activities.reviewer_credentials import (
    PostgresReviewerCredentials,
    ReviewerCredentials,
    SignInClient,
    SignInMethod,
    SignInOutcome,
)
from tests.fakes.credentials import InMemoryReviewerCredentials
from web.console.signin import Authenticator, SignInResult
from workers.bootstrap import migrate
from workers.cli import app
from workers.run.demo import DEMO_REGISTRY

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
PASSWORD = "mật khẩu của Thu Hà 2026"


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool]:
    migrate(database_url)
    with ConnectionPool(database_url, min_size=1, max_size=4, open=True) as pool:
        yield pool


@pytest.fixture(params=["postgres", "memory"])
def store(request: pytest.FixtureRequest, pool: ConnectionPool) -> ReviewerCredentials:
    if request.param == "postgres":
        return PostgresReviewerCredentials(pool)
    return InMemoryReviewerCredentials()


def test_the_fifth_failure_locks_and_starts_the_count_again(store: ReviewerCredentials) -> None:
    store.set_password("rv-79001-01", "$argon2id$hash", AT)

    after = [
        store.record_failure("rv-79001-01", AT, lock_after=5, lock_for=timedelta(minutes=15))
        for _ in range(5)
    ]

    assert [a.failed_attempts for a in after if a] == [1, 2, 3, 4, 0]
    assert after[3] is not None
    assert after[3].locked_until is None
    assert after[4] is not None
    assert after[4].locked_until == AT + timedelta(minutes=15)


def test_a_new_password_clears_the_lock(store: ReviewerCredentials) -> None:
    store.set_password("rv-79001-01", "$argon2id$old", AT)
    for _ in range(5):
        store.record_failure("rv-79001-01", AT, lock_after=5, lock_for=timedelta(minutes=15))

    store.set_password("rv-79001-01", "$argon2id$new", AT)

    credential = store.credential("rv-79001-01")
    assert credential is not None
    assert (credential.password_hash, credential.locked_until) == ("$argon2id$new", None)


def test_a_reviewer_without_a_password_has_nothing_to_lock(store: ReviewerCredentials) -> None:
    failure = store.record_failure("rv-nobody", AT, lock_after=5, lock_for=timedelta(minutes=15))

    assert failure is None
    assert store.credential("rv-nobody") is None


def test_the_records_keep_the_order_of_the_attempts(store: ReviewerCredentials) -> None:
    store.record("rv-79001-01", SignInOutcome.FAILED, AT)
    store.record("rv-79001-01", SignInOutcome.SIGNED_IN, AT + timedelta(seconds=1))
    store.record("rv-79001-02", SignInOutcome.FAILED, AT)

    history = store.history("rv-79001-01")

    assert [r.outcome for r in history] == [SignInOutcome.FAILED, SignInOutcome.SIGNED_IN]


def test_a_record_keeps_the_client_and_the_method(store: ReviewerCredentials) -> None:
    store.record("rv-79001-01", SignInOutcome.FAILED, AT)
    store.record("rv-79001-01", SignInOutcome.SIGNED_IN, AT, SignInClient.CLI, SignInMethod.OIDC)

    history = store.history("rv-79001-01")

    assert [(r.client, r.method) for r in history] == [
        (SignInClient.CONSOLE, SignInMethod.PASSWORD),
        (SignInClient.CLI, SignInMethod.OIDC),
    ]


def test_set_password_from_stdin_then_sign_in_against_postgres(
    database_url: str, tmp_path: Path, pool: ConnectionPool
) -> None:
    env = {"CHILDREG_DATABASE_URL": database_url, "CHILDREG_DATA_DIR": str(tmp_path / "var")}
    runner = CliRunner()
    runner.invoke(app, ["registry", "load", str(DEMO_REGISTRY)], env=env)

    done = runner.invoke(
        app,
        ["reviewers", "set-password", "rv-79001-01", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    unknown = runner.invoke(
        app, ["reviewers", "set-password", "rv-nobody"], input=PASSWORD + "\n", env=env
    )
    short = runner.invoke(
        app, ["reviewers", "set-password", "rv-79001-01"], input="short\n", env=env
    )

    assert done.exit_code == 0, done.output
    assert "password set for rv-79001-01" in done.output
    assert PASSWORD not in done.output
    assert unknown.exit_code == 1
    assert "reviewer_id: no reviewer with this id" in unknown.output
    assert short.exit_code == 2
    assert "password: at least 12 characters" in short.output
    signing_in = Authenticator(
        PostgresReviewerCredentials(pool), PostgresRegistry(pool), lambda: AT
    )
    assert signing_in.sign_in("rv-79001-01", PASSWORD).result is SignInResult.SIGNED_IN
    assert signing_in.sign_in("rv-79001-01", "not it at all").result is SignInResult.FAILED
