"""The console's sign-in: passwords, inactive reviewers, the lock, sessions, CSRF, headers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from activities.reviewer_credentials import SignInOutcome
from tests.builders.registry import INACTIVE_REVIEWER, REVIEWER
from tests.integration.web.console import PASSWORD, ConsoleWeb, console_web, csrf_of, sign_in
from web.console.session import COOKIE
from web.console.signin import PasswordRejected, hash_password


@pytest.fixture
def console(tmp_path: Path) -> ConsoleWeb:
    web = console_web(tmp_path)
    web.set_password(REVIEWER)
    web.set_password(INACTIVE_REVIEWER)
    return web


async def test_the_login_form_has_the_vietnamese_labels_and_a_strict_policy(
    console: ConsoleWeb,
) -> None:
    async with console.client() as http:
        page = await http.get("/console/login")

    assert page.status_code == 200
    for text in ("Mã cán bộ", "Mật khẩu", "Đăng nhập"):
        assert text in page.text
    assert "<script>" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "form-action 'self'" in policy
    assert "unsafe-inline" not in policy
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie


async def test_the_cookie_is_secure_over_https(console: ConsoleWeb) -> None:
    async with console.client("https://testserver") as http:
        page = await http.get("/console/login")

    assert "Secure" in page.headers["set-cookie"]


async def test_a_reviewer_signs_in_and_reaches_the_queue(console: ConsoleWeb) -> None:
    async with console.client() as http:
        signed_in = await sign_in(http, REVIEWER)
        queue = await http.get("/console/queue")

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console/queue"
    assert queue.status_code == 200
    assert "Phạm Thu Hà" in queue.text
    assert [r.outcome for r in console.credentials.history(REVIEWER)][-1] is SignInOutcome.SIGNED_IN


async def test_a_wrong_password_an_unknown_id_and_no_password_get_the_same_answer(
    console: ConsoleWeb,
) -> None:
    async with console.client() as http:
        wrong = await sign_in(http, REVIEWER, "not the password at all")
        unknown = await sign_in(http, "rv-nobody", PASSWORD)
        queue = await http.get("/console/queue")

    assert wrong.status_code == unknown.status_code == 401
    assert "Mã cán bộ hoặc mật khẩu không đúng." in wrong.text
    assert "Mã cán bộ hoặc mật khẩu không đúng." in unknown.text
    assert queue.status_code == 303
    assert queue.headers["location"] == "/console/login"


async def test_an_inactive_reviewer_cannot_sign_in_even_with_the_right_password(
    console: ConsoleWeb,
) -> None:
    async with console.client() as http:
        answer = await sign_in(http, INACTIVE_REVIEWER)
        queue = await http.get("/console/queue")

    assert answer.status_code == 401
    assert "không còn hoạt động" in answer.text
    assert queue.status_code == 303
    outcomes = [r.outcome for r in console.credentials.history(INACTIVE_REVIEWER)]
    assert outcomes[-1] is SignInOutcome.REFUSED_INACTIVE


async def test_five_failures_lock_the_account_for_fifteen_minutes(console: ConsoleWeb) -> None:
    async with console.client() as http:
        answers = [await sign_in(http, REVIEWER, f"wrong password {n}") for n in range(5)]
        right_but_locked = await sign_in(http, REVIEWER)
        console.clocks.now += timedelta(minutes=14, seconds=59)
        still_locked = await sign_in(http, REVIEWER)
        console.clocks.now += timedelta(seconds=2)
        unlocked = await sign_in(http, REVIEWER)

    assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
    assert right_but_locked.status_code == still_locked.status_code == 423
    assert "tạm khoá" in right_but_locked.text
    assert unlocked.status_code == 303
    outcomes = [r.outcome for r in console.credentials.history(REVIEWER)]
    assert outcomes[1:] == [
        *[SignInOutcome.FAILED] * 4,
        SignInOutcome.LOCKED,
        SignInOutcome.REFUSED_LOCKED,
        SignInOutcome.REFUSED_LOCKED,
        SignInOutcome.SIGNED_IN,
    ]


async def test_a_success_starts_the_failure_count_again(console: ConsoleWeb) -> None:
    async with console.client() as http:
        for n in range(4):
            await sign_in(http, REVIEWER, f"wrong password {n}")
        await sign_in(http, REVIEWER)
    async with console.client() as http:
        after = [await sign_in(http, REVIEWER, f"wrong again {n}") for n in range(4)]

    assert [a.status_code for a in after] == [401] * 4


async def test_the_records_never_hold_the_password(console: ConsoleWeb) -> None:
    async with console.client() as http:
        await sign_in(http, REVIEWER, "a-secret-typed-wrongly")

    assert "a-secret-typed-wrongly" not in repr(console.credentials.records)
    stored = console.credentials.credential(REVIEWER)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")


async def test_a_post_without_the_sessions_csrf_token_is_403(console: ConsoleWeb) -> None:
    async with console.client() as http:
        no_session = await http.post(
            "/console/login", data={"reviewer_id": REVIEWER, "password": PASSWORD}
        )
        await http.get("/console/login")
        no_token = await http.post(
            "/console/login", data={"reviewer_id": REVIEWER, "password": PASSWORD}
        )
        forged = await http.post(
            "/console/login",
            data={"csrf_token": "forged", "reviewer_id": REVIEWER, "password": PASSWORD},
        )
        await sign_in(http, REVIEWER)
        logout_without_token = await http.post("/console/logout")
        queue = await http.get("/console/queue")

    assert no_session.status_code == no_token.status_code == forged.status_code == 403
    assert logout_without_token.status_code == 403
    assert queue.status_code == 200  # the forged sign-out did nothing


async def test_the_token_of_the_login_form_does_not_survive_the_sign_in(
    console: ConsoleWeb,
) -> None:
    async with console.client() as http:
        form = await http.get("/console/login")
        before = csrf_of(form.text)
        await http.post(
            "/console/login",
            data={"csrf_token": before, "reviewer_id": REVIEWER, "password": PASSWORD},
        )
        stale = await http.post("/console/logout", data={"csrf_token": before})

    assert stale.status_code == 403


async def test_sign_out_ends_the_session(console: ConsoleWeb) -> None:
    async with console.client() as http:
        await sign_in(http, REVIEWER)
        queue = await http.get("/console/queue")
        out = await http.post("/console/logout", data={"csrf_token": csrf_of(queue.text)})
        after = await http.get("/console/queue")

    assert out.status_code == 303
    assert out.headers["location"] == "/console/login"
    assert after.status_code == 303
    assert [r.outcome for r in console.credentials.history(REVIEWER)][-1] is (
        SignInOutcome.SIGNED_OUT
    )


async def test_an_idle_session_expires_and_an_active_one_slides(console: ConsoleWeb) -> None:
    async with console.client() as http:
        await sign_in(http, REVIEWER)
        console.clocks.now += timedelta(minutes=29)
        active = await http.get("/console/queue")
        console.clocks.now += timedelta(minutes=29)
        still_active = await http.get("/console/queue")
        console.clocks.now += timedelta(minutes=31)
        expired = await http.get("/console/queue")

    assert active.status_code == still_active.status_code == 200
    assert expired.status_code == 303
    assert expired.headers["location"] == "/console/login"


async def test_a_forged_cookie_is_no_session(console: ConsoleWeb) -> None:
    async with console.client() as http:
        http.cookies.set(COOKIE, "eyJyIjoicnYtaGNtLTEifQ.forged", path="/console")
        answer = await http.get("/console/queue")

    assert answer.status_code == 303


async def test_a_reviewer_made_inactive_loses_their_session(console: ConsoleWeb) -> None:
    async with console.client() as http:
        await sign_in(http, REVIEWER)
        reviewers = console.registry.data.reviewers
        console.registry.data.reviewers = [
            r.model_copy(update={"active": False}) if r.reviewer_id == REVIEWER else r
            for r in reviewers
        ]
        answer = await http.get("/console/queue")

    assert answer.status_code == 303


def test_a_short_password_is_refused_naming_the_rule() -> None:
    with pytest.raises(PasswordRejected, match="password: at least 12 characters"):
        hash_password("short")
