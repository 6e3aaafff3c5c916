"""The web application in process: an in-memory event store, the real pages and intake, clocks
the tests move by hand, and an httpx client on the ASGI transport (no socket)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from activities.documents import DocumentStore
from activities.notifications.links import DECLARATION, LinkSigner
from domain.contract import RegistrationRequest
from domain.registration import ActorKind, Cause, Registration
from domain.registry import Office, RegistryData
from domain.service import RegistrationService, RegistrationView
from tests.builders import a_request
from tests.fakes.registry import InMemoryRegistry
from web.app import create_app
from web.dependencies import Probe, RateLimits, WebDependencies

LINK_SECRET = "a-link-secret-of-the-tests-0123456789"
INTAKE_TOKEN = "intake-token-of-the-tests"
CIPHER_KEY = base64.b64encode(b"k" * 32).decode()
CLIENT = ("203.0.113.7", 51000)
"""The client address of every request (a documentation range)."""
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def the_registry() -> InMemoryRegistry:
    """The registry as far as the web tier reads it: the office's name."""
    office = Office(office_code="79001", name="BHXH Quận 1", province_code="79", active=True)
    return InMemoryRegistry(RegistryData(offices=[office]))


@dataclass
class Clocks:
    now: datetime = NOW
    ticks: float = 1000.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.ticks


@dataclass
class Web:
    """One application and what the tests look at behind it."""

    app: FastAPI
    service: RegistrationService
    signer: LinkSigner
    clocks: Clocks
    documents: DocumentStore
    probes: dict[str, Probe] = field(default_factory=dict)

    def token(self, registration_id: UUID, *, valid_for: timedelta = timedelta(days=30)) -> str:
        return self.signer.sign(registration_id, DECLARATION, self.clocks.now + valid_for)


def a_cause(command_id: str, at: datetime = SUBMITTED) -> Cause:
    return Cause(ActorKind.SYSTEM, "tests", "registration-test", command_id, at)


def submit(service: RegistrationService, **changes: Any) -> RegistrationView:
    request = RegistrationRequest.model_validate(a_request(**changes))
    return service.submit(request, a_cause(f"submit:{request.request_id}"))


def awaiting_review(service: RegistrationService, **changes: Any) -> RegistrationView:
    view = submit(service, **changes)
    rid = view.registration_id
    service.execute(
        rid, Registration.verify_identity, "7912345678", "0123456789", [], a_cause("identity")
    )
    service.execute(
        rid,
        Registration.store_documents,
        {"portrait": {}, "birth_certificate": {}},
        [],
        a_cause("docs"),
    )
    return service.execute(
        rid,
        Registration.request_review,
        SUBMITTED + timedelta(days=3),
        SUBMITTED + timedelta(days=30),
        a_cause("review"),
    )


@pytest.fixture
def make_web(tmp_path: Path) -> Callable[..., Web]:
    def make(
        limits: RateLimits | None = None,
        probes: dict[str, Probe] | None = None,
        service: RegistrationService | None = None,
    ) -> Web:
        service = service or RegistrationService()
        signer = LinkSigner(LINK_SECRET)
        clocks = Clocks()
        documents = DocumentStore(tmp_path / "documents", CIPHER_KEY)
        deps = WebDependencies(
            registrations=service,
            registry=the_registry(),
            links=signer,
            documents=documents,
            intake_tokens=[INTAKE_TOKEN, "another-upstream-token"],
            client_key=b"client-address-key-of-the-tests",
            probes=probes or {},
            limits=limits or RateLimits(),
            clock=clocks.wall,
            monotonic=clocks.monotonic,
        )
        return Web(create_app(deps), service, signer, clocks, documents, probes or {})

    return make


@pytest.fixture
def web(make_web: Callable[..., Web]) -> Web:
    return make_web()


def client_for(app: FastAPI, address: tuple[str, int] = CLIENT) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(web.app) as http:
        yield http
