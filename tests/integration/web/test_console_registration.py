"""The console's registration page: what a reviewer of the office sees, the documents streamed
decrypted to them only, the decision form through the ``decide`` update, and the same 404 for
another office's registration and an unknown one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.lifecycle import State
from tests.builders.images import sharp_jpeg
from tests.builders.registry import OTHER_OFFICE, OTHER_REVIEWER, REVIEWER, SUPERVISOR
from tests.integration.web.console import ConsoleWeb, console_web, csrf_of, sign_in, waiting

_DECISION_ID = re.compile(r'name="decision_id" value="([^"]+)"')


@pytest.fixture
def console(tmp_path: Path) -> ConsoleWeb:
    web = console_web(tmp_path)
    for reviewer_id in (REVIEWER, SUPERVISOR, OTHER_REVIEWER):
        web.set_password(reviewer_id)
    return web


def form_of(html: str) -> dict[str, str]:
    found = _DECISION_ID.search(html)
    assert found
    return {"csrf_token": csrf_of(html), "decision_id": found.group(1)}


async def test_the_page_shows_the_declaration_warnings_documents_history_and_controls(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")

    assert page.status_code == 200
    for text in ("Nguyễn Minh Khôi", "Nguyễn Văn An", "the photo is small", "Phê duyệt", "Từ chối"):
        assert text in page.text
    assert "Yêu cầu bổ sung" in page.text
    assert '<label for="reason_code">Lý do</label>' in page.text
    assert '<option value="PHOTO_UNCLEAR">' in page.text
    assert '<option value="OTHER">' in page.text
    assert "<td>Tiếp nhận hồ sơ</td>" in page.text  # the history, in Vietnamese
    assert "<td>Chờ duyệt</td><td>Hệ thống</td><td>lượt duyệt 1; hạn duyệt " in page.text
    assert "ReviewRequested" not in page.text
    assert 'src="/console/registrations/HCM-1/documents/portrait"' in page.text
    assert '<script src="/static/console.js" defer></script>' in page.text
    assert "<script>" not in page.text


async def test_both_documents_stream_decrypted_and_uncached(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        portrait = await http.get("/console/registrations/HCM-1/documents/portrait")
        certificate = await http.get("/console/registrations/HCM-1/documents/birth_certificate")

    assert portrait.status_code == certificate.status_code == 200
    assert portrait.content == sharp_jpeg(1)
    assert certificate.content == sharp_jpeg(2)
    assert portrait.headers["content-type"] == "image/jpeg"
    assert portrait.headers["cache-control"] == "no-store"


async def test_another_offices_registration_and_documents_are_the_same_404_as_unknown(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HN-1", office_code=OTHER_OFFICE)

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        queue = await http.get("/console/queue")
        other = await http.get("/console/registrations/HN-1")
        unknown = await http.get("/console/registrations/NOBODY-1")
        document = await http.get("/console/registrations/HN-1/documents/portrait")
        unknown_document = await http.get("/console/registrations/NOBODY-1/documents/portrait")
        decision = await http.post(
            "/console/registrations/HN-1/decide",
            data={"csrf_token": csrf_of(queue.text), "decision_id": "d-x", "outcome": "approve"},
        )

    assert other.status_code == unknown.status_code == 404
    assert other.text == unknown.text
    assert document.status_code == unknown_document.status_code == 404
    assert document.content == unknown_document.content
    assert decision.status_code == 404
    assert console.decisions.sent == []


async def test_without_a_session_there_is_no_page_and_no_document(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        page = await http.get("/console/registrations/HCM-1")
        document = await http.get("/console/registrations/HCM-1/documents/portrait")

    assert page.status_code == 303
    assert document.status_code == 404


async def test_an_approval_sends_decide_with_the_sessions_reviewer_once(
    console: ConsoleWeb,
) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "approve", "reviewer_id": SUPERVISOR}
        first = await http.post("/console/registrations/HCM-1/decide", data=form)
        again = await http.post("/console/registrations/HCM-1/decide", data=form)
        after = await http.get(first.headers["location"])

    assert first.status_code == again.status_code == 303
    assert [d.reviewer_id for d in console.decisions.sent] == [REVIEWER, REVIEWER]
    assert len({d.decision_id for d in console.decisions.sent}) == 1
    view = console.service.get(rid)
    assert view.state is State.APPROVED
    assert view.decided_by == REVIEWER
    assert "Đã ghi nhận quyết định." in after.text
    assert "Đã phê duyệt" in after.text


async def test_a_rejection_with_a_reason(console: ConsoleWeb) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "reject", "reason_code": "PHOTO_UNCLEAR"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)

    assert answer.status_code == 303
    view = console.service.get(rid)
    assert view.state is State.REJECTED
    assert view.reason_code == "PHOTO_UNCLEAR"


async def test_other_needs_a_note(console: ConsoleWeb) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "reject", "reason_code": "OTHER"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)

    assert answer.status_code == 400
    assert "cần ghi chú" in answer.text
    assert console.service.get(rid).state is State.AWAITING_REVIEW


async def test_a_supplement_request_names_the_documents(console: ConsoleWeb) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "request_supplement", "note": "Ảnh bị mờ"}
        answer = await http.post(
            "/console/registrations/HCM-1/decide", data={**form, "documents": ["portrait"]}
        )

    assert answer.status_code == 303
    view = console.service.get(rid)
    assert view.state is State.SUPPLEMENT_REQUESTED
    assert view.supplement_documents == ["portrait"]


async def test_a_refused_decision_is_shown_in_vietnamese(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        stale = await http.get("/console/registrations/HCM-1")
        fresh = await http.get("/console/registrations/HCM-1")
        await http.post(
            "/console/registrations/HCM-1/decide", data=form_of(fresh.text) | {"outcome": "approve"}
        )
        late = await http.post(
            "/console/registrations/HCM-1/decide",
            data=form_of(stale.text) | {"csrf_token": csrf_of(fresh.text), "outcome": "approve"},
        )

    assert late.status_code == 409
    assert "Hồ sơ không còn ở trạng thái chờ duyệt" in late.text


async def test_a_decision_without_the_csrf_token_is_403(console: ConsoleWeb) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "approve", "csrf_token": "forged"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)

    assert answer.status_code == 403
    assert console.decisions.sent == []
    assert console.service.get(rid).state is State.AWAITING_REVIEW
