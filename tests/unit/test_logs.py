"""Log lines never carry personal data."""

from __future__ import annotations

import io
import json
import logging
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
