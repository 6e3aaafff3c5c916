"""Issue 15 item 6, the reviewer console's POSTs and paths (the fixtures of
tests/integration/web): without CSRF, for an unknown request id, with a smuggled reviewer, with
``..`` in the path. Each case is a test id of the README's "### Bad inputs" table. For each: the
status, nothing sent to the workflow and no event recorded, and the console still serving."""

from __future__ import annotations

from typing import Any

import pytest

from domain.lifecycle import State
from tests.builders.registry import REVIEWER, SUPERVISOR
from tests.integration.web.console import ConsoleWeb, csrf_of, sign_in, waiting
from tests.integration.web.test_console_registration import form_of

DECIDE = "/console/registrations/HCM-1/decide"

POST_CASES: list[Any] = [
    pytest.param(DECIDE, {"csrf_token": None}, 403, None, id="http-console-decide-without-csrf"),
    pytest.param(DECIDE, {"csrf_token": "forged"}, 403, None, id="http-console-decide-forged-csrf"),
    pytest.param(
        "/console/registrations/UNKNOWN-9/decide",
        {},
        404,
        None,
        id="http-console-unknown-request-id",
    ),
    pytest.param(
        "/console/registrations/..%2FHCM-1/decide",
        {},
        404,
        None,
        id="http-console-encoded-dot-dot",
    ),
    pytest.param(
        DECIDE,
        {"outcome": "maybe"},
        400,
        "Hãy chọn một quyết định.",
        id="http-console-unknown-outcome",
    ),
    pytest.param(
        DECIDE,
        {"decision_id": "d" * 10_000},
        400,
        "Mã quyết định không hợp lệ: tải lại trang.",
        id="http-console-decision-id-long",
    ),
    pytest.param(
        DECIDE,
        {"note": "ghi\x00chú"},
        400,
        "Ghi chú không được chứa ký tự điều khiển.",
        id="http-console-note-nul",
    ),
    pytest.param(
        DECIDE,
        {"note": "n" * 1_000_000},
        413,
        "the form is too large",
        id="http-console-note-1-mb",
    ),
]


@pytest.mark.parametrize(("path", "changes", "status", "message"), POST_CASES)
async def test_a_bad_console_post_changes_nothing(
    console: ConsoleWeb, path: str, changes: dict[str, Any], status: int, message: str | None
) -> None:
    rid = waiting(console, "HCM-1")
    events = len(console.service.history(rid))

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "approve"} | changes
        answer = await http.post(path, data={k: v for k, v in form.items() if v is not None})
        assert answer.status_code == status, answer.text[:500]
        if message:
            assert message in answer.text
        assert console.decisions.sent == []
        assert console.service.get(rid).state is State.AWAITING_REVIEW
        assert len(console.service.history(rid)) == events
        # the console still serves, and the same registration can still be decided
        good = await http.post(DECIDE, data=form_of(page.text) | {"outcome": "approve"})
    assert good.status_code == 303
    assert console.service.get(rid).state is State.APPROVED


async def test_a_reviewer_id_smuggled_in_the_form_is_ignored(  # id: http-console-smuggled-reviewer
    console: ConsoleWeb,
) -> None:
    rid = waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        page = await http.get("/console/registrations/HCM-1")
        form = form_of(page.text) | {"outcome": "approve", "reviewer_id": SUPERVISOR}
        answer = await http.post(DECIDE, data=form)

    assert answer.status_code == 303
    assert [d.reviewer_id for d in console.decisions.sent] == [REVIEWER]
    assert console.service.get(rid).decided_by == REVIEWER


async def test_a_sign_in_without_csrf_is_refused(  # id: http-console-login-without-csrf
    console: ConsoleWeb,
) -> None:
    async with console.client() as http:
        answer = await http.post(
            "/console/login", data={"reviewer_id": REVIEWER, "password": "whatever-it-is"}
        )
        form = await http.get("/console/login")

    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers or "session" not in answer.headers["set-cookie"]
    assert csrf_of(form.text)


async def test_a_document_path_with_dot_dot_is_404(  # id: http-console-document-dot-dot
    console: ConsoleWeb,
) -> None:
    waiting(console, "HCM-1")

    async with console.client() as http:
        await sign_in(http, REVIEWER)
        answers = [
            await http.get(f"/console/registrations/HCM-1/documents/{name}")
            for name in ("..%2F..%2Fintake", "..%2Fportrait", "portrait%00.jpg")
        ]
        good = await http.get("/console/registrations/HCM-1/documents/portrait")

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(not a.content.startswith(b"\xff\xd8") for a in answers)
    assert good.status_code == 200
