"""Four-eyes rejections in the console: the proposer sees that the proposal waits, a second
reviewer of the office confirms (Xác nhận từ chối) or declines (Không đồng ý) it; the proposer's
own confirmation is refused by the domain whatever the form says."""

from __future__ import annotations

import pytest

from domain.lifecycle import State
from tests import builders
from tests.builders.registry import REVIEWER, SUPERVISOR
from tests.integration.web.console import ConsoleWeb, csrf_of, sign_in, waiting
from tests.integration.web.test_console_registration import console, form_of

__all__ = ["console"]  # the fixture, reused


@pytest.fixture
def four_eyes(console: ConsoleWeb) -> ConsoleWeb:
    changed = {office.office_code: office for office in builders.four_eyes_offices().offices}
    data = console.registry.data
    data.offices = [changed.get(office.office_code, office) for office in data.offices]
    return console


async def _propose(web: ConsoleWeb, request_id: str) -> None:
    async with web.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get(f"/console/registrations/{request_id}")
        form = form_of(page.text) | {"outcome": "reject", "reason_code": "PHOTO_UNCLEAR"}
        answer = await http.post(f"/console/registrations/{request_id}/decide", data=form)
    assert answer.status_code == 303


async def test_the_proposer_sees_it_waiting_and_cannot_confirm_it(four_eyes: ConsoleWeb) -> None:
    rid = waiting(four_eyes, "HCM-1")
    await _propose(four_eyes, "HCM-1")

    async with four_eyes.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        # The buttons are not on the proposer's page; a crafted form is refused all the same.
        crafted = {
            "csrf_token": csrf_of(page.text),
            "decision_id": "a-crafted-decision",
            "outcome": "confirm_rejection",
        }
        refused = await http.post("/console/registrations/HCM-1/decide", data=crafted)

    assert "Đề xuất của bạn đang chờ một cán bộ thứ hai xác nhận." in page.text
    assert "Xác nhận từ chối" not in page.text
    assert "Không đồng ý" not in page.text
    assert 'value="approve"' not in page.text  # no other decision while a proposal waits
    assert refused.status_code == 409
    assert "Người đề xuất từ chối không thể tự xác nhận" in refused.text
    view = four_eyes.service.get(rid)
    assert view.state is State.REJECTION_PROPOSED
    names = [type(event).__name__ for event in four_eyes.service.history(rid)]
    assert names[-2:] == ["RejectionProposed", "DecisionRefused"]


async def test_a_second_reviewer_confirms(four_eyes: ConsoleWeb) -> None:
    rid = waiting(four_eyes, "HCM-1")
    await _propose(four_eyes, "HCM-1")

    async with four_eyes.client() as http:
        await sign_in(http, SUPERVISOR)
        queue = await http.get("/console/queue")
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "confirm_rejection"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)

    assert "HCM-1" in queue.text
    assert "Đề xuất từ chối, chờ xác nhận" in queue.text

    assert "Xác nhận từ chối" in page.text
    assert "Không đồng ý" in page.text
    assert f"Cán bộ {REVIEWER} đề xuất từ chối" in page.text
    assert "ảnh chân dung không rõ; chờ cán bộ thứ hai xác nhận" in page.text  # the history
    assert answer.status_code == 303
    view = four_eyes.service.get(rid)
    assert view.state is State.REJECTED
    assert view.reason_code == "PHOTO_UNCLEAR"
    assert view.decided_by == SUPERVISOR


async def test_a_second_reviewer_declines_and_it_is_back_in_review(four_eyes: ConsoleWeb) -> None:
    rid = waiting(four_eyes, "HCM-1")
    await _propose(four_eyes, "HCM-1")

    async with four_eyes.client() as http:
        await sign_in(http, SUPERVISOR)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "decline_rejection", "note": "Ảnh đủ rõ"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)
        after = await http.get("/console/registrations/HCM-1")

    assert answer.status_code == 303
    assert four_eyes.service.get(rid).state is State.AWAITING_REVIEW
    assert "Phê duyệt" in after.text
    assert "Xác nhận từ chối" not in after.text


async def test_a_confirmation_without_the_csrf_token_is_403(four_eyes: ConsoleWeb) -> None:
    rid = waiting(four_eyes, "HCM-1")
    await _propose(four_eyes, "HCM-1")

    async with four_eyes.client() as http:
        await sign_in(http, SUPERVISOR)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "confirm_rejection", "csrf_token": "forged"}
        answer = await http.post("/console/registrations/HCM-1/decide", data=form)

    assert csrf_of(page.text) != "forged"
    assert answer.status_code == 403
    assert four_eyes.service.get(rid).state is State.REJECTION_PROPOSED
