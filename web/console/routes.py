"""The console's routes: sign-in, sign-out and the office's queue.

Every route reads the session from the signed cookie; a page without a signed-in session sends the
browser to the login form, and every POST must carry the session's CSRF token (else 403). The office
is the signed-in reviewer's own, read from the registry on each request, never from the URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException

from domain.registry import RegistryLookups, Reviewer, ReviewerRole
from projections.queue import QueueEntry
from web.console.dependencies import ConsoleDependencies
from web.console.oidc import OidcRefused, OrganisationSignIn
from web.console.session import Session, Sessions
from web.console.signin import HASHER, Authenticator, SignInResult
from web.console.warnings import in_vietnamese

log = structlog.get_logger(__name__)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PAGE_SIZE = 20
MAX_FORM_BYTES = 16_384

MESSAGES = {
    SignInResult.FAILED: "Mã cán bộ hoặc mật khẩu không đúng.",
    SignInResult.LOCKED: "Tài khoản tạm khoá do nhập sai nhiều lần. Vui lòng thử lại sau 15 phút.",
    SignInResult.INACTIVE: "Tài khoản cán bộ không còn hoạt động.",
}
OIDC_FAILED = "Không đăng nhập được bằng tài khoản tổ chức. Vui lòng thử lại."
OIDC_UNKNOWN = "Tài khoản tổ chức này không phải của cán bộ nào trong danh sách."


@dataclass(frozen=True, slots=True)
class QueueView:
    key: str
    label: str
    keep: Callable[[QueueEntry], bool]


VIEWS = (
    QueueView("all", "Tất cả", lambda entry: True),
    QueueView("overdue", "Quá hạn", lambda entry: entry.overdue),
    QueueView("supplement", "Đã bổ sung hồ sơ", lambda entry: entry.supplement_rounds > 0),
)
ESCALATED = QueueView("escalated", "Chuyển lên lãnh đạo", lambda entry: entry.escalated)


def vietnam_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vietnam_deadline(moment: datetime | None) -> str:
    """A deadline at midnight in Vietnam is the end of the day before: "hết ngày 07/12/2026"."""
    if moment is None:
        return ""
    local = moment.astimezone(VIETNAM)
    if local.time() == time(0, 0):
        return f"hết ngày {(local - timedelta(days=1)):%d/%m/%Y}"
    return local.strftime("%d/%m/%Y %H:%M")


class Console:
    def __init__(
        self,
        deps: ConsoleDependencies,
        registry: RegistryLookups,
        environment: Environment,
        clock: Callable[[], datetime],
    ) -> None:
        self._deps = deps
        self._registry = registry
        self._environment = environment
        self._clock = clock
        self._sessions = Sessions(deps.session_secret, deps.idle_timeout)
        self.authenticator = Authenticator(deps.credentials, registry, clock, deps.hasher or HASHER)
        self.organisation = OrganisationSignIn(deps.oidc) if deps.oidc is not None else None

    # --- sessions ----------------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        return self._sessions.load(request, self._clock())

    async def reviewer(self, session: Session | None) -> Reviewer | None:
        """The session's reviewer, while they are active in the registry."""
        if session is None or session.reviewer_id is None:
            return None
        reviewer = await asyncio.to_thread(self._registry.reviewer, session.reviewer_id)
        return reviewer if reviewer is not None and reviewer.active else None

    async def reviewer_name(self, reviewer_id: str) -> str:
        """A reviewer's name from the registry (their id when the registry does not know it)."""
        known = await asyncio.to_thread(self._registry.reviewer, reviewer_id)
        return known.full_name if known is not None else reviewer_id

    async def form(self, request: Request, session: Session | None) -> dict[str, str]:
        """The POSTed form, once its CSRF token matched the session's (403 otherwise)."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "the form is too large")
        fields = {
            key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()
        }
        if session is None or not session.csrf_matches(fields.get("csrf_token")):
            raise HTTPException(403, "csrf_token: missing or not this session's")
        return fields

    def page(
        self,
        request: Request,
        session: Session,
        template: str,
        status: int = 200,
        **context: object,
    ) -> HTMLResponse:
        html = self._environment.get_template(template).render(csrf=session.csrf, **context)
        response = HTMLResponse(html, status_code=status)
        self._sessions.save(response, request, session.touched(self._clock()))
        return response

    def keep(self, response: Response, request: Request, session: Session) -> None:
        self._sessions.save(response, request, session)

    def redirect(self, request: Request, to: str, session: Session | None = None) -> Response:
        response = RedirectResponse(to, status_code=303)
        if session is None:
            self._sessions.clear(response, request)
        else:
            self._sessions.save(response, request, session)
        return response

    def login_page(
        self,
        request: Request,
        session: Session,
        message: str | None = None,
        reviewer_id: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        return self.page(
            request,
            session,
            "console/login.html.j2",
            status,
            reviewer=None,
            message=message,
            reviewer_id=reviewer_id,
            organisation=self.organisation is not None,
        )

    # --- the queue ---------------------------------------------------------------------------------

    async def queue_page(
        self, request: Request, session: Session, reviewer: Reviewer
    ) -> HTMLResponse:
        supervisor = reviewer.role is ReviewerRole.SUPERVISOR
        answer = await asyncio.to_thread(self._deps.queue, reviewer.office_code, False)
        entries = list(answer.entries)
        if supervisor:
            escalated = await asyncio.to_thread(self._deps.queue, reviewer.office_code, True)
            known = {entry.registration_id for entry in entries}
            entries += [e for e in escalated.entries if e.registration_id not in known]
        now = self._clock()
        claimed = (
            QueueView("mine", "Của tôi", lambda e: e.holder(now) == reviewer.reviewer_id),
            QueueView("unclaimed", "Chưa nhận", lambda e: e.holder(now) is None),
        )
        views = (*VIEWS, *claimed, ESCALATED) if supervisor else (*VIEWS, *claimed)
        holders = {
            entry.registration_id: await self.reviewer_name(holder)
            for entry in entries
            if (holder := entry.holder(now)) is not None
        }
        wanted = request.query_params.get("view", "all")
        view = next((v for v in views if v.key == wanted), views[0])
        counts = {v.key: sum(1 for entry in entries if v.keep(entry)) for v in views}
        shown = [entry for entry in entries if view.keep(entry)]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        try:
            number = min(max(1, int(request.query_params.get("page", "1"))), pages)
        except ValueError:
            number = 1
        office = await asyncio.to_thread(self._registry.office, reviewer.office_code)
        return self.page(
            request,
            session,
            "console/queue.html.j2",
            reviewer=reviewer,
            office_name=office.name if office else reviewer.office_code,
            views=views,
            view=view,
            counts=counts,
            entries=shown[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
            page=number,
            pages=pages,
            vietnam_time=vietnam_time,
            holders=holders,
        )


def templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["vietnam_deadline"] = vietnam_deadline
    environment.filters["in_vietnamese"] = in_vietnamese
    return environment


def session_routes(console: Console, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    @router.get("")
    async def home(request: Request) -> Response:
        return RedirectResponse("/console/queue", status_code=303)

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        session = console.session(request)
        if await console.reviewer(session) is not None:
            return RedirectResponse("/console/queue", status_code=303)
        return console.login_page(request, session or Session.anonymous(clock()))

    @router.post("/login")
    async def login(request: Request) -> Response:
        session = console.session(request)
        fields = await console.form(request, session)
        assert session is not None  # noqa: S101  (form() refused a request without one)
        reviewer_id = fields.get("reviewer_id", "").strip()[:64]
        outcome = await asyncio.to_thread(
            console.authenticator.sign_in, reviewer_id, fields.get("password", "")
        )
        if outcome.result is not SignInResult.SIGNED_IN or outcome.reviewer is None:
            status = 423 if outcome.result is SignInResult.LOCKED else 401
            return console.login_page(
                request, session, MESSAGES[outcome.result], reviewer_id, status
            )
        return console.redirect(
            request, "/console/queue", session.signed_in(outcome.reviewer.reviewer_id, clock())
        )

    @router.get("/login/oidc")
    async def login_with_organisation(request: Request) -> Response:
        """Off to the organisation's provider; the flow's state waits in the session. A link,
        not a form: the CSP's ``form-action 'self'`` would stop a form's redirect to the provider,
        and a forged visit here only starts a flow the callback ties to this browser's cookie."""
        if console.organisation is None:
            raise HTTPException(404)
        session = console.session(request) or Session.anonymous(clock())
        try:
            response, pending = await console.organisation.redirect(
                request, str(request.url_for("console_oidc_callback"))
            )
        except OidcRefused as refused:
            log.warning("console.oidc_unavailable", why=str(refused))
            return console.login_page(request, session, OIDC_FAILED, status=502)
        console.keep(response, request, replace(session, oidc=pending))
        return response

    @router.get("/login/oidc/callback", name="console_oidc_callback")
    async def organisation_callback(request: Request) -> Response:
        session = console.session(request)
        if console.organisation is None:
            raise HTTPException(404)
        if session is None or session.oidc is None:
            return console.redirect(request, "/console/login")
        anonymous = replace(session, oidc=None)
        try:
            reviewer_id = await console.organisation.reviewer_id(request, session.oidc)
        except OidcRefused as refused:
            log.info("console.oidc_refused", why=str(refused))
            return console.login_page(request, anonymous, OIDC_FAILED, status=401)
        outcome = await asyncio.to_thread(console.authenticator.signed_in_by_provider, reviewer_id)
        if outcome.result is not SignInResult.SIGNED_IN or outcome.reviewer is None:
            message = (
                OIDC_UNKNOWN if outcome.result is SignInResult.FAILED else MESSAGES[outcome.result]
            )
            return console.login_page(request, anonymous, message, status=401)
        return console.redirect(
            request, "/console/queue", anonymous.signed_in(outcome.reviewer.reviewer_id, clock())
        )

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session = console.session(request)
        await console.form(request, session)
        if session is not None and session.reviewer_id is not None:
            await asyncio.to_thread(console.authenticator.signed_out, session.reviewer_id)
        return console.redirect(request, "/console/login")

    @router.get("/queue")
    async def queue(request: Request) -> Response:
        session = console.session(request)
        reviewer = await console.reviewer(session)
        if session is None or reviewer is None:
            return console.redirect(request, "/console/login")
        return await console.queue_page(request, session, reviewer)

    return router
