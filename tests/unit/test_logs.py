"""Log lines never carry personal data."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from workers.logs import REDACTED, configure_logging, scrub_text
from workers.settings import LogFormat


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "debug", stream)
    yield stream
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_personal_fields_are_redacted_and_ids_kept(json_logs: io.StringIO) -> None:
    structlog.get_logger("childreg").info(
        "identity.checked",
        registration_id="1e8e860b-204a-5ad0-be71-cb35baa12e8c",
        workflow_id="registration-vssid-20261125-000123",
        full_name="Nguyễn Minh Khôi",
        phone="+84912345678",
        date_of_birth="2019-03-14",
    )

    (line,) = lines(json_logs)
    assert line["event"] == "identity.checked"
    assert line["registration_id"] == "1e8e860b-204a-5ad0-be71-cb35baa12e8c"
    assert line["workflow_id"] == "registration-vssid-20261125-000123"
    assert line["full_name"] == line["phone"] == line["date_of_birth"] == REDACTED


def test_codes_phones_and_emails_inside_messages_are_scrubbed(json_logs: io.StringIO) -> None:
    logging.getLogger("temporalio.activity").warning(
        "failed for 7912345678 / 079219000001 at 0912345678, an.nguyen@example.vn, card HS4797912345678"
    )

    (line,) = lines(json_logs)
    message = str(line["event"])
    for personal in (
        "7912345678",
        "079219000001",
        "0912345678",
        "an.nguyen@example.vn",
        "HS4797912345678",
    ):
        assert personal not in message
    assert message.count(REDACTED) == 5


@pytest.mark.parametrize(
    "text",
    [
        "registration-vssid-20261125-000123",
        "1e8e860b-204a-5ad0-be71-cb35baa12e8c",
        "notification 42",
        "office 79001",
    ],
)
def test_ids_that_only_contain_digits_are_left_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_what_an_error_quotes_of_a_refused_value_is_redacted(json_logs: io.StringIO) -> None:
    from pydantic import BaseModel, ValidationError

    class Child(BaseModel):
        full_name: int

    detail = (
        'duplicate key value violates unique constraint "registry_child_accounts_child_code_key"'
        "\nDETAIL:  Key (child_code)=(7912345678) already exists."
    )
    sent = {"full_name": "Nguyễn Minh Khôi"}  # in a variable: the traceback shows source lines
    try:
        Child.model_validate(sent)
    except ValidationError:
        structlog.get_logger("childreg").warning("activity.failed", exc_info=True)
    try:
        raise RuntimeError(detail)
    except RuntimeError:
        logging.getLogger("temporalio.activity").warning(
            "Completing activity as failed", exc_info=True
        )

    text = json_logs.getvalue()
    assert "Nguyễn Minh Khôi" not in text
    assert "7912345678" not in text
    assert "input_value=" + REDACTED in text
    assert "Key (child_code)=" + REDACTED in text


def test_values_of_any_kind_are_scrubbed(json_logs: io.StringIO) -> None:
    from dataclasses import dataclass

    from pydantic import BaseModel

    class Guardian(BaseModel):
        full_name: str
        phone: str

    @dataclass
    class Contact:
        email: str
        note: str

    class Opaque:
        def __str__(self) -> str:
            return "call 0912 345 678 or an.nguyen@example.vn"

    structlog.get_logger("childreg").info(
        "notification.prepared",
        guardian=Guardian(full_name="Nguyễn Văn An", phone="+84912345678"),
        sent_to=Guardian(full_name="Nguyễn Văn An", phone="+84912345678"),
        contact=Contact(email="an.nguyen@example.vn", note="con: Nguyễn Minh Khôi"),
        code_as_number=7912345678,
        attempt=3,
        opaque=Opaque(),
    )

    (line,) = lines(json_logs)
    assert line["guardian"] == REDACTED
    assert line["sent_to"] == {"full_name": REDACTED, "phone": REDACTED}
    assert line["contact"] == {"email": REDACTED, "note": "con: Nguyễn Minh Khôi"}
    assert line["code_as_number"] == REDACTED
    assert line["attempt"] == 3
    assert line["opaque"] == f"call {REDACTED} or {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "[type=missing, input_value={'full_name': 'Nguyễn Văn An', 'phone': '0912345678'}, input_type=dict]",
        "[type=date_type, input_value=datetime.date(2019, 3, 14), input_type=date]",
        "DETAIL:  Failing row contains (7912345678, Nguyễn Văn An, 2019-03-14).",
        "call +84 912 345 678, (+84) 912-345-678 or 0912.345.678",
    ],
)  # fmt: skip
def test_quoted_values_and_written_phones_are_scrubbed(text: str) -> None:
    scrubbed = scrub_text(text)

    for value in ("Nguyễn", "912", "2019", "7912345678"):
        assert value not in scrubbed
    assert REDACTED in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30T06:57:39.123456Z",
        "registration_id=1e8e860b-204a-5ad0-be71-cb35baa12e8c",
        "workflow_id=registration-vssid-20261125-000123",
        "took 0.123 456 ms at position 4096",
    ],
)
def test_ids_times_and_figures_are_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_a_value_that_cannot_be_dumped_is_logged_as_its_scrubbed_text(
    json_logs: io.StringIO,
) -> None:
    from pydantic import BaseModel, ConfigDict

    class Holder(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        thing: object

    structlog.get_logger("childreg").info("odd", holder=Holder(thing=object()), n=1)

    (line,) = lines(json_logs)
    assert line["n"] == 1
    assert "Holder" in str(line["holder"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "log_format", "is_json"),
    [
        (io.StringIO(), LogFormat.AUTO, True),  # a pipe or a file: JSON lines
        (_Terminal(), LogFormat.AUTO, False),  # a terminal: readable console lines
        (_Terminal(), LogFormat.JSON, True),
        (io.StringIO(), LogFormat.CONSOLE, False),
    ],
)
def test_json_off_a_terminal_and_console_on_one_unless_told(
    stream: io.StringIO, log_format: LogFormat, is_json: bool
) -> None:
    configure_logging(log_format, "info", stream)
    try:
        structlog.get_logger("childreg").info("worker.started", task_queue="a-queue")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    (line,) = stream.getvalue().splitlines()
    if is_json:
        assert json.loads(line)["event"] == "worker.started"
    else:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)  # without the terminal's colours
        assert "worker.started" in plain
        assert "task_queue=a-queue" in plain
        with pytest.raises(ValueError, match="Expecting value"):
            json.loads(line)
