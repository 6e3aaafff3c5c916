"""``/healthz`` and ``/readyz`` as a load balancer or Kubernetes probes them, and the access log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from structlog.testing import capture_logs

from tests.integration.web.conftest import Web, client_for
from web import health


async def answers() -> None:
    return None


async def refuses() -> None:
    raise ConnectionRefusedError("connection to temporal:7233 refused (user=childreg)")


async def hangs() -> None:
    await asyncio.sleep(60)


async def test_healthz_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_200_when_postgresql_and_temporal_answer(
    make_web: Callable[..., Web],
) -> None:
    web = make_web(probes={"postgresql": answers, "temporal": answers})

    async with client_for(web.app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"postgresql": "ok", "temporal": "ok"},
        "failing": [],
    }


async def test_readyz_is_503_naming_what_does_not_answer_and_not_why(
    make_web: Callable[..., Web],
) -> None:
    web = make_web(probes={"postgresql": answers, "temporal": refuses})

    async with client_for(web.app) as client:
        with capture_logs() as logs:
            response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"postgresql": "ok", "temporal": "failing"},
        "failing": ["temporal"],
    }
    assert "childreg" not in response.text
    assert {"event": "readiness.failing", "check": "temporal"}.items() <= logs[0].items()


async def test_a_check_that_hangs_counts_as_failing(
    make_web: Callable[..., Web], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "PROBE_TIMEOUT_SECONDS", 0.05)
    web = make_web(probes={"postgresql": hangs, "temporal": answers})

    async with client_for(web.app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["postgresql"]


async def test_the_access_log_has_the_route_never_the_path_or_query(
    client: httpx.AsyncClient,
) -> None:
    with capture_logs() as logs:
        await client.get("/healthz?token=secret-value")
        await client.get("/no/such/path/0912345678")
        await client.post("/v1/documents", content=b"body-bytes")

    lines = [entry for entry in logs if entry["event"] == "http.request"]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/healthz", 200),
        ("GET", "unmatched", 404),
        ("POST", "/v1/documents", 401),
    ]
    text = repr(logs)
    for secret in ("secret-value", "0912345678", "body-bytes", "token="):
        assert secret not in text
    assert all(isinstance(line["duration_ms"], float) for line in lines)
