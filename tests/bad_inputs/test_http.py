"""Issue 15 item 6, the HTTP endpoints in-process (the fixtures of tests/integration/web): the
document intake (``POST /v1/documents``) and the guardian's declaration link. Each case is a test
id listed in the README's "### Bad inputs" table. For each: the status, an error naming the field
and the rule (Vietnamese on the guardian's page), and nothing stored (the intake directory
unchanged, no event recorded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from activities.documents import MAX_BYTES
from tests.integration.web.conftest import INTAKE_TOKEN, Web, submit
from tests.integration.web.test_declarations import INVALID, viewed
from workers.run.demo import demo_picture

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
JPEG = {**AUTH, "Content-Type": "image/jpeg"}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


INTAKE_CASES: list[Any] = [
    pytest.param({"Content-Type": "image/jpeg"}, b"photo", 401, id="http-intake-no-token"),
    pytest.param(
        {"Authorization": "Bearer wrong", "Content-Type": "image/jpeg"},
        b"photo",
        401,
        id="http-intake-wrong-token",
    ),
    pytest.param(
        {"Authorization": f"Basic {INTAKE_TOKEN}", "Content-Type": "image/jpeg"},
        b"photo",
        401,
        id="http-intake-not-a-bearer",
    ),
    pytest.param({**AUTH, "Content-Type": "text/plain"}, b"photo", 415, id="http-intake-text"),
    pytest.param(AUTH | {"Content-Type": ""}, b"photo", 415, id="http-intake-no-content-type"),
    pytest.param(JPEG, b"", 400, id="http-intake-empty-body"),
    pytest.param(JPEG, b"%PDF-1.4\n1 0 obj\n", 415, id="http-intake-not-an-image"),
    pytest.param(
        {**AUTH, "Content-Type": "image/png"}, "PNG", 415, id="http-intake-jpeg-declared-png"
    ),
    pytest.param(
        JPEG, b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + 1), 413, id="http-intake-oversized"
    ),
]


@pytest.mark.parametrize(("headers", "body", "status"), INTAKE_CASES)
async def test_a_bad_document_upload_is_refused_and_nothing_stored(
    web: Web, client: httpx.AsyncClient, headers: dict[str, str], body: bytes | str, status: int
) -> None:
    content = demo_picture(1, "ANH CHAN DUNG") if body == "PNG" else body
    before = _files(web.documents.root)

    response = await client.post("/v1/documents", content=content, headers=headers)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"], error
    assert error["rule"], error
    assert len(response.text) < 2000
    assert _files(web.documents.root) == before
    # the endpoint still serves a good document afterwards
    good = await client.post(
        "/v1/documents", content=demo_picture(2, "GIAY KHAI SINH"), headers=JPEG
    )
    assert good.status_code == 201


DECLARATION_CASES: list[Any] = [
    pytest.param("not-a-token", id="http-declaration-malformed-token"),
    pytest.param("A" * 60_000, id="http-declaration-token-60000-chars"),
    pytest.param("..%2F..%2Fetc%2Fpasswd", id="http-declaration-percent-encoded-traversal"),
    pytest.param("%00", id="http-declaration-nul"),
    pytest.param("%C0%AF", id="http-declaration-overlong-utf8"),
]


@pytest.mark.parametrize("token", DECLARATION_CASES)
async def test_a_bad_declaration_link_gets_the_vietnamese_404(
    web: Web, client: httpx.AsyncClient, token: str
) -> None:
    view = submit(web.service)
    events = len(web.service.history(view.registration_id))

    response = await client.get(f"/declarations/{token}")

    assert response.status_code in {404, 414}, response.status_code
    if response.status_code == 404:
        assert INVALID in response.text
    assert viewed(web, view.registration_id) == []
    assert len(web.service.history(view.registration_id)) == events


async def test_a_declaration_path_with_dot_dot(  # id: http-declaration-dot-dot
    web: Web, client: httpx.AsyncClient
) -> None:
    view = submit(web.service)

    response = await client.get("/declarations/../../etc/passwd")

    assert response.status_code == 404
    assert "root:" not in response.text
    assert viewed(web, view.registration_id) == []
