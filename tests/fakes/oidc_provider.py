"""An OpenID Connect provider of the tests' own, served over real HTTP on loopback by uvicorn.

It serves discovery, its JWKS, ``/authorize`` (which signs in ``user`` at once and redirects back
with a code) and ``/token`` (which checks the client's secret and the PKCE verifier against the
challenge, then answers with an RS256 ID token). ``exchanges`` records each token request's PKCE
check; ``nonce`` and ``audience`` let a test make the provider answer wrongly.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

CLIENT_ID = "childreg-console"
CLIENT_SECRET = "a-client-secret-of-the-tests"


@dataclass
class Pending:
    redirect_uri: str
    challenge: str
    nonce: str
    user: str


@dataclass
class MockProvider:
    issuer: str = ""
    user: str = "rv-79001-01"
    """Who signs in at the provider's authorize endpoint."""
    nonce: str | None = None
    """An ID token nonce other than the one asked for (None: the one asked for)."""
    audience: str = CLIENT_ID
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, Pending] = field(default_factory=dict)
    exchanges: list[bool] = field(default_factory=list)
    """Each token request: whether its PKCE verifier matched the code's challenge."""

    def id_token(self, subject: str, nonce: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "sub": f"sub-{subject}",
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "preferred_username": subject,
            **({"nonce": nonce} if nonce else {}),
            **claims,
        }
        return jwt.encode({"alg": "RS256", "kid": "k1"}, body, self.key)

    def app(self) -> ASGIApp:
        async def discovery(request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )

        async def jwks(request: Request) -> Response:
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = Pending(
                q["redirect_uri"], q["code_challenge"], q.get("nonce", ""), self.user
            )
            back = urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{back}", status_code=302)

        async def token(request: Request) -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            pending = self.codes.pop(str(form.get("code")), None)
            if pending is None or form.get("redirect_uri") != pending.redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            matched = base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == pending.challenge
            self.exchanges.append(matched)
            if not matched:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self.id_token(pending.user, self.nonce or pending.nonce),
                }
            )

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
            ]
        )


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.up.set()


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port, in this event loop; yields its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listening]))
    await asyncio.wait_for(server.up.wait(), 10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listening.close()


@asynccontextmanager
async def mock_provider() -> AsyncIterator[MockProvider]:
    provider = MockProvider()
    async with served(provider.app()) as url:
        provider.issuer = url
        yield provider
