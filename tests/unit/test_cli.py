"""The ``childreg`` command's own options."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workers.cli import app
from workers.settings import LogFormat, load_settings


def test_schema_prints_the_contracts_json_schema() -> None:
    printed = CliRunner().invoke(app, ["schema", "RegistrationRequest"])

    assert printed.exit_code == 0
    schema = json.loads(printed.output)
    assert {"request_id", "guardian", "child", "documents", "office_code", "commitment"} <= set(
        schema["properties"]
    )


def test_schema_refuses_an_unknown_model_by_name() -> None:
    printed = CliRunner().invoke(app, ["schema", "Nothing"])

    assert printed.exit_code == 2
    assert "unknown model" in printed.output


def test_the_log_format_switch_reaches_every_commands_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHILDREG_LOG_FORMAT", raising=False)
    monkeypatch.setenv("CHILDREG_LOG_FORMAT", "auto")  # restored by monkeypatch afterwards

    CliRunner().invoke(app, ["--log-format", "json", "schema", "ApproveSignal"])

    assert load_settings().log_format is LogFormat.JSON
