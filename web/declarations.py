"""The guardian's link: ``GET /declarations/<token>`` (the page) and ``…/<token>/pdf``.

Every link that cannot be honoured answers the same 404 page, whatever the cause (malformed,
tampered with, signed under another key or for another purpose, for another document, for a
registration that does not exist): nobody learns which part of a guessed token was wrong. Only a
correctly signed link that has expired gets its own answer, 410, since only the holder of a real
link can reach it. A withdrawn or expired registration still shows its declaration.

Each page or PDF is recorded on the registration as ``DeclarationViewed`` once rendered, before it
is sent,
with a keyed hash of the client's address. Logs carry the registration id and the check's
outcome, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from uuid import UUID, uuid4

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from activities.notifications.declaration import RELATIONSHIP_LABELS, declaration_filename
from activities.notifications.kinds import short_reference
from activities.notifications.links import DECLARATION, LinkTokenError, TokenProblem
from activities.notifications.render import vn_datetime
from domain.contract import RegistrationRequest, workflow_id_for
from domain.errors import DataErased, RegistrationNotFound
from domain.lifecycle import State
from domain.reasons import CATALOGUE
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationView
from web.dependencies import WebDependencies
from web.pages import DeclarationPage, Pages
from web.ratelimit import RateLimiter
from web.status_words import status_words, tone

log = structlog.get_logger(__name__)

MAX_TOKEN_LENGTH = 128
"""Real tokens are 64 characters; anything much longer is refused before any work is done."""

LINK_ACTOR = "declaration-link"
"""The actor id of a view: the guardian, through the link (who holds it is not known)."""

_REASONED = frozenset({State.REJECTED, State.AUTO_REJECTED})


@dataclass(frozen=True, slots=True)
class _Opened:
    view: RegistrationView
    request: RegistrationRequest
    office_name: str
    expires_at: str


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def declaration_routes(deps: WebDependencies, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    limits = deps.limits
    per_token = RateLimiter(limits.per_token, limits.window_seconds, clock=deps.monotonic)
    per_address = RateLimiter(limits.per_address, limits.window_seconds, clock=deps.monotonic)

    def html(content: str, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
        return HTMLResponse(content, status_code=status, headers=headers)

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def throttle(request: Request, token: str) -> None:
        address = client_address(request)
        # The token's key is its hash: a flood of long random tokens costs no more memory.
        token_key = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
        for limiter, key in ((per_address, address), (per_token, token_key)):
            wait = limiter.allow(key)
            if wait is not None:
                log.info(
                    "declaration.throttled", by="address" if limiter is per_address else "token"
                )
                raise _Refused(html(pages.too_many(), 429, {"Retry-After": str(wait)}))

    def open_link(token: str) -> _Opened:
        """The registration a token names, or the response that refuses it (404 or 410)."""
        invalid = _Refused(html(pages.invalid(), 404))
        if len(token) > MAX_TOKEN_LENGTH:
            log.info("declaration.refused", outcome=TokenProblem.MALFORMED.value)
            raise invalid
        try:
            claims = deps.links.verify(token, now=deps.clock())
        except LinkTokenError as refused:
            log.info("declaration.refused", outcome=refused.problem.value)
            if refused.problem is TokenProblem.EXPIRED:
                raise _Refused(html(pages.expired(), 410)) from None
            raise invalid from None
        registration_id = str(claims.registration_id)
        if claims.document != DECLARATION:
            log.info(
                "declaration.refused", registration_id=registration_id, outcome="other_document"
            )
            raise invalid
        try:
            view = deps.registrations.get(claims.registration_id)
            if view.erased_at is not None:
                raise DataErased(claims.registration_id)
            request = RegistrationRequest.model_validate(view.request)
        except RegistrationNotFound:
            log.info("declaration.refused", registration_id=registration_id, outcome="unknown")
            raise invalid from None
        except DataErased:
            log.info("declaration.refused", registration_id=registration_id, outcome="erased")
            raise _Refused(html(pages.erased(), 410)) from None
        except ValidationError:
            # A request that broke the contract was never sent a link (see prepare_notification).
            log.info("declaration.refused", registration_id=registration_id, outcome="no_request")
            raise invalid from None
        if request.request_id != view.request_id:
            log.info("declaration.refused", registration_id=registration_id, outcome="no_request")
            raise invalid
        office = deps.registry.office(view.office_code)
        return _Opened(
            view=view,
            request=request,
            office_name=office.name if office else view.office_code,
            expires_at=vn_datetime(claims.expires_at),
        )

    def record(link: _Opened, what: str, address: str) -> None:
        view_id = str(uuid4())
        cause = Cause(
            actor_kind=ActorKind.GUARDIAN,
            actor_id=LINK_ACTOR,
            correlation_id=workflow_id_for(link.view.request_id),
            command_id=f"declaration-view:{view_id}",
            at=deps.clock(),
            causation_id=view_id,
        )
        digest = hmac.new(deps.client_key, address.encode(), hashlib.sha256).hexdigest()
        deps.registrations.execute(
            link.view.registration_id, Registration.record_declaration_view, what, digest, cause
        )
        log.info("declaration.opened", registration_id=str(link.view.registration_id), what=what)

    async def opened(request: Request, token: str) -> _Opened:
        throttle(request, token)
        return await run_in_threadpool(open_link, token)

    @router.get("/declarations/{token}", response_class=HTMLResponse)
    async def declaration_page(request: Request, token: str) -> Response:
        try:
            link = await opened(request, token)
        except _Refused as refused:
            return refused.response
        view, guardian = link.view, link.request.guardian
        page = DeclarationPage(
            reference=short_reference(view.registration_id),
            child_name=link.request.child.full_name,
            guardian_name=guardian.full_name,
            relationship=RELATIONSHIP_LABELS[guardian.relationship],
            office_name=link.office_name,
            submitted_at=vn_datetime(link.request.submitted_at),
            status=status_words(view.state),
            tone=tone(view.state),
            reason=_reason(view),
            pdf_url=f"/declarations/{token}/pdf",
            link_expires_at=link.expires_at,
        )
        content = pages.declaration(page)
        await run_in_threadpool(record, link, "page", client_address(request))
        return html(content, 200)

    @router.get("/declarations/{token}/pdf")
    async def declaration_pdf(request: Request, token: str) -> Response:
        try:
            link = await opened(request, token)
        except _Refused as refused:
            return refused.response
        registration_id: UUID = link.view.registration_id
        pdf = await run_in_threadpool(
            lambda: deps.render_pdf(
                link.request, registration_id=registration_id, office_name=link.office_name
            )
        )
        await run_in_threadpool(record, link, "pdf", client_address(request))
        filename = declaration_filename(registration_id)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return router


def _reason(view: RegistrationView) -> str | None:
    if view.state not in _REASONED or not view.reason_code:
        return None
    entry = CATALOGUE.get(view.reason_code)
    return entry.vi if entry else None
