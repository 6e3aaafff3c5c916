"""The registration page: the declaration, the warnings, both documents, the history and the
decision form.

A registration of another office and an unknown request id get the same 404 page, its documents
included: a reviewer learns nothing of what they may not see. The documents are decrypted here
and streamed to the signed-in reviewer of the office only (``Cache-Control: no-store``, like every
answer). The decision form carries a decision id fixed when the page was rendered, so a double
click or a resubmitted form decides once (the workflow's update is idempotent by decision id).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from activities.documents import DocumentStore
from activities.notifications.declaration import RELATIONSHIP_LABELS
from domain.contract import REQUIRED_DOCUMENTS, ClaimUpdate, DecideUpdate, Outcome, ReleaseUpdate
from domain.errors import DataErased, RegistrationNotFound
from domain.lifecycle import State
from domain.reasons import CATALOGUE, REVIEWER_CODES
from domain.registry import Reviewer, ReviewerRole
from domain.service import RegistrationService, RegistrationView
from domain.values import Relationship
from web.console.decisions import ClaimSender, DecisionRefused, DecisionSender, in_vietnamese
from web.console.history import history as told
from web.console.routes import Console, vietnam_time
from web.console.session import Session

log = structlog.get_logger(__name__)

DOCUMENT_LABELS = {"portrait": "Ảnh chân dung", "birth_certificate": "Giấy khai sinh"}
MEDIA_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
STATES: dict[State, str] = {
    State.SUBMITTED: "Đã tiếp nhận",
    State.IDENTITY_VERIFIED: "Đã kiểm tra danh tính",
    State.DOCUMENTS_STORED: "Đã lưu giấy tờ",
    State.AWAITING_REVIEW: "Chờ duyệt",
    State.REJECTION_PROPOSED: "Đề xuất từ chối, chờ cán bộ thứ hai xác nhận",
    State.SUPPLEMENT_REQUESTED: "Chờ bổ sung",
    State.SUPPLEMENT_PROVIDED: "Đã bổ sung",
    State.APPROVED: "Đã phê duyệt",
    State.REJECTED: "Đã từ chối",
    State.AUTO_REJECTED: "Từ chối tự động",
    State.WITHDRAWN: "Đã rút hồ sơ",
    State.EXPIRED: "Hết hạn",
    State.ACCOUNT_ACTIVATED: "Đã kích hoạt tài khoản",
}


def _relationship(request: dict[str, Any]) -> str:
    """The guardian's relationship in Vietnamese ("Cha", "Mẹ", …) as the declaration prints it."""
    guardian = request.get("guardian")
    declared = guardian.get("relationship") if isinstance(guardian, dict) else None
    try:
        return RELATIONSHIP_LABELS[Relationship(str(declared))]
    except (KeyError, ValueError):
        return ""


def _submitted(request: dict[str, Any]) -> str:
    """When it was submitted, in Vietnam time; empty for a request that broke the contract."""
    try:
        return vietnam_time(datetime.fromisoformat(str(request.get("submitted_at"))))
    except ValueError:
        return ""


REASON_LABELS = {
    "PHOTO_UNCLEAR": "Ảnh chân dung không rõ",
    "BIRTH_CERTIFICATE_MISMATCH": "Giấy khai sinh không khớp với tờ khai",
    "RELATIONSHIP_NOT_PROVEN": "Chưa chứng minh được quan hệ giám hộ",
    "DOCUMENTS_INSUFFICIENT": "Giấy tờ không đủ",
    "OTHER": "Khác (ghi chú bắt buộc)",
}
"""The reviewer's short labels; the guardian reads the catalogue's own text."""


def reviewer_reasons() -> list[tuple[str, str, bool]]:
    """The select's options: (code, Vietnamese label, note required)."""
    return sorted(
        (
            (code, REASON_LABELS.get(code, code), CATALOGUE[code].note_required)
            for code in REVIEWER_CODES
        ),
        key=lambda option: (option[0] == "OTHER", option[0]),
    )


_HELD = re.compile(r"^claim: held by reviewer (\S+) until (\S+)")


class NotVisible(HTTPException):
    def __init__(self) -> None:
        super().__init__(404, "no registration with this request id")


def registration_routes(
    console: Console,
    service: RegistrationService,
    documents: DocumentStore,
    decide: DecisionSender,
    clock: Callable[[], datetime],
    claims: ClaimSender | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/console/registrations", include_in_schema=False)

    async def refusal_text(refused: DecisionRefused) -> str:
        """The refusal in Vietnamese; a held claim names its holder from the registry and the
        lease's end in Vietnam time."""
        held = _HELD.match(str(refused))
        if held is None:
            return in_vietnamese(str(refused))
        try:
            until = vietnam_time(datetime.fromisoformat(held.group(2)))
        except ValueError:
            until = ""
        name = await console.reviewer_name(held.group(1))
        return f"Hồ sơ đang được xử lý bởi {name} đến {until}: chỉ người đó được quyết định."

    async def claim_of(view: RegistrationView, reviewer: Reviewer) -> dict[str, Any] | None:
        """The claim's controls and its holder now (a lapsed lease is no one's)."""
        if claims is None or view.state is not State.AWAITING_REVIEW:
            return None
        now = clock()
        holder = view.claimed_by
        if holder is None or view.claim_expires_at is None or now >= view.claim_expires_at:
            holder = None
        own = holder == reviewer.reviewer_id
        return {
            "holder": holder,
            "holder_name": await console.reviewer_name(holder) if holder else None,
            "until": vietnam_time(view.claim_expires_at) if holder else "",
            "own": own,
            "can_claim": holder is None,
            "can_take_over": holder is not None
            and not own
            and reviewer.role is ReviewerRole.SUPERVISOR,
            "claim_id": str(uuid.uuid4()),
        }

    async def visible(request_id: str, reviewer: Reviewer) -> RegistrationView:
        try:
            view = await asyncio.to_thread(service.get_by_request, request_id)
        except (RegistrationNotFound, DataErased):  # an erased one is no one's to see
            raise NotVisible() from None
        if view.office_code != reviewer.office_code:
            log.warning("console.other_office", reviewer_id=reviewer.reviewer_id)
            raise NotVisible()
        return view

    async def page(
        request: Request,
        session: Session,
        reviewer: Reviewer,
        view: RegistrationView,
        *,
        message: str | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        events = await asyncio.to_thread(service.history, view.registration_id)
        return console.page(
            request,
            session,
            "console/registration.html.j2",
            status,
            reviewer=reviewer,
            view=view,
            declaration=view.request,
            relationship=_relationship(view.request),
            submitted=_submitted(view.request),
            state=STATES[view.state],
            awaiting=view.state is State.AWAITING_REVIEW,
            proposal=_proposal(view, reviewer),
            claim=await claim_of(view, reviewer),
            documents=[(name, DOCUMENT_LABELS.get(name, name)) for name in view.documents],
            required_documents=[(name, DOCUMENT_LABELS[name]) for name in REQUIRED_DOCUMENTS],
            history=told(events),
            reasons=reviewer_reasons(),
            decision_id=str(uuid.uuid4()),
            message=message,
            notice=notice,
            vietnam_time=vietnam_time,
        )

    @router.get("/{request_id}")
    async def show(request: Request, request_id: str) -> Response:
        session = console.session(request)
        reviewer = await console.reviewer(session)
        if session is None or reviewer is None:
            return console.redirect(request, "/console/login")
        view = await visible(request_id, reviewer)
        notice = NOTICES.get(request.query_params.get("done", ""))
        return await page(request, session, reviewer, view, notice=notice)

    @router.get("/{request_id}/documents/{name}")
    async def document(request: Request, request_id: str, name: str) -> Response:
        session = console.session(request)
        reviewer = await console.reviewer(session)
        if session is None or reviewer is None:
            raise NotVisible()
        view = await visible(request_id, reviewer)
        kept: dict[str, Any] | None = view.documents.get(name)
        if not kept or "file" not in kept:
            raise NotVisible()
        path = documents.root / "registrations" / str(view.registration_id) / Path(kept["file"])
        data = await asyncio.to_thread(documents.read_kept, path, view.registration_id, name)
        extension = Path(kept["file"]).name.split(".")[1]
        return Response(
            data,
            media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
            headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
        )

    @router.post("/{request_id}/decide")
    async def decide_form(request: Request, request_id: str) -> Response:
        session = console.session(request)
        fields = await console.form(request, session)
        reviewer = await console.reviewer(session)
        if session is None or reviewer is None:
            return console.redirect(request, "/console/login")
        view = await visible(request_id, reviewer)
        body = parse_qs((await request.body()).decode("utf-8", "replace"))
        outcome = fields.get("outcome", "")
        try:
            decision = DecideUpdate.model_validate(
                {
                    "decision_id": fields.get("decision_id", ""),
                    "reviewer_id": reviewer.reviewer_id,  # the session's, never the form's
                    "outcome": outcome,
                    "reason_code": (fields.get("reason_code") or None)
                    if outcome == "reject"
                    else None,
                    "note": fields.get("note", "").strip() or None,
                    "documents": body.get("documents") if outcome == "request_supplement" else None,
                }
            )
        except ValidationError as error:
            where = ".".join(str(p) for p in error.errors()[0]["loc"])
            log.info("console.decision_invalid", field=where)
            return await page(
                request, session, reviewer, view,
                message=_invalid_message(where, error.errors()[0]["msg"]), status=400,
            )  # fmt: skip
        if (
            decision.outcome is Outcome.REJECT
            and decision.reason_code == "OTHER"
            and not decision.note
        ):
            return await page(
                request, session, reviewer, view,
                message="Lý do “Khác” cần ghi chú.", status=400,
            )  # fmt: skip
        try:
            await decide(request_id, decision)
        except DecisionRefused as refused:
            view = await visible(request_id, reviewer)
            return await page(
                request, session, reviewer, view, message=await refusal_text(refused), status=409
            )
        return console.redirect(
            request, f"/console/registrations/{request_id}?done=1", session.touched(clock())
        )

    @router.post("/{request_id}/claim")
    async def claim_form(request: Request, request_id: str) -> Response:
        """Nhận xử lý, or (``takeover=1``, a supervisor) Tiếp nhận thay."""
        return await claim_step(request, request_id, "claim")

    @router.post("/{request_id}/release")
    async def release_form(request: Request, request_id: str) -> Response:
        """Trả lại: the holder gives the claim back."""
        return await claim_step(request, request_id, "release")

    async def claim_step(request: Request, request_id: str, action: str) -> Response:
        session = console.session(request)
        fields = await console.form(request, session)
        reviewer = await console.reviewer(session)
        if session is None or reviewer is None:
            return console.redirect(request, "/console/login")
        view = await visible(request_id, reviewer)
        if claims is None:
            raise NotVisible()
        reviewer_id = reviewer.reviewer_id  # the session's, never the form's
        try:
            if action == "claim":
                claim = ClaimUpdate(
                    claim_id=fields.get("claim_id", ""),
                    reviewer_id=reviewer_id,
                    takeover=fields.get("takeover") == "1",
                )
            else:
                release = ReleaseUpdate(
                    claim_id=fields.get("claim_id", ""), reviewer_id=reviewer_id
                )
        except ValidationError:
            log.info("console.claim_invalid", field="claim_id")
            return await page(
                request, session, reviewer, view,
                message="Mã nhận xử lý không hợp lệ: tải lại trang.", status=400,
            )  # fmt: skip
        try:
            if action == "claim":
                await claims.claim(request_id, claim)
            else:
                await claims.release(request_id, release)
        except DecisionRefused as refused:
            view = await visible(request_id, reviewer)
            return await page(
                request, session, reviewer, view, message=await refusal_text(refused), status=409
            )
        return console.redirect(
            request, f"/console/registrations/{request_id}?done={action}", session.touched(clock())
        )

    return router


def _proposal(view: RegistrationView, reviewer: Reviewer) -> dict[str, Any] | None:
    """A four-eyes rejection proposal waiting for a second reviewer: its reason, and whether the
    viewer proposed it (then the page only says it waits; the domain refuses them anyway)."""
    proposal = view.rejection_proposal
    if view.state is not State.REJECTION_PROPOSED or proposal is None:
        return None
    code = proposal["reason_code"]
    return {
        "reason": CATALOGUE[code].vi if code in CATALOGUE else code,
        "note": proposal["note"],
        "proposer": proposal["reviewer_id"],
        "own": proposal["reviewer_id"] == reviewer.reviewer_id,
    }


NOTICES = {
    "1": "Đã ghi nhận quyết định.",
    "claim": "Bạn đang xử lý hồ sơ này.",
    "release": "Đã trả lại hồ sơ cho cơ quan.",
}


def _invalid_message(field: str, rule: str) -> str:
    if field == "note" and "control characters" in rule:
        return "Ghi chú không được chứa ký tự điều khiển."
    return _INVALID.get(field, "Quyết định chưa đủ thông tin.")


_INVALID = {
    "decision_id": "Mã quyết định không hợp lệ: tải lại trang.",
    "outcome": "Hãy chọn một quyết định.",
    "documents": "Hãy chọn giấy tờ cần bổ sung.",
    "note": "Ghi chú quá dài.",
}
