"""``childreg review`` proves the reviewer before it sends anything: the console password (the same
store, the same lock) or an ID token of the organisation's OIDC provider; every attempt recorded.

The commands run as processes against a real PostgreSQL and a Temporal address nobody answers at:
a command that got past the reviewer's check says Temporal is out of reach; one refused never
tries Temporal at all."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from activities.reviewer_credentials import (
    PostgresReviewerCredentials,
    SignInClient,
    SignInMethod,
    SignInOutcome,
)
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, mock_provider
from workers.bootstrap import migrate
from workers.cli import app
from workers.run.demo import DEMO_REGISTRY

BIN = Path(sys.executable).parent
REVIEWER = "rv-79001-01"
PASSWORD = "mật khẩu của Thu Hà 2026"
OUT_OF_REACH = "error: Temporal is out of reach"
REQUEST = "vssid-20261125-000124"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        "CHILDREG_DATABASE_URL": database_url,
        "CHILDREG_DATA_DIR": str(tmp_path / "var"),
        "CHILDREG_TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    migrate(database_url)
    runner = CliRunner()
    assert runner.invoke(app, ["registry", "load", str(DEMO_REGISTRY)], env=env).exit_code == 0
    done = runner.invoke(
        app, ["reviewers", "set-password", REVIEWER], input=PASSWORD + "\n", env=env
    )
    assert done.exit_code == 0, done.output
    return env


@pytest.fixture
def credentials(database_url: str) -> Iterator[PostgresReviewerCredentials]:
    with ConnectionPool(database_url, min_size=1, max_size=2, open=True) as pool:
        yield PostgresReviewerCredentials(pool)


def review(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "childreg"), "review", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(BIN), **env},
        check=False,
    )


def attempts(credentials: PostgresReviewerCredentials) -> list[tuple[str, str, str]]:
    return [
        (r.outcome.value, r.client.value, r.method.value)
        for r in credentials.history(REVIEWER)
        if r.outcome is not SignInOutcome.PASSWORD_SET
    ]


def test_a_wrong_password_sends_nothing_and_is_recorded(
    env: dict[str, str], credentials: PostgresReviewerCredentials
) -> None:
    wrong = review(env, "approve", REQUEST, "--reviewer", REVIEWER, stdin="not the password\n")

    assert wrong.returncode == 1
    assert wrong.stderr.splitlines() == ["refused: wrong reviewer id or password; nothing was sent"]
    assert attempts(credentials) == [("failed", "cli", "password")]


def test_the_right_password_lets_the_decision_go_to_temporal(
    env: dict[str, str], credentials: PostgresReviewerCredentials
) -> None:
    sent = review(
        env, "reject", REQUEST, "--reviewer", REVIEWER, "--reason", "PHOTO_UNCLEAR",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip

    assert sent.returncode == 1
    assert sent.stderr.startswith(OUT_OF_REACH)  # past the reviewer's check
    assert sent.stdout == ""
    assert PASSWORD not in sent.stderr + sent.stdout
    assert attempts(credentials) == [("signed_in", "cli", "password")]


def test_the_consoles_lock_holds_for_the_command_too(
    env: dict[str, str], credentials: PostgresReviewerCredentials
) -> None:
    for _ in range(4):  # four failures at the console
        credentials.record_failure(
            REVIEWER, datetime.now(UTC), lock_after=5, lock_for=timedelta(minutes=15)
        )

    fifth = review(env, "approve", REQUEST, "--reviewer", REVIEWER, stdin="still wrong\n")
    right = review(env, "approve", REQUEST, "--reviewer", REVIEWER, stdin=PASSWORD + "\n")

    assert fifth.returncode == right.returncode == 1
    assert "locked for 15 minutes" in fifth.stderr
    assert "locked for 15 minutes" in right.stderr
    assert OUT_OF_REACH not in right.stderr
    assert attempts(credentials) == [("locked", "cli", "password"), ("refused_locked", "cli", "password")]  # fmt: skip


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty on its stdin, so
    the hidden prompt reads ``/dev/tty`` with echo off, as at a reviewer's terminal."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _in_a_terminal(env: dict[str, str], args: list[str], answer: str) -> str:
    """Run ``childreg review ARGS`` with a terminal for its stdin and stdout (a pty): wait for the
    prompt, type ``answer``, and return everything the terminal showed."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "childreg"), "review", *args],
        stdin=child, stdout=child, stderr=child,
        env={"PATH": str(BIN), "TERM": "dumb", **env}, close_fds=True,
        preexec_fn=_controlling_terminal,
    )  # fmt: skip
    os.close(child)
    shown = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([parent], [], [], 1)
            if ready:
                try:
                    chunk = os.read(parent, 4096)
                except OSError:  # the command ended: its side of the terminal is gone
                    break
                if not chunk:
                    break
                shown += chunk
                if answer and "Mật khẩu: ".encode() in shown:  # the hidden part's prompt
                    os.write(parent, answer.encode() + b"\r")
                    answer = ""
            elif process.poll() is not None:
                break
        process.wait(10)
    finally:
        os.close(parent)
        if process.poll() is None:
            process.kill()
    return shown.decode(errors="replace")


def test_at_a_terminal_the_password_is_asked_for_and_not_shown(
    env: dict[str, str], credentials: PostgresReviewerCredentials
) -> None:
    shown = _in_a_terminal(env, ["approve", REQUEST, "--reviewer", REVIEWER], PASSWORD)

    assert "Mật khẩu" in shown
    assert PASSWORD not in shown  # typed at a hidden prompt: not echoed
    assert OUT_OF_REACH in shown  # the typed password passed the reviewer's check
    assert attempts(credentials) == [("signed_in", "cli", "password")]


def test_no_password_at_all_is_a_usage_error(env: dict[str, str]) -> None:
    empty = review(env, "approve", REQUEST, "--reviewer", REVIEWER, stdin="\n")
    nobody = review(env, "approve", REQUEST, stdin=PASSWORD + "\n")

    assert (empty.returncode, nobody.returncode) == (2, 2)
    assert "password: empty" in empty.stderr
    assert "--reviewer: required" in nobody.stderr


async def test_an_id_token_of_the_organisations_provider_stands_for_the_password(
    env: dict[str, str], credentials: PostgresReviewerCredentials, tmp_path: Path
) -> None:
    async with mock_provider() as provider:
        oidc = env | {
            "CHILDREG_OIDC_ISSUER": provider.issuer,
            "CHILDREG_OIDC_CLIENT_ID": CLIENT_ID,
            "CHILDREG_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }
        tokens = {
            "good": provider.id_token(REVIEWER),
            "other_audience": provider.id_token(REVIEWER, aud="another-client"),
            "unknown": provider.id_token("rv-nobody-here"),
        }
        for name, token in tokens.items():
            (tmp_path / name).write_text(token)

        def with_token(name: str, *more: str) -> subprocess.CompletedProcess[str]:
            return review(
                oidc, "approve", REQUEST, "--oidc-token-file", str(tmp_path / name), *more
            )

        good = await asyncio.to_thread(with_token, "good")
        mismatched = await asyncio.to_thread(with_token, "good", "--reviewer", "rv-79001-02")
        other_audience = await asyncio.to_thread(with_token, "other_audience")
        unknown = await asyncio.to_thread(with_token, "unknown")
    without_provider = review(env, "approve", REQUEST, "--oidc-token-file", str(tmp_path / "good"))

    assert good.stderr.startswith(OUT_OF_REACH)
    assert "not the reviewer the ID token names" in mismatched.stderr
    assert other_audience.stderr.startswith("refused: the ID token: ")
    assert "names no reviewer of the registry" in unknown.stderr
    assert "CHILDREG_OIDC_ISSUER is not set" in without_provider.stderr
    assert OUT_OF_REACH not in mismatched.stderr + other_audience.stderr + unknown.stderr
    assert attempts(credentials) == [("signed_in", "cli", "oidc")]
    assert [r.method for r in credentials.history("rv-nobody-here")] == [SignInMethod.OIDC]
    assert {r.client for r in credentials.history("rv-nobody-here")} == {SignInClient.CLI}
