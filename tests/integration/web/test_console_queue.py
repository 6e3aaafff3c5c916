"""The console's queue: the signed-in reviewer's office only, overdue first then by deadline,
the views and their counts, paging; supervisors also see what was escalated to them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders.registry import OTHER_OFFICE, OTHER_REVIEWER, REVIEWER, SUPERVISOR
from tests.integration.web.conftest import SUBMITTED
from tests.integration.web.console import ConsoleWeb, console_web, sign_in, waiting
from web.console.routes import PAGE_SIZE

_ROW = re.compile(r'href="/console/registrations/([^"]+)"')


@pytest.fixture
def console(tmp_path: Path) -> ConsoleWeb:
    web = console_web(tmp_path)
    for reviewer_id in (REVIEWER, SUPERVISOR, OTHER_REVIEWER):
        web.set_password(reviewer_id)
    return web


def rows(html: str) -> list[str]:
    return _ROW.findall(html)


async def test_the_queue_shows_the_reviewers_own_office_overdue_first_then_by_deadline(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-LATE", deadline=SUBMITTED + timedelta(days=5))
    waiting(console, "HCM-SOON", deadline=SUBMITTED + timedelta(days=2))
    waiting(console, "HCM-OVERDUE", deadline=SUBMITTED + timedelta(days=9), overdue=True)
    waiting(console, "HN-1", office_code=OTHER_OFFICE)

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/queue", params={"office_code": OTHER_OFFICE})

    assert rows(page.text) == ["HCM-OVERDUE", "HCM-SOON", "HCM-LATE"]
    assert console.queue.asked == [("79001", False)]  # never the URL's office
    assert "27/11/2026 09:00" in page.text  # HCM-SOON's deadline in Vietnam time (02:00 UTC + 7)
    assert 'http-equiv="refresh"' in page.text


async def test_a_reviewer_of_another_office_sees_only_theirs(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")
    waiting(console, "HN-1", office_code=OTHER_OFFICE)

    async with console.client() as http:
        await sign_in(http, OTHER_REVIEWER)
        page = await http.get("/console/queue")

    assert rows(page.text) == ["HN-1"]


async def test_the_views_filter_and_count(console: ConsoleWeb) -> None:
    waiting(console, "HCM-PLAIN")
    waiting(console, "HCM-OVERDUE", overdue=True)
    waiting(console, "HCM-BACK", supplemented=True)

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        every = await http.get("/console/queue")
        overdue = await http.get("/console/queue", params={"view": "overdue"})
        back = await http.get("/console/queue", params={"view": "supplement"})
        unknown = await http.get("/console/queue", params={"view": "<script>"})

    assert "Tất cả (3)" in every.text
    assert "Quá hạn (1)" in every.text
    assert "Đã bổ sung hồ sơ (1)" in every.text
    assert "Chuyển lên lãnh đạo" not in every.text  # a reviewer has no escalated view
    assert rows(overdue.text) == ["HCM-OVERDUE"]
    assert rows(back.text) == ["HCM-BACK"]
    assert rows(unknown.text) == rows(every.text)


async def test_a_supervisor_also_has_the_escalated_view(console: ConsoleWeb) -> None:
    waiting(console, "HCM-PLAIN")
    waiting(console, "HCM-OVERDUE", overdue=True)

    async with console.client() as http:
        await sign_in(http, SUPERVISOR)
        escalated = await http.get("/console/queue", params={"view": "escalated"})

    assert "Chuyển lên lãnh đạo (1)" in escalated.text
    assert rows(escalated.text) == ["HCM-OVERDUE"]
    assert ("79001", True) in console.queue.asked


async def test_the_queue_pages(console: ConsoleWeb) -> None:
    for n in range(PAGE_SIZE + 3):
        waiting(console, f"HCM-{n:03}", deadline=SUBMITTED + timedelta(hours=n))

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        first = await http.get("/console/queue")
        second = await http.get("/console/queue", params={"page": "2"})
        beyond = await http.get("/console/queue", params={"page": "99"})
        garbage = await http.get("/console/queue", params={"page": "x"})

    assert rows(first.text) == [f"HCM-{n:03}" for n in range(PAGE_SIZE)]
    assert rows(second.text) == [f"HCM-{n:03}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)]
    assert "Trang 2/2" in second.text
    assert rows(beyond.text) == rows(second.text)
    assert rows(garbage.text) == rows(first.text)


async def test_the_queue_needs_a_session(console: ConsoleWeb) -> None:
    async with console.client() as http:
        answer = await http.get("/console/queue")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login"
    assert console.queue.asked == []
