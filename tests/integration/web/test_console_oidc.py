"""Signing in to the console by the organisation's OIDC provider: the console served by uvicorn and a
mock provider of the tests' own, over real HTTP with real redirects; the provider checks PKCE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from activities.reviewer_credentials import SignInClient, SignInMethod, SignInOutcome
from tests.builders.registry import INACTIVE_REVIEWER, REVIEWER
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, MockProvider, mock_provider, served
from tests.integration.web.console import ConsoleWeb, console_web
from web.console.oidc import OidcConfig

BUTTON = "Đăng nhập bằng tài khoản tổ chức"


@dataclass
class Stack:
    web: ConsoleWeb
    provider: MockProvider
    url: str


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with mock_provider() as provider:
        provider.user = REVIEWER
        config = OidcConfig(provider.issuer, CLIENT_ID, CLIENT_SECRET)
        web = console_web(tmp_path, oidc=config)
        async with served(web.app) as url:
            yield Stack(web, provider, url)


async def test_a_reviewer_signs_in_with_the_organisations_account(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, follow_redirects=True) as browser:
        login = await browser.get("/console/login")

        queue = await browser.get("/console/login/oidc")

    assert BUTTON in login.text
    assert queue.status_code == 200
    assert queue.url.path == "/console/queue"
    hops = [(r.url.port, r.url.path) for r in queue.history]
    provider_port = urlsplit(stack.provider.issuer).port
    assert hops == [
        (urlsplit(stack.url).port, "/console/login/oidc"),
        (provider_port, "/authorize"),
        (urlsplit(stack.url).port, "/console/login/oidc/callback"),
    ]
    assert stack.provider.exchanges == [True]  # the code was exchanged with its PKCE verifier
    assert [(r.outcome, r.client, r.method) for r in stack.web.credentials.history(REVIEWER)] == [
        (SignInOutcome.SIGNED_IN, SignInClient.CONSOLE, SignInMethod.OIDC)
    ]


async def test_the_login_page_has_no_organisation_button_without_a_provider(
    tmp_path: Path,
) -> None:
    async with console_web(tmp_path).client() as http:
        login = await http.get("/console/login")
        started = await http.get("/console/login/oidc")

    assert BUTTON not in login.text
    assert started.status_code == 404


async def _callback_of(browser: httpx.AsyncClient) -> str:
    """Follow the flow by hand up to the provider's redirect back; return the callback URL."""
    to_provider = await browser.get("/console/login/oidc")
    assert to_provider.status_code == 302
    back = await browser.get(to_provider.headers["location"])
    assert back.status_code == 302
    return back.headers["location"]


async def test_a_callback_with_another_state_signs_nobody_in(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as browser:
        callback = urlsplit(await _callback_of(browser))
        query = {key: values[0] for key, values in parse_qs(callback.query).items()}

        refused = await browser.get(
            f"{callback.path}?{urlencode(query | {'state': 'a-state-of-another-flow'})}"
        )
        queue = await browser.get("/console/queue")

    assert refused.status_code == 401
    assert "Không đăng nhập được bằng tài khoản tổ chức" in refused.text
    assert queue.status_code == 303
    assert stack.provider.exchanges == []  # no code was exchanged
    assert stack.web.credentials.history(REVIEWER) == []


async def test_an_id_token_with_another_nonce_signs_nobody_in(stack: Stack) -> None:
    stack.provider.nonce = "a-nonce-of-another-flow"
    async with httpx.AsyncClient(base_url=stack.url) as browser:
        refused = await browser.get(await _callback_of(browser))
        queue = await browser.get("/console/queue")

    assert refused.status_code == 401
    assert "Không đăng nhập được bằng tài khoản tổ chức" in refused.text
    assert queue.status_code == 303
    assert stack.provider.exchanges == [True]
    assert stack.web.credentials.history(REVIEWER) == []


@pytest.mark.parametrize(
    ("user", "message", "outcome"),
    [
        ("rv-nobody-here", "không phải của cán bộ nào", SignInOutcome.FAILED),
        (INACTIVE_REVIEWER, "không còn hoạt động", SignInOutcome.REFUSED_INACTIVE),
    ],
)
async def test_an_account_of_no_active_reviewer_is_refused_and_recorded(
    stack: Stack, user: str, message: str, outcome: SignInOutcome
) -> None:
    stack.provider.user = user
    async with httpx.AsyncClient(base_url=stack.url, follow_redirects=True) as browser:
        refused = await browser.get("/console/login/oidc")
        queue = await browser.get("/console/queue")

    assert refused.status_code == 401
    assert message in refused.text
    assert queue.url.path == "/console/login"
    assert [(r.outcome, r.method) for r in stack.web.credentials.history(user)] == [
        (outcome, SignInMethod.OIDC)
    ]
