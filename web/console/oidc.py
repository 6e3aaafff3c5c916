"""Sign-in by the organisation's OpenID Connect provider (optional; ``CHILDREG_OIDC_*``).

The console runs the authorization code flow with PKCE (S256) through Authlib's Starlette client:
``state``, ``nonce`` and the code verifier wait in the console's own signed session cookie between
the redirect and the callback (Authlib keeps them in ``request.session``, which is handed the
session's pending dict for the duration of the call). The callback's ID token is verified by Authlib
(signature against the provider's JWKS, issuer, audience, expiry, nonce); its ``reviewer_claim``
(``preferred_username`` by default) is the reviewer id, who must be active in the registry.

``childreg review --oidc-token-file`` verifies an ID token the reviewer obtained from the same
provider, with the same rules except the nonce (:func:`verify_id_token`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import Response

PROVIDER = "organisation"
SCOPE = "openid profile"
LEEWAY_SECONDS = 60
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None = None
    """None: a public client (PKCE only, ``token_endpoint_auth_method=none``)."""
    reviewer_claim: str = "preferred_username"

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


class OidcRefused(Exception):
    """The provider's answer cannot sign anyone in; the message says why (no token, no claims)."""


class OrganisationSignIn:
    """The console's side of the flow. ``pending`` is the session's dict for the flow's state."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        oauth = OAuth()
        client_kwargs: dict[str, str] = {"scope": SCOPE, "code_challenge_method": "S256"}
        if config.client_secret is None:
            client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105
        oauth.register(
            name=PROVIDER,
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=config.metadata_url,
            client_kwargs=client_kwargs,
        )
        self._client: Any = oauth.create_client(PROVIDER)

    async def redirect(
        self, request: Request, redirect_uri: str
    ) -> tuple[Response, dict[str, Any]]:
        """The redirect to the provider's authorization endpoint, and the pending state to keep."""
        pending: dict[str, Any] = {}
        request.scope["session"] = pending
        try:
            response: Response = await self._client.authorize_redirect(request, redirect_uri)
        except (AuthlibBaseError, httpx2.HTTPError, KeyError, ValueError) as error:
            raise OidcRefused(f"the provider's metadata: {type(error).__name__}") from None
        return response, pending

    async def reviewer_id(self, request: Request, pending: dict[str, Any]) -> str:
        """The reviewer id of the callback's verified ID token (state and nonce must match)."""
        request.scope["session"] = dict(pending)
        try:
            token = await self._client.authorize_access_token(request, leeway=LEEWAY_SECONDS)
        except (AuthlibBaseError, JoseError) as error:
            raise OidcRefused(f"the provider's answer: {type(error).__name__}") from None
        except httpx2.HTTPError as error:
            raise OidcRefused(f"the provider is out of reach: {type(error).__name__}") from None
        claims = token.get("userinfo")
        if not claims:
            raise OidcRefused("the provider's answer: no ID token")
        return _reviewer_of(claims, self.config.reviewer_claim)


def verify_id_token(config: OidcConfig, id_token: str, now: datetime) -> str:
    """The reviewer id in ``id_token``, once its signature (the provider's JWKS), issuer, audience
    (our client id) and expiry are checked. Blocking (it fetches the provider's metadata)."""
    try:
        with httpx2.Client(timeout=TIMEOUT_SECONDS) as http:
            metadata = http.get(config.metadata_url).raise_for_status().json()
            jwks = http.get(metadata["jwks_uri"]).raise_for_status().json()
    except (httpx2.HTTPError, KeyError, ValueError) as error:
        raise OidcRefused(f"the provider's metadata: {type(error).__name__}") from None
    if metadata.get("issuer") != config.issuer:
        raise OidcRefused("the provider's metadata: another issuer")
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    try:
        decoded = jwt.decode(id_token.strip(), KeySet.import_key_set(jwks), algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.client_id},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise OidcRefused(f"the ID token: {type(error).__name__}") from None
    return _reviewer_of(decoded.claims, config.reviewer_claim)


def _reviewer_of(claims: Any, claim: str) -> str:
    value = claims.get(claim)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise OidcRefused(f"the ID token: no usable claim {claim!r}")
    return value
