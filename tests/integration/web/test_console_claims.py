"""Claims in the console: Nhận xử lý, the holder named on the page and in the queue, the views
Của tôi and Chưa nhận, another reviewer's decision refused naming the holder, a supervisor's
Tiếp nhận thay, Trả lại; CSRF and the office checked like every POST."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from domain.contract import ClaimUpdate, ReleaseUpdate
from tests.builders.registry import OTHER_OFFICE, OTHER_REVIEWER, REVIEWER, SUPERVISOR
from tests.integration.web.console import ConsoleWeb, console_web, csrf_of, sign_in, waiting
from tests.integration.web.test_console_registration import form_of

_CLAIM_ID = re.compile(r'name="claim_id" value="([^"]+)"')
_ROW = re.compile(r'href="/console/registrations/([^"]+)"')
HOLDER_LINE = "Đang được xử lý bởi Phạm Thu Hà đến 25/11/2026 10:30"
"""REVIEWER's name from the registry; the lease ends 30 minutes after 03:00 UTC, in Vietnam time."""


@pytest.fixture
def console(tmp_path: Path) -> ConsoleWeb:
    web = console_web(tmp_path)
    for reviewer_id in (REVIEWER, SUPERVISOR, OTHER_REVIEWER):
        web.set_password(reviewer_id)
    return web


def claim_form(html: str) -> dict[str, str]:
    found = _CLAIM_ID.search(html)
    assert found, "the page has no claim form"
    return {"csrf_token": csrf_of(html), "claim_id": found.group(1)}


async def claimed_by(http: httpx.AsyncClient, reviewer_id: str, request_id: str) -> None:
    await sign_in(http, reviewer_id)
    page = await http.get(f"/console/registrations/{request_id}")
    answer = await http.post(
        f"/console/registrations/{request_id}/claim", data=claim_form(page.text)
    )
    assert answer.status_code == 303


async def test_a_claim_names_its_holder_on_the_page_with_the_sessions_reviewer(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        before = await http.get("/console/registrations/HCM-1")
        form = claim_form(before.text) | {"reviewer_id": SUPERVISOR}
        answer = await http.post("/console/registrations/HCM-1/claim", data=form)
        after = await http.get(answer.headers["location"])

    assert "Nhận xử lý" in before.text
    assert "Trả lại" not in before.text
    assert answer.status_code == 303
    sent = console.decisions.claims
    assert sent == [ClaimUpdate(claim_id=form["claim_id"], reviewer_id=REVIEWER)]  # not the form's
    assert HOLDER_LINE in after.text
    assert "Bạn đang xử lý hồ sơ này." in after.text
    assert "Trả lại" in after.text
    assert "Tiếp nhận thay" not in after.text


async def test_another_reviewers_decision_is_refused_naming_the_holder(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-1")

    async with console.client() as holder, console.client() as supervisor:
        await claimed_by(holder, REVIEWER, "HCM-1")
        await sign_in(supervisor, SUPERVISOR)
        page = await supervisor.get("/console/registrations/HCM-1")
        refused = await supervisor.post(
            "/console/registrations/HCM-1/decide", data=form_of(page.text) | {"outcome": "approve"}
        )
        mine = await holder.get("/console/registrations/HCM-1")
        decided = await holder.post(
            "/console/registrations/HCM-1/decide", data=form_of(mine.text) | {"outcome": "approve"}
        )

    assert HOLDER_LINE in page.text
    assert "Nhận xử lý</button>" not in page.text
    assert "Tiếp nhận thay" in page.text  # a supervisor may take it over
    assert refused.status_code == 409
    assert (
        '<p class="error card" role="alert">Hồ sơ đang được xử lý bởi Phạm Thu Hà'
        " đến 25/11/2026 10:30: chỉ người đó được quyết định.</p>"
    ) in refused.text
    assert decided.status_code == 303
    assert console.service.get_by_request("HCM-1").decided_by == REVIEWER


async def test_a_supervisor_takes_over_and_then_releases(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")

    async with console.client() as holder, console.client() as supervisor:
        await claimed_by(holder, REVIEWER, "HCM-1")
        await sign_in(supervisor, SUPERVISOR)
        page = await supervisor.get("/console/registrations/HCM-1")
        taken = await supervisor.post(
            "/console/registrations/HCM-1/claim", data=claim_form(page.text) | {"takeover": "1"}
        )
        after = await supervisor.get("/console/registrations/HCM-1")
        former = await holder.get("/console/registrations/HCM-1")
        released = await supervisor.post(
            "/console/registrations/HCM-1/release", data=claim_form(after.text)
        )
        free = await holder.get("/console/registrations/HCM-1")

    assert taken.status_code == 303
    assert "Đang được xử lý bởi Đỗ Quang Vinh đến 25/11/2026 10:30" in after.text
    assert "Trả lại" in after.text
    assert "Trả lại" not in former.text
    assert "Nhận xử lý</button>" not in former.text
    assert released.status_code == 303
    assert isinstance(console.decisions.claims[-1], ReleaseUpdate)
    assert "Đang được xử lý bởi" not in free.text
    assert "Nhận xử lý</button>" in free.text


async def test_a_reviewer_cannot_take_over_nor_claim_a_held_one(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")

    async with console.client() as supervisor, console.client() as reviewer:
        await claimed_by(supervisor, SUPERVISOR, "HCM-1")
        await sign_in(reviewer, REVIEWER)
        page = await reviewer.get("/console/registrations/HCM-1")
        form = {"csrf_token": csrf_of(page.text), "claim_id": "c-forged"}
        takeover = await reviewer.post(
            "/console/registrations/HCM-1/claim", data=form | {"takeover": "1"}
        )
        claim = await reviewer.post(
            "/console/registrations/HCM-1/claim", data=form | {"claim_id": "c-other"}
        )

    assert "Tiếp nhận thay" not in page.text
    assert takeover.status_code == 409
    assert "Chỉ lãnh đạo của cơ quan" in takeover.text
    assert claim.status_code == 409
    assert "Hồ sơ đang được xử lý bởi Đỗ Quang Vinh" in claim.text
    assert console.service.get_by_request("HCM-1").claimed_by == SUPERVISOR


async def test_the_queue_views_mine_and_unclaimed_count_and_name_the_holder(
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-1")
    waiting(console, "HCM-2", deadline=console.clocks.now + timedelta(days=4))
    waiting(console, "HCM-3", deadline=console.clocks.now + timedelta(days=5))

    async with console.client() as mine, console.client() as theirs:
        await claimed_by(mine, REVIEWER, "HCM-1")
        await claimed_by(theirs, SUPERVISOR, "HCM-2")
        everything = await mine.get("/console/queue")
        own = await mine.get("/console/queue", params={"view": "mine"})
        unclaimed = await mine.get("/console/queue", params={"view": "unclaimed"})
        console.clocks.now += timedelta(minutes=31)  # both leases lapse (and the sessions idle)
        await sign_in(mine, REVIEWER)
        lapsed = await mine.get("/console/queue", params={"view": "unclaimed"})

    assert "Của tôi (1)" in everything.text
    assert "Chưa nhận (1)" in everything.text
    assert "Phạm Thu Hà" in everything.text
    assert "Đỗ Quang Vinh" in everything.text
    assert _ROW.findall(own.text) == ["HCM-1"]
    assert _ROW.findall(unclaimed.text) == ["HCM-3"]
    assert _ROW.findall(lapsed.text) == ["HCM-1", "HCM-2", "HCM-3"]
    assert "Của tôi (0)" in lapsed.text
    assert "Đỗ Quang Vinh" not in lapsed.text


async def test_a_claim_without_csrf_is_403_and_another_offices_is_404(console: ConsoleWeb) -> None:
    waiting(console, "HCM-1")
    waiting(console, "HN-1", office_code=OTHER_OFFICE)

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = claim_form(page.text)
        without = await http.post(
            "/console/registrations/HCM-1/claim", data={"claim_id": form["claim_id"]}
        )
        forged = await http.post(
            "/console/registrations/HCM-1/release",
            data={"csrf_token": "not-this-sessions", "claim_id": form["claim_id"]},
        )
        other = await http.post("/console/registrations/HN-1/claim", data=form)
        other_release = await http.post("/console/registrations/HN-1/release", data=form)
        unknown = await http.post("/console/registrations/NOBODY-1/claim", data=form)

    assert without.status_code == forged.status_code == 403
    assert other.status_code == other_release.status_code == unknown.status_code == 404
    assert console.decisions.claims == []
