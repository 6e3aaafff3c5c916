"""Fixtures for the audit: a store with known histories, the audit commands, SQL on the rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from domain.service import RegistrationService
from tests.builders.registrations import T0, Registrar
from tests.conftest import cli_environment
from workers.bootstrap import registration_service
from workers.cli.audit import register

LINK_SECRET = "a link secret for the audit tests"
SUPPLEMENT_REQUEST = "vssid-20261125-000777"

app = typer.Typer()
register(app)  # `childreg audit …` as the command registers it


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, cipher_key)
    yield app
    app.close()


@pytest.fixture
def cli_env(database_url: str, cipher_key: str, tmp_path: Path) -> dict[str, str]:
    return cli_environment(database_url, cipher_key, tmp_path, LINK_SECRET)


@dataclass
class Audit:
    env: dict[str, str]

    def __call__(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["audit", *args], env=self.env)
        return result.exit_code, result.output


@pytest.fixture
def audit(cli_env: dict[str, str]) -> Audit:
    return Audit(cli_env)


def supplement_round_with_a_refused_decision(registrar: Registrar) -> UUID:
    """Submitted, verified, stored, review; a reviewer of another office is refused; supplement
    requested and provided, stored, review again; rejected. 11 events."""
    view = registrar.submit(SUPPLEMENT_REQUEST, "79001", "0123456789", "7912345678", T0)
    at = T0
    for step, action in enumerate(
        [
            "verify",
            "store",
            "review",
            "refuse",
            "supplement",
            "provide",
            "store",
            "review",
            "reject",
        ]
    ):
        at += timedelta(hours=1)
        view = registrar.move(view, action, at, f"{SUPPLEMENT_REQUEST}/{action}-{step}")
    return view.registration_id


@pytest.fixture
def store(registrar: Registrar) -> dict[str, UUID]:
    """Three registrations: the supplement round (11 events), an approval with its notification
    and activation, and one still awaiting review."""
    supplement = supplement_round_with_a_refused_decision(registrar)
    approved = registrar.submit("vssid-20261125-000124", "01001", "0198765432", "7900000001", T0)
    for step, action in enumerate(["verify", "store", "review", "approve", "notify", "activate"]):
        at = T0 + timedelta(minutes=30 * (step + 1))
        approved = registrar.move(approved, action, at, f"vssid-20261125-000124/{step}")
    waiting = registrar.lifecycle(
        "vssid-20261125-000125", "48001", "0311122233", "7900000002", [0, 0, 0], T0
    )
    return {
        "supplement": supplement,
        "approved": approved.registration_id,
        "waiting": waiting.registration_id,
    }


@pytest.fixture
def registrar(service: RegistrationService) -> Registrar:
    return Registrar(service)


def sql(database_url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run SQL directly on the stored rows, as someone with database access would."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []
