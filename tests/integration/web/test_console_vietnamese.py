"""The console speaks to the reviewer in Vietnamese: the identity check's and the documents'
warnings by their code, and a deadline at midnight as the end of the day before."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.warnings import ReviewWarning, WarningCode
from tests.builders.registry import REVIEWER
from tests.integration.web.console import ConsoleWeb, console_web, sign_in, waiting

END_OF_7_DECEMBER = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
"""08/12/2026 00:00 in Vietnam (UTC+7): the end of 07/12."""


@pytest.fixture
def console(tmp_path: Path) -> ConsoleWeb:
    web = console_web(tmp_path)
    web.set_password(REVIEWER)
    return web


async def test_the_page_shows_the_warnings_in_vietnamese(console: ConsoleWeb) -> None:
    recorded = [
        ReviewWarning(WarningCode.NOT_ONE_HOUSEHOLD, "guardian.social_insurance_code").text(),
        ReviewWarning(WarningCode.CARD_NOT_SCANNED, "child.health_insurance_card_qr").text(),
        ReviewWarning(WarningCode.NAME_ACCENTS_ONLY, "guardian.full_name").text(),
        ReviewWarning(WarningCode.DOCUMENT_SOFT, "documents.portrait").text(),
        "documents.portrait: a rule of an older version",
    ]
    waiting(console, "HCM-VI-1", warnings=tuple(recorded))

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-VI-1")

    assert page.status_code == 200
    assert re.findall(r'<li class="warning">([^<]*)</li>', page.text) == [
        "Người giám hộ và trẻ không cùng một hộ gia đình.",
        "Không có mã QR thẻ BHYT: mã số BHXH của trẻ được nhập tay, không quét từ thẻ.",
        "Họ tên người giám hộ chỉ khớp với cơ sở dữ liệu khi bỏ dấu.",
        "Ảnh chân dung: ảnh hơi mờ, hãy kiểm tra xem có đọc rõ không.",
        "documents.portrait: a rule of an older version",  # no known code: as recorded
    ]


async def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-VI-2", deadline=END_OF_7_DECEMBER)
    waiting(console, "HCM-VI-3", deadline=datetime(2026, 12, 8, 3, 30, tzinfo=UTC))

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        queue = await http.get("/console/queue")
        page = await http.get("/console/registrations/HCM-VI-2")

    assert "hết ngày 07/12/2026" in queue.text
    assert "08/12/2026 10:30" in queue.text  # not midnight: the time as it is
    assert "hết ngày 07/12/2026" in page.text
    assert "08/12/2026 00:00" not in queue.text + page.text
