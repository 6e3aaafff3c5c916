"""``POST /v1/documents``: an upstream without access to the machine's disk puts a document."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from activities.documents import MAX_BYTES
from tests.integration.web.conftest import INTAKE_TOKEN, Web, the_registry
from web.app import create_app
from web.dependencies import WebDependencies
from web.security import SECURITY_HEADERS
from workers.run.demo import demo_picture

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
JPEG = {**AUTH, "Content-Type": "image/jpeg"}
PNG = {**AUTH, "Content-Type": "image/png"}


def a_png() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(demo_picture(3, "ANH CHAN DUNG"))).save(out, format="PNG")
    return out.getvalue()


def a_decompression_bomb(side: int) -> bytes:
    """A few kilobytes of PNG that decode to side² pixels."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def error_of(response: httpx.Response) -> dict[str, str]:
    body: dict[str, dict[str, str]] = response.json()
    return body["error"]


async def test_a_jpeg_goes_into_the_encrypted_intake_under_its_sha256(
    web: Web, client: httpx.AsyncClient
) -> None:
    photo = demo_picture(1, "ANH CHAN DUNG")

    response = await client.post("/v1/documents", content=photo, headers=JPEG)

    reference = "sha256:" + hashlib.sha256(photo).hexdigest()
    assert response.status_code == 201
    assert response.json() == {"reference": reference}
    stored = (web.documents.root / "intake" / reference.removeprefix("sha256:")).read_bytes()
    assert stored.startswith(b"childreg-intake-aes-gcm-v1\n")
    assert web.documents.read_intake(reference) == photo


async def test_the_same_bytes_answer_the_same_reference_every_time(
    client: httpx.AsyncClient,
) -> None:
    picture = a_png()

    first = await client.post("/v1/documents", content=picture, headers=PNG)
    second = await client.post(
        "/v1/documents",
        content=picture,
        headers={"Authorization": "Bearer another-upstream-token", "Content-Type": "image/png"},
    )

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {INTAKE_TOKEN}",
        "Bearer not-the-token",
        f"Bearer {INTAKE_TOKEN}x",
        f"Bearer {INTAKE_TOKEN[:-1]}",
        "Bearer " + INTAKE_TOKEN[:5] + chr(ord(INTAKE_TOKEN[5]) ^ 1) + INTAKE_TOKEN[6:],
    ],
)
async def test_without_a_valid_bearer_token_it_is_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Content-Type": "image/jpeg"}
    if authorization is not None:
        headers["Authorization"] = authorization

    response = await client.post("/v1/documents", content=demo_picture(1, "X"), headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert error_of(response) == {
        "field": "authorization",
        "rule": "a valid bearer token is required",
    }


async def test_an_intake_without_tokens_refuses_everyone(web: Web) -> None:
    deps = WebDependencies(
        registrations=web.service,
        registry=the_registry(),
        links=web.signer,
        documents=web.documents,
        intake_tokens=[],
        client_key=b"k",
    )
    transport = httpx.ASGITransport(app=create_app(deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/v1/documents", content=b"x", headers={"Authorization": "Bearer ", **JPEG}
        )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/octet-stream", "image/gif"]
)
async def test_a_body_not_sent_as_jpeg_or_png_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type

    response = await client.post("/v1/documents", content=demo_picture(1, "X"), headers=headers)

    assert response.status_code == 415
    assert error_of(response) == {
        "field": "content_type",
        "rule": "the body must be sent as image/jpeg or image/png",
    }


async def test_a_body_that_is_not_an_image_by_its_content_is_415(
    client: httpx.AsyncClient,
) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (400, 400)).save(gif, format="GIF")

    for body in (b"%PDF-1.7 not an image", gif.getvalue()):
        response = await client.post("/v1/documents", content=body, headers=JPEG)

        assert response.status_code == 415
        assert error_of(response) == {
            "field": "body",
            "rule": "a document must be a JPEG or PNG image",
        }


async def test_a_png_sent_as_a_jpeg_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/documents", content=a_png(), headers=JPEG)

    assert response.status_code == 415
    assert error_of(response) == {
        "field": "content_type",
        "rule": "the body is a PNG image: send it as image/png",
    }


async def test_an_empty_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/documents", content=b"", headers=JPEG)

    assert response.status_code == 400
    assert error_of(response) == {
        "field": "body",
        "rule": "the body is empty: send the image's bytes",
    }


async def test_a_jpeg_with_a_truncated_scan_is_400(client: httpx.AsyncClient) -> None:
    photo = demo_picture(1, "ANH CHAN DUNG")

    response = await client.post(
        "/v1/documents", content=photo[: len(photo) * 2 // 3], headers=JPEG
    )

    assert response.status_code == 400
    assert error_of(response) == {
        "field": "body",
        "rule": "the image cannot be decoded (truncated or damaged)",
    }


@pytest.mark.parametrize("side", [8_000, 12_000, 16_000])
async def test_a_png_decompression_bomb_is_refused_before_it_is_decoded(
    client: httpx.AsyncClient, side: int
) -> None:
    bomb = a_decompression_bomb(side)  # past our limit, Pillow's warning, Pillow's error
    assert len(bomb) < 100_000

    response = await client.post("/v1/documents", content=bomb, headers=PNG)

    assert response.status_code == 413
    assert error_of(response) == {
        "field": "body",
        "rule": "a document must be at most 50000000 pixels",
    }


async def test_a_body_past_the_limit_is_413_while_it_is_read(client: httpx.AsyncClient) -> None:
    sent = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BYTES // 65536 * 4):
            sent.append(1)
            yield b"\xff" * 65536

    response = await client.post("/v1/documents", content=chunks(), headers=JPEG)

    assert response.status_code == 413
    assert error_of(response) == {
        "field": "body",
        "rule": f"a document must be at most {MAX_BYTES} bytes",
    }
    assert len(sent) <= MAX_BYTES // 65536 + 2  # it stopped reading past the limit


async def test_a_huge_content_length_with_a_short_body_is_413_unread(
    client: httpx.AsyncClient,
) -> None:
    request = client.build_request(
        "POST", "/v1/documents", content=b"\xff\xd8\xff short", headers=JPEG
    )
    request.headers["Content-Length"] = str(10**12)

    response = await client.send(request)

    assert response.status_code == 413


async def test_a_body_shorter_than_its_content_length_is_400(client: httpx.AsyncClient) -> None:
    request = client.build_request("POST", "/v1/documents", content=b"\xff\xd8\xff", headers=JPEG)
    request.headers["Content-Length"] = "5000"

    response = await client.send(request)

    assert response.status_code == 400
    assert error_of(response)["field"] == "body"


async def test_errors_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/documents", content=b"x")

    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


async def test_the_openapi_document_describes_the_intake(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    operation = document["paths"]["/v1/documents"]["post"]
    assert set(operation["requestBody"]["content"]) == {"image/jpeg", "image/png"}
    assert {"201", "400", "401", "413", "415"} <= set(operation["responses"])
    assert "/declarations/{token}" not in document["paths"]
    assert {"/healthz", "/readyz"} <= set(document["paths"])
