"""The console's session: a signed cookie (itsdangerous) holding the reviewer id and a CSRF token.

Nothing else is in it: the reviewer's office and role are read from the registry on each request,
so a reviewer made inactive or moved is refused at once. The cookie carries the time of the last
request; a session idle longer than the timeout is treated as absent, and every answered request
re-issues the cookie with the new time (a sliding timeout). HttpOnly, SameSite=Lax, path
``/console``, Secure when the request came over HTTPS.

CSRF: every form carries the session's token (``csrf_token``); a POST whose token does not match
the signed cookie's is refused with 403. An anonymous session (the login form) has a token too.

While an OIDC sign-in is under way, the anonymous session also holds the flow's pending state
(``oidc``: Authlib's state, nonce and PKCE code verifier), signed like the rest; signing in drops it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "childreg_console"
PATH = "/console"
SALT = "childreg/console/session/v1"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    seen: float
    """The POSIX time of the last request."""
    reviewer_id: str | None = None
    oidc: dict[str, Any] | None = None
    """An OIDC sign-in's pending state, between the redirect and the callback."""

    @staticmethod
    def anonymous(now: datetime) -> Session:
        return Session(csrf=secrets.token_urlsafe(32), seen=now.timestamp())

    def signed_in(self, reviewer_id: str, now: datetime) -> Session:
        # A fresh CSRF token at sign-in: a token seen before it does not carry over.
        return Session(
            csrf=secrets.token_urlsafe(32), seen=now.timestamp(), reviewer_id=reviewer_id
        )

    def touched(self, now: datetime) -> Session:
        return replace(self, seen=now.timestamp())

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf.encode(), token.encode())


class Sessions:
    def __init__(self, secret: str, idle_timeout: timedelta) -> None:
        self._serializer = URLSafeSerializer(secret, salt=SALT)
        self._idle = idle_timeout

    def load(self, request: Request, now: datetime) -> Session | None:
        """The request's session; None when absent, forged or idle too long."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie)
            session = Session(
                csrf=str(data["c"]),
                seen=float(data["s"]),
                reviewer_id=data.get("r"),
                oidc=dict(data["o"]) if "o" in data else None,
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if now.timestamp() - session.seen > self._idle.total_seconds():
            return None
        return session

    def save(self, response: Response, request: Request, session: Session) -> None:
        data: dict[str, object] = {"c": session.csrf, "s": session.seen}
        if session.reviewer_id is not None:
            data["r"] = session.reviewer_id
        if session.oidc is not None:
            data["o"] = session.oidc
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(data),
            max_age=int(self._idle.total_seconds()),
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    @staticmethod
    def clear(response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE, path=PATH, httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )
