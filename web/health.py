"""``GET /healthz`` (the process answers) and ``GET /readyz`` (its dependencies answer too).

A load balancer or Kubernetes sends traffic only while ``/readyz`` is 200; ``/healthz`` failing
means the process should be restarted. A check's error is never shown (it may name hosts or
users): only which dependency failed, and the log says why.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from web.dependencies import Probe, WebDependencies

log = structlog.get_logger(__name__)

PROBE_TIMEOUT_SECONDS = 3.0


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    """``ready``, or ``unavailable`` with the failing checks."""
    checks: dict[str, str]
    """Each dependency: ``ok`` or ``failing``."""
    failing: list[str]


def health_routes(deps: WebDependencies) -> APIRouter:
    router = APIRouter(tags=["operators"])

    @router.get("/healthz", response_model=Health, summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="PostgreSQL and Temporal answer",
        responses={503: {"model": Readiness, "description": "A dependency does not answer"}},
    )
    async def readyz() -> JSONResponse:
        names = sorted(deps.probes)
        results = await asyncio.gather(*(_check(name, deps.probes[name]) for name in names))
        checks = dict(zip(names, results, strict=True))
        failing = [name for name, result in checks.items() if result != "ok"]
        body = Readiness(
            status="unavailable" if failing else "ready", checks=checks, failing=failing
        )
        return JSONResponse(body.model_dump(), status_code=503 if failing else 200)

    return router


async def _check(name: str, probe: Probe) -> str:
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # any failure, a timeout included, means "not ready"
        log.warning("readiness.failing", check=name, error_type=type(error).__name__)
        return "failing"
    return "ok"
