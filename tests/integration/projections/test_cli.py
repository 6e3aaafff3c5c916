"""The commands: queries with tables and --json, waiting for a position, rebuild, the projector."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from projections.queries import ReadModels
from projections.runners import RunningProjections
from tests.builders.registrations import T0, Registrar
from tests.conftest import cli_environment
from tests.integration.projections.conftest import KEY
from workers.cli.query import register

LINK_SECRET = "a link secret for the tests"  # KEY is derived from it

app = typer.Typer()
register(app)  # the commands as `childreg` registers them, without the rest of the command


@pytest.fixture
def cli_env(database_url: str, cipher_key: str, tmp_path: Path) -> dict[str, str]:
    return cli_environment(database_url, cipher_key, tmp_path, LINK_SECRET)


def childreg(cli_env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=cli_env)
    return result.exit_code, result.output


def test_the_queries_answer_in_json_with_their_documented_fields(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    view = registrar.lifecycle("vssid-1", "79001", "0123456789", "7912345678", [0, 0, 0], T0)
    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    code, out = childreg(cli_env, "status", "vssid-1", "--json", "--wait-for", str(view.position))
    assert code == 0, out
    status = json.loads(out)
    assert status["state"] == "awaiting_review"
    assert status["registration_id"] == str(view.registration_id)
    assert set(status) >= {
        "request_id", "office_code", "child_code_masked", "submitted_at", "decided_at",
        "review_deadline", "expires_at", "overdue", "escalated", "waiting_for", "outcome",
        "reason_code", "decided_by", "warnings", "supplement_rounds", "as_of_position",
    }  # fmt: skip
    code, out = childreg(cli_env, "queue", "79001", "--json")
    assert code == 0, out
    assert [entry["request_id"] for entry in json.loads(out)["entries"]] == ["vssid-1"]
    code, out = childreg(cli_env, "guardian", "0123456789", "--json")
    assert code == 0, out
    assert json.loads(out)["children"][0]["account_status"] == "pending"
    code, out = childreg(cli_env, "stats", "79001", "--json")
    assert code == 0, out
    assert json.loads(out)["counts"]["awaiting_review"] == 1
    code, out = childreg(cli_env, "stats", "--json")
    assert code == 0, out
    assert [office["office_code"] for office in json.loads(out)["offices"]] == ["79001"]


def test_the_queries_print_tables_by_default(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    registrar.lifecycle("vssid-1", "79001", "0123456789", "7912345678", [0, 0, 0, 0], T0)
    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    for args, expected in (
        (["status", "vssid-1"], "approved"),
        (["queue", "79001", "--supervisor"], "0 registrations"),
        (["guardian", "0123456789"], "******5678"),
        (["stats"], "Office 79001"),
        (["projections", "positions"], "registration_status"),
    ):
        code, out = childreg(cli_env, *args)
        assert code == 0, out
        assert expected in out


def test_waiting_for_a_position_not_reached_fails_clearly(
    registrar: Registrar, read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7912345678", T0)

    code, out = childreg(cli_env, "status", "vssid-1", "--wait-for", "1", "--timeout", "0.2")

    assert code == 3
    assert "had not reached position 1" in out


def test_an_unknown_registration_exits_non_zero(
    read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    code, out = childreg(cli_env, "status", "never-submitted")

    assert code == 1
    assert "no registration" in out


def test_projections_rebuild_replays_and_reports_each_read_model(
    env: dict[str, str], registrar: Registrar, read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    registrar.lifecycle("vssid-1", "79001", "0123456789", "7912345678", [0, 0, 0, 0], T0)

    code, out = childreg(cli_env, "projections", "rebuild", "registration_status")

    assert code == 0, out
    assert f"swapped in at position {registrar.last_position}" in out
    assert read_models.status_record("vssid-1").state == "approved"
    code, out = childreg(cli_env, "projections", "rebuild", "nonsense")
    assert code == 2


def test_the_projector_stops_on_sigterm_and_resumes_after_a_restart(
    registrar: Registrar, read_models: ReadModels, cli_env: dict[str, str]
) -> None:
    registrar.submit("vssid-1", "79001", "0123456789", "7912345678", T0)
    command = [sys.executable, "-c", "from workers.cli import app; app(['projector'])"]
    environment = {**os.environ, **cli_env}

    first = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    read_models.wait_for(registrar.last_position, timeout=30)
    first.send_signal(signal.SIGTERM)
    _, first_log = first.communicate(timeout=30)
    registrar.lifecycle("vssid-2", "79001", "0198765432", "7900000002", [0, 0, 0], T0)
    second = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    read_models.wait_for(registrar.last_position, timeout=30)
    second.send_signal(signal.SIGINT)
    _, second_log = second.communicate(timeout=30)

    assert first.returncode == 0, first_log
    assert second.returncode == 0, second_log
    assert "projector.stopped" in first_log
    assert read_models.status_record("vssid-2").state == "awaiting_review"
    assert read_models.status_record("vssid-1").version == 1
