"""The reviewer console in process: the real routes and sign-in over the in-memory event store,
registry, credentials and queue; an httpx client that signs in like a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from activities.documents import DocumentStore
from activities.notifications.links import LinkSigner
from domain.contract import RegistrationRequest
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from tests.builders import a_request
from tests.builders.images import sharp_jpeg
from tests.builders.registry import CHILD, GUARDIAN, OFFICE, REVIEWER, SUPERVISOR, registry_data
from tests.fakes.credentials import InMemoryReviewerCredentials
from tests.fakes.decisions import InProcessDecisions
from tests.fakes.queue import InMemoryQueue
from tests.fakes.registry import InMemoryRegistry
from tests.integration.web.conftest import CIPHER_KEY, CLIENT, LINK_SECRET, SUBMITTED, Clocks
from web.app import create_app
from web.console.dependencies import ConsoleDependencies
from web.console.oidc import OidcConfig
from web.console.signin import hash_password
from web.dependencies import WebDependencies

SESSION_SECRET = "a-console-session-secret-of-the-tests-0123456789"
PASSWORD = "mật khẩu rất dài 2026"
CHEAP_ARGON2ID = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id still, at a cost the tests can afford hundreds of times."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleWeb:
    app: FastAPI
    service: RegistrationService
    credentials: InMemoryReviewerCredentials
    registry: InMemoryRegistry
    queue: InMemoryQueue
    clocks: Clocks
    documents: DocumentStore
    decisions: InProcessDecisions

    def client(self, base_url: str = "http://testserver") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=CLIENT)
        return httpx.AsyncClient(transport=transport, base_url=base_url)

    def set_password(self, reviewer_id: str, password: str = PASSWORD) -> None:
        hashed = hash_password(password, CHEAP_ARGON2ID)
        self.credentials.set_password(reviewer_id, hashed, self.clocks.now)


def console_web(tmp_path: Path, oidc: OidcConfig | None = None) -> ConsoleWeb:
    service = RegistrationService()
    clocks = Clocks()
    credentials = InMemoryReviewerCredentials()
    registry = InMemoryRegistry(registry_data())
    queue = InMemoryQueue(service)
    decisions = InProcessDecisions(service, registry, clocks.wall)
    documents = DocumentStore(tmp_path / "documents", CIPHER_KEY)
    deps = WebDependencies(
        registrations=service,
        registry=registry,
        links=LinkSigner(LINK_SECRET),
        documents=documents,
        intake_tokens=[],
        client_key=b"client-address-key-of-the-tests",
        clock=clocks.wall,
        monotonic=clocks.monotonic,
        console=ConsoleDependencies(
            credentials=credentials,
            session_secret=SESSION_SECRET,
            queue=queue,
            decide=decisions,
            claims=decisions,
            hasher=CHEAP_ARGON2ID,
            oidc=oidc,
        ),
    )
    return ConsoleWeb(
        create_app(deps), service, credentials, registry, queue, clocks, documents, decisions
    )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, reviewer_id: str, password: str = PASSWORD
) -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post(
        "/console/login",
        data={"csrf_token": csrf_of(form.text), "reviewer_id": reviewer_id, "password": password},
    )


def a_cause(command_id: str, at: datetime = SUBMITTED) -> Cause:
    return Cause(ActorKind.SYSTEM, "tests", "console-test", command_id, at)


def waiting(
    web: ConsoleWeb,
    request_id: str,
    *,
    office_code: str = OFFICE,
    deadline: datetime = SUBMITTED + timedelta(days=3),
    overdue: bool = False,
    supplemented: bool = False,
    warnings: tuple[str, ...] = ("documents.portrait: the photo is small",),
) -> UUID:
    """A registration of ``office_code`` awaiting review, projected by the queue fake."""
    request = RegistrationRequest.model_validate(
        a_request(request_id=request_id, office_code=office_code)
    )
    service = web.service
    rid = service.submit(request, a_cause(f"submit:{request_id}")).registration_id
    service.execute(rid, Registration.verify_identity, CHILD, GUARDIAN, [], a_cause("identity"))
    documents = {
        name: {"file": str(web.documents.keep(rid, name, image, "jpg").relative_to(
            web.documents.root / "registrations" / str(rid)
        ))}
        for name, image in (("portrait", sharp_jpeg(1)), ("birth_certificate", sharp_jpeg(2)))
    }  # fmt: skip
    service.execute(rid, Registration.store_documents, documents, list(warnings), a_cause("docs"))
    expires = SUBMITTED + timedelta(days=30)
    service.execute(rid, Registration.request_review, deadline, expires, a_cause("review"))
    if supplemented:
        service.execute(
            rid, Registration.request_supplement, "d-1", REVIEWER, ["portrait"], "Ảnh mờ",
            expires, a_cause("supplement"),
        )  # fmt: skip
        service.execute(
            rid, Registration.provide_supplement, {"portrait": "new"}, a_cause("provided")
        )
        service.execute(rid, Registration.store_documents, documents, [], a_cause("docs-2"))
        service.execute(rid, Registration.request_review, deadline, expires, a_cause("review-2"))
    if overdue:
        service.execute(rid, Registration.mark_overdue, [SUPERVISOR], a_cause("overdue"))
    web.queue.registrations.append(rid)
    return rid
