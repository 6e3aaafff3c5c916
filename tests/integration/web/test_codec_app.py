"""The codec protocol's ASGI application in process (the real server is tests/e2e/test_codec_server.py)."""

from __future__ import annotations

import json

import httpx
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from tests.workflow.conftest import TEST_KEY
from web.codec import create_codec_app
from workers.temporal_client import ENCODING, AesGcmCodec

UI = "http://localhost:8233"


def app(
    *, authorization: str | None = None, client: tuple[str, int] = ("127.0.0.1", 50000)
) -> httpx.AsyncClient:
    codec = AesGcmCodec(TEST_KEY)
    built = create_codec_app(
        codec,
        key_id=codec.key_id.decode(),
        encrypted_encoding=ENCODING,
        ui_origins=[UI],
        authorization=authorization,
    )
    transport = httpx.ASGITransport(app=built, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081")


def payloads(*texts: str) -> str:
    message = Payloads(
        payloads=[
            Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(t).encode())
            for t in texts
        ]
    )
    return json_format.MessageToJson(message)


async def test_encode_then_decode_under_a_namespace_path() -> None:
    async with app() as client:
        encoded = await client.post(
            "/encode",
            content=payloads("Nguyễn Minh Khôi"),
            headers={"Content-Type": "application/json"},
        )
        decoded = await client.post(
            "/default/decode", content=encoded.content, headers={"Content-Type": "application/json"}
        )

    assert encoded.status_code == decoded.status_code == 200
    assert "Nguy" not in encoded.text
    assert json.loads(decoded.content) == json.loads(payloads("Nguyễn Minh Khôi"))


async def test_the_protocol_refuses_what_it_does_not_speak() -> None:
    async with app() as client:
        other = await client.post(
            "/convert", content="{}", headers={"Content-Type": "application/json"}
        )
        read = await client.get("/decode")
        text = await client.post("/decode", content="{}", headers={"Content-Type": "text/plain"})
        chunked = await client.post(
            "/decode",
            content="{}",
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )

    assert (other.status_code, read.status_code, text.status_code) == (404, 405, 415)
    assert read.headers["allow"] == "POST, OPTIONS"
    assert chunked.status_code == 411
    assert text.headers["connection"] == "close"


async def test_loopback_only_refuses_other_callers_and_other_host_names() -> None:
    async with app(client=("203.0.113.7", 50000)) as stranger:
        far = await stranger.post(
            "/decode", content="{}", headers={"Content-Type": "application/json"}
        )
    async with app() as near:
        rebound = await near.post(
            "/decode",
            content="{}",
            headers={"Content-Type": "application/json", "Host": "evil.example"},
        )

    assert far.status_code == rebound.status_code == 403
    assert "loopback only" in far.text


async def test_the_web_ui_preflight_and_authorization() -> None:
    async with app(authorization="Bearer t0ken") as client:
        preflight = await client.options("/decode", headers={"Origin": UI})
        missing = await client.post(
            "/decode", content="{}", headers={"Content-Type": "application/json"}
        )
        right = await client.post(
            "/decode",
            content="{}",
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer t0ken",
                "Origin": UI,
            },
        )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in preflight.headers["access-control-allow-headers"]
    assert (missing.status_code, right.status_code) == (401, 200)
    assert right.headers["access-control-allow-origin"] == UI
