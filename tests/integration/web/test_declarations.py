"""The guardian's link, as a guardian's phone (and someone guessing links) meets it."""

from __future__ import annotations

import base64
import io
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import httpx
import pypdf
import pytest
from structlog.testing import capture_logs

from activities.keys import CACHE_SECONDS, DataKeys
from activities.notifications.declaration import render_declaration
from activities.notifications.links import DECLARATION, LinkSigner
from domain.contract import RegistrationRequest
from domain.registration import Registration, registration_id_for
from projections.audit.timeline import timeline
from tests.integration.web.conftest import (
    CLIENT,
    LINK_SECRET,
    Web,
    a_cause,
    awaiting_review,
    client_for,
    submit,
)
from web.dependencies import RateLimits
from web.security import SECURITY_HEADERS
from workers.bootstrap import registration_service

INVALID = "Đường dẫn không hợp lệ"
EXPIRED = "Đường dẫn đã hết hạn"


def flip_a_bit(token: str, byte: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[byte] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def viewed(web: Web, registration_id: UUID) -> list[Registration.DeclarationViewed]:
    return [
        event
        for event in web.service.history(registration_id)
        if isinstance(event, Registration.DeclarationViewed)
    ]


async def test_the_page_shows_the_declaration_in_vietnamese(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = awaiting_review(web.service)
    token = web.token(view.registration_id)

    response = await client.get(f"/declarations/{token}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<html lang="vi">' in page
    assert "DK-" + view.registration_id.hex[:8].upper() in page
    assert "Nguyễn Minh Khôi" in page
    assert "Nguyễn Văn An (Cha)" in page
    assert "BHXH Quận 1" in page
    assert "25/11/2026 09:00 (giờ Việt Nam)" in page
    assert "Đang chờ cơ quan BHXH xét duyệt" in page
    assert f'href="/declarations/{token}/pdf"' in page
    # Only what the declaration's page is for: no codes, phone or email of anyone.
    for personal in ("7912345678", "0123456789", "0912345678", "an.nguyen@example.vn"):
        assert personal not in page


async def test_the_page_escapes_what_was_declared(web: Web, client: httpx.AsyncClient) -> None:
    view = submit(web.service, child__full_name="Nguyễn Minh K'Hôi")

    page = (await client.get(f"/declarations/{web.token(view.registration_id)}")).text

    assert "Nguyễn Minh K&#39;Hôi" in page


async def test_the_pdf_is_the_emailed_declaration_with_its_file_name(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = awaiting_review(web.service)
    reference = "DK-" + view.registration_id.hex[:8].upper()

    response = await client.get(f"/declarations/{web.token(view.registration_id)}/pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="to-khai-{reference}.pdf"'
    )
    request = RegistrationRequest.model_validate(view.request)
    assert response.content == render_declaration(
        request, registration_id=view.registration_id, office_name="BHXH Quận 1"
    )
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    assert "Nguyễn Minh Khôi" in text


@pytest.mark.parametrize("suffix", ["", "/pdf"])
async def test_every_answer_carries_the_security_headers(
    web: Web, client: httpx.AsyncClient, suffix: str
) -> None:
    view = submit(web.service)
    good = web.token(view.registration_id)
    expired = web.token(view.registration_id, valid_for=timedelta(seconds=-1))

    for token, status in ((good, 200), ("not-a-token", 404), (expired, 410)):
        response = await client.get(f"/declarations/{token}{suffix}")

        assert response.status_code == status
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
    assert SECURITY_HEADERS["Cache-Control"] == "no-store"
    assert "default-src 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert SECURITY_HEADERS["Referrer-Policy"] == "no-referrer"


async def test_each_view_and_download_is_recorded_without_the_address(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = awaiting_review(web.service)
    token = web.token(view.registration_id)

    await client.get(f"/declarations/{token}")
    await client.get(f"/declarations/{token}/pdf")

    events = viewed(web, view.registration_id)
    assert [event.opened for event in events] == ["page", "pdf"]
    assert all(event.actor_kind == "guardian" for event in events)
    assert events[0].client_digest == events[1].client_digest
    assert len(events[0].client_digest) == 64
    assert CLIENT[0] not in repr(events[0].__dict__)
    assert web.service.get(view.registration_id).state == view.state
    assert events[0].timestamp == web.clocks.now


async def test_another_address_is_told_apart_by_its_digest(web: Web) -> None:
    view = submit(web.service)
    token = web.token(view.registration_id)

    for address in (CLIENT, ("198.51.100.9", 40000)):
        async with client_for(web.app, address) as client:
            await client.get(f"/declarations/{token}")

    first, second = viewed(web, view.registration_id)
    assert first.client_digest != second.client_digest


async def test_the_audit_timeline_shows_when_the_guardian_opened_it(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = submit(web.service)

    await client.get(f"/declarations/{web.token(view.registration_id)}/pdf")

    last = timeline(web.service.history(view.registration_id))[-1]
    assert last.event == "DeclarationViewed"
    assert last.actor_kind == "guardian"
    assert last.summary.startswith("declaration pdf opened through the guardian's link")


def _tokens_that_are_not_valid(web: Web, registration_id: UUID) -> dict[str, str]:
    good = web.token(registration_id)
    expires = web.clocks.now + timedelta(days=30)
    other_id = registration_id_for("vssid-someone-else")
    return {
        "malformed": "not-a-token",
        "empty-ish": "-",
        "a flipped bit in the id": flip_a_bit(good, 3),
        "a flipped bit in the expiry": flip_a_bit(good, 18),
        "a flipped bit in the mac": flip_a_bit(good, -1),
        "truncated": good[:-4],
        "another secret": LinkSigner("another-secret-entirely-0123456789").sign(
            registration_id, DECLARATION, expires
        ),
        "another purpose": LinkSigner(LINK_SECRET, purpose="password-reset").sign(
            registration_id, DECLARATION, expires
        ),
        "another document": web.signer.sign(registration_id, "portrait", expires),
        "an unknown registration": web.signer.sign(other_id, DECLARATION, expires),
        "another registration's id under this mac": _swap_id(good, other_id),
        "dot dot": "%2E%2E",
        "dot dot slash": "..%2F..%2Fhealthz",
        "very long": "A" * 5000,
    }


def _swap_id(token: str, other: UUID) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[1:17] = other.bytes
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("suffix", ["", "/pdf"])
async def test_every_invalid_link_gets_the_same_404(
    web: Web, client: httpx.AsyncClient, suffix: str
) -> None:
    view = submit(web.service)
    reference = await client.get(f"/declarations/not-a-token{suffix}")

    for cause, token in _tokens_that_are_not_valid(web, view.registration_id).items():
        response = await client.get(f"/declarations/{token}{suffix}")

        assert response.status_code == 404, cause
        assert response.text == reference.text, cause
        assert response.headers["content-type"] == "text/html; charset=utf-8", cause
    assert INVALID in reference.text
    assert viewed(web, view.registration_id) == []


async def test_paths_that_match_no_route_under_declarations_get_the_same_page(
    client: httpx.AsyncClient,
) -> None:
    reference = await client.get("/declarations/not-a-token")

    for path in ("/declarations/", "/declarations/a/b/c", "/declarations/x/pdf/more"):
        response = await client.get(path)

        assert response.status_code == 404, path
        assert response.text == reference.text, path


async def test_an_expired_link_says_so_and_how_to_get_a_new_one(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = submit(web.service)
    token = web.token(view.registration_id, valid_for=timedelta(days=30))

    web.clocks.now += timedelta(days=30)
    page = await client.get(f"/declarations/{token}")
    pdf = await client.get(f"/declarations/{token}/pdf")

    assert page.status_code == pdf.status_code == 410
    assert EXPIRED in page.text
    assert "VssID" in page.text
    assert "1900 9068" in page.text
    assert viewed(web, view.registration_id) == []


async def test_a_forged_expired_link_is_just_invalid(web: Web, client: httpx.AsyncClient) -> None:
    view = submit(web.service)
    expired = web.token(view.registration_id, valid_for=timedelta(seconds=-10))

    response = await client.get(f"/declarations/{flip_a_bit(expired, 5)}")

    assert response.status_code == 404


async def test_a_withdrawn_registration_still_shows_its_declaration(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = submit(web.service)
    web.service.execute(view.registration_id, Registration.withdraw, None, a_cause("withdraw"))

    response = await client.get(f"/declarations/{web.token(view.registration_id)}")

    assert response.status_code == 200
    assert "Đã rút tờ khai" in response.text
    assert "Nguyễn Minh Khôi" in response.text


async def test_an_erased_registration_answers_410_with_a_vietnamese_page(
    make_web: Callable[..., Web], database_url: str
) -> None:
    cipher_key = base64.b64encode(secrets.token_bytes(32)).decode()
    service = registration_service(database_url, cipher_key)
    web = make_web(service=service)
    view = submit(web.service)
    web.service.execute(view.registration_id, Registration.withdraw, None, a_cause("withdraw"))
    web.service.execute(view.registration_id, Registration.erase, "request", a_cause("erase"))
    keys = DataKeys(database_url, cipher_key)
    assert keys.erase(view.registration_id)
    keys.close()
    time.sleep(CACHE_SECONDS + 0.5)  # the web tier's service re-reads the key

    async with client_for(web.app) as client:
        for suffix in ("", "/pdf"):
            response = await client.get(f"/declarations/{web.token(view.registration_id)}{suffix}")

            assert response.status_code == 410
            assert "Dữ liệu của hồ sơ đã được xoá" in response.text
            assert "Nguyễn Minh Khôi" not in response.text
    service.close()


async def test_an_expired_registration_still_shows_its_declaration(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = awaiting_review(web.service)
    web.service.execute(view.registration_id, Registration.expire, a_cause("expire"))

    response = await client.get(f"/declarations/{web.token(view.registration_id)}/pdf")
    page = await client.get(f"/declarations/{web.token(view.registration_id)}")

    assert response.status_code == 200
    assert "Đã hết thời hạn xét duyệt" in page.text
    assert web.service.get(view.registration_id).state.value == "expired"


async def test_a_rejection_shows_its_reason_as_the_guardian_reads_it(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = awaiting_review(web.service)
    web.service.execute(
        view.registration_id,
        Registration.reject,
        "d-1",
        "reviewer-1",
        "PHOTO_UNCLEAR",
        None,
        a_cause("reject"),
    )

    page = (await client.get(f"/declarations/{web.token(view.registration_id)}")).text

    assert "Không được phê duyệt" in page
    assert "ảnh" in page.lower()


async def test_one_link_is_limited_and_answers_retry_after(
    make_web: Callable[..., Web],
) -> None:
    web = make_web(RateLimits(per_token=3, per_address=100, window_seconds=60))
    view = submit(web.service)
    token = web.token(view.registration_id)

    async with client_for(web.app) as client:
        answers = [(await client.get(f"/declarations/{token}")).status_code for _ in range(4)]
        refused = await client.get(f"/declarations/{token}/pdf")
        web.clocks.ticks += 20  # one request's worth of the window
        again = await client.get(f"/declarations/{token}")

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["cache-control"] == "no-store"
    assert again.status_code == 200
    assert len(viewed(web, view.registration_id)) == 4


async def test_one_address_is_limited_across_tokens_and_others_are_not(
    make_web: Callable[..., Web],
) -> None:
    web = make_web(RateLimits(per_token=100, per_address=5, window_seconds=60))

    async with client_for(web.app) as guesser:
        guesses = [(await guesser.get(f"/declarations/guess{n}")).status_code for n in range(6)]
    async with client_for(web.app, ("198.51.100.9", 40000)) as someone_else:
        other = await someone_else.get("/declarations/guess0")

    assert guesses == [404] * 5 + [429]
    assert other.status_code == 404


async def test_logs_name_the_registration_and_outcome_never_the_token(
    web: Web, client: httpx.AsyncClient
) -> None:
    view = submit(web.service)
    token = web.token(view.registration_id)
    expired = web.token(view.registration_id, valid_for=timedelta(seconds=-1))

    with capture_logs() as logs:
        await client.get(f"/declarations/{token}?utm=sms")
        await client.get(f"/declarations/{flip_a_bit(token, 3)}")
        await client.get(f"/declarations/{expired}")

    text = repr(logs)
    assert token not in text
    assert expired not in text
    assert "utm" not in text
    assert "Nguyễn" not in text
    opened = [entry for entry in logs if entry["event"] == "declaration.opened"]
    assert opened == [
        {
            "event": "declaration.opened",
            "log_level": "info",
            "registration_id": str(view.registration_id),
            "what": "page",
        }
    ]
    outcomes = [entry["outcome"] for entry in logs if entry["event"] == "declaration.refused"]
    assert outcomes == ["bad_signature", "expired"]
    routes = [entry["route"] for entry in logs if entry["event"] == "http.request"]
    assert routes == ["/declarations/{token}"] * 3


async def test_the_stylesheet_is_served_from_the_same_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/declaration.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
