"""The ``childreg`` command's own options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.documents import DocumentStore
from tests import builders
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


# -- bad input to the workflow's commands: refused before anything is sent or stored ----------

NAME = "Nguyễn Minh Khôi"


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory of its own and a Temporal address nobody answers at."""
    monkeypatch.setenv("CHILDREG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CHILDREG_TEMPORAL_ADDRESS", "127.0.0.1:1")
    return tmp_path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "request.json: not JSON (Expecting property name enclosed in double quotes at line 1)"),
        (b"\xff\xfe", "request.json: not UTF-8 text"),
        (json.dumps([NAME]).encode(), "request.json: must be a JSON object (a RegistrationRequest)"),
        (json.dumps({"child": {"full_name": NAME}}).encode(), "request.json: request_id: "),
        (json.dumps({"request_id": "has spaces " + NAME}).encode(), "request.json: request_id: "),
    ],
)  # fmt: skip
def test_submit_refuses_a_bad_request_file_naming_the_rule(
    isolated: Path, content: bytes, message: str
) -> None:
    request = isolated / "request.json"
    request.write_bytes(content)
    portrait = isolated / "portrait.png"
    portrait.write_bytes(builders.encoded(builders.scan(), "PNG"))

    done = CliRunner().invoke(
        app, ["submit", "--request", str(request), "--portrait", str(portrait)]
    )

    assert done.exit_code == 1
    assert message in done.output
    assert NAME not in done.output
    assert not (isolated / "var" / "documents").exists()  # no document went into the intake


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["review", "approve", "r-1", "--reviewer", "x" * 300], "error: reviewer_id: "),
        (["review", "reject", "r-1", "--reviewer", "rv-1", "--note", NAME * 100], "error: note: "),
        (
            ["review", "request-supplement", "r-1", "--reviewer", "rv-1", "--note", "n",
             *[arg for n in range(11) for arg in ("--document", f"scan_{n}")]],
            "error: documents: ",
        ),
        (["review", "request-supplement", "r-1", "--reviewer", "rv-1", "--note", "n", "--document", "../" + NAME],
         "error: documents.0: "),
        (["withdraw", "r-1", "--reason", NAME * 100], "error: reason: "),
    ],
)  # fmt: skip
def test_a_bad_decision_or_withdrawal_names_the_field_and_quotes_nothing(
    isolated: Path, arguments: list[str], message: str
) -> None:
    # The password on standard input: the decision is checked before the reviewer.
    done = CliRunner().invoke(app, arguments, input="mật khẩu của cán bộ 2026\n")

    assert done.exit_code == 1
    assert message in done.output
    assert NAME not in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    ("arguments", "rule"),
    [
        (["guardian", "01234"], "must be exactly 10 digits"),
        (["guardian", "Nguyễn Văn An"], "must be exactly 10 digits"),
        (["queue", "HCM"], "an office code must be 2 to 8 digits"),
        (["stats", "7"], "an office code must be 2 to 8 digits"),
    ],
)
def test_a_query_refuses_a_malformed_code_before_reading_anything(
    isolated: Path, arguments: list[str], rule: str
) -> None:
    done = CliRunner().invoke(app, arguments)

    assert done.exit_code == 2
    text = " ".join(word for word in done.output.split() if word != "│")  # rich's wrapped panel
    assert rule in text
    assert "Nguyễn" not in done.output


def test_documents_put_encrypts_the_intake_copy_with_the_stacks_key(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHILDREG_DATABASE_URL", raising=False)  # the embedded stack's own key
    monkeypatch.delenv("CHILDREG_CIPHER_KEY", raising=False)
    photo = isolated / "portrait.png"
    photo.write_bytes(builders.encoded(builders.scan(), "PNG"))

    done = CliRunner().invoke(app, ["documents", "put", str(photo)])

    assert done.exit_code == 0, done.output
    reference = done.output.strip()
    kept = isolated / "var" / "documents" / "intake" / reference.removeprefix("sha256:")
    assert not kept.read_bytes().startswith(b"\x89PNG")
    key = (isolated / "var" / "keys" / "cipher.key").read_text().strip()
    assert DocumentStore(isolated / "var" / "documents", key).read_intake(reference) == (
        photo.read_bytes()
    )


# -- every command: a setting that cannot be used ends it with exit 2, naming the variable -----


@pytest.mark.parametrize(
    "command",
    [
        ["status", "vssid-20261125-000123"],
        ["registry", "show"],
        ["audit", "seal"],
        ["db", "migrate"],
        ["projector"],
        ["worker"],
        ["documents", "put", __file__],
    ],
)
def test_a_bad_setting_ends_the_command_with_exit_2_naming_the_variable(
    command: list[str], isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHILDREG_LINK_VALID_DAYS", "0")

    printed = CliRunner().invoke(app, command)

    assert printed.exit_code == 2, printed.output
    assert "CHILDREG_LINK_VALID_DAYS" in printed.output
    assert "Traceback" not in printed.output


def test_the_projector_is_one_of_the_run_commands() -> None:
    printed = CliRunner().invoke(app, ["--help"])

    assert printed.exit_code == 0
    for command in ("worker", "projector", "dev", "codec-server", "notifications"):
        assert command in printed.output
