from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from workers.run.smtp_sink import SmtpSink, message_file_name, start_sink


def a_message(message_id: str, to: str = "an.nguyen@example.vn") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "no-reply@vssid.example.vn"
    message["To"] = to
    message["Subject"] = "Thử nghiệm"
    message["Message-ID"] = message_id
    message.set_content("Xin chào")
    return message


async def test_a_message_is_stored_as_an_eml_file_named_after_its_message_id(
    sink: SmtpSink,
) -> None:
    await aiosmtplib.send(a_message("<one@vssid.example.vn>"), hostname=sink.host, port=sink.port)

    [path] = sink.messages()
    assert path.name.endswith("-one@vssid.example.vn.eml")
    assert b"Message-ID: <one@vssid.example.vn>" in path.read_bytes()


async def test_the_same_message_id_is_stored_once(sink: SmtpSink) -> None:
    for _ in range(3):
        await aiosmtplib.send(
            a_message("<same@vssid.example.vn>"), hostname=sink.host, port=sink.port
        )

    assert len(sink.messages()) == 1
    assert sink.duplicates == 2


async def test_a_restarted_sink_remembers_the_message_ids_it_stored(mail_dir: Path) -> None:
    with start_sink(mail_dir) as first:
        await aiosmtplib.send(
            a_message("<kept@vssid.example.vn>"), hostname=first.host, port=first.port
        )

    with start_sink(mail_dir) as second:
        await aiosmtplib.send(
            a_message("<kept@vssid.example.vn>"), hostname=second.host, port=second.port
        )

        assert len(second.messages()) == 1
        assert second.duplicates == 1


async def test_a_refused_recipient_gets_550(sink: SmtpSink) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(
            a_message("<no@vssid.example.vn>", to="refuse.me@example.vn"),
            hostname=sink.host,
            port=sink.port,
        )

    assert refused.value.recipients[0].code == 550
    assert sink.messages() == []


def test_port_zero_picks_a_free_port(tmp_path: Path) -> None:
    with start_sink(tmp_path) as first, start_sink(tmp_path / "other") as second:
        assert first.port > 0
        assert second.port not in (0, first.port)


def test_a_file_name_holds_only_safe_characters() -> None:
    name = message_file_name(datetime(2026, 11, 25, 2, tzinfo=UTC), "<a/../b c@x>")

    assert name == "20261125T020000000000Z-a_.._b_c@x.eml"
