"""The reviewer console in process: the real routes and sign-in over the in-memory event store,
registry, credentials and queue; an httpx client that signs in like a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from activities.documents import DocumentStore
from activities.notifications.links import LinkSigner
from domain.service import RegistrationService
from tests.builders.registry import registry_data
from tests.fakes.credentials import InMemoryReviewerCredentials
from tests.fakes.queue import InMemoryQueue
from tests.fakes.registry import InMemoryRegistry
from tests.integration.web.conftest import CIPHER_KEY, CLIENT, LINK_SECRET, Clocks
from web.app import create_app
from web.console.dependencies import ConsoleDependencies
from web.console.signin import hash_password
from web.dependencies import WebDependencies

SESSION_SECRET = "a-console-session-secret-of-the-tests-0123456789"
PASSWORD = "mật khẩu rất dài 2026"
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

    def client(self, base_url: str = "http://testserver") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=CLIENT)
        return httpx.AsyncClient(transport=transport, base_url=base_url)

    def set_password(self, reviewer_id: str, password: str = PASSWORD) -> None:
        self.credentials.set_password(reviewer_id, hash_password(password), self.clocks.now)


def console_web(tmp_path: Path) -> ConsoleWeb:
    service = RegistrationService()
    clocks = Clocks()
    credentials = InMemoryReviewerCredentials()
    registry = InMemoryRegistry(registry_data())
    queue = InMemoryQueue(service)
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
            credentials=credentials, session_secret=SESSION_SECRET, queue=queue
        ),
    )
    return ConsoleWeb(create_app(deps), service, credentials, registry, queue, clocks, documents)


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
