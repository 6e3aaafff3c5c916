"""Sending a reviewer's decision (the Temporal update ``decide``) and claims (``claim``,
``release``), and their refusals in Vietnamese."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.contract import (
    ClaimUpdate,
    DecideUpdate,
    RegistrationStatus,
    ReleaseUpdate,
    workflow_id_for,
)


class DecisionRefused(Exception):
    """The workflow refused the decision; the message is the domain's rule (English)."""


class DecisionSender(Protocol):
    """Sends ``decide`` to the registration's workflow and returns its answer; raises
    :class:`DecisionRefused` when refused."""

    async def __call__(self, request_id: str, decision: DecideUpdate) -> RegistrationStatus: ...


class ClaimSender(Protocol):
    """Sends ``claim`` or ``release`` to the registration's workflow; raises
    :class:`DecisionRefused` when refused (``claim: held by reviewer …``, ``takeover: …``)."""

    async def claim(self, request_id: str, claim: ClaimUpdate) -> RegistrationStatus: ...

    async def release(self, request_id: str, release: ReleaseUpdate) -> RegistrationStatus: ...


_VIETNAMESE = (
    (
        "four_eyes:",
        "Người đề xuất từ chối không thể tự xác nhận hay bác đề xuất của mình:"
        " cần một cán bộ khác của cơ quan.",
    ),
    ("state: no proposed rejection", "Hồ sơ không có đề xuất từ chối nào đang chờ xác nhận."),
    ("state:", "Hồ sơ không còn ở trạng thái chờ duyệt: đã có quyết định khác trước."),
    ("decision_id:", "Mã quyết định này đã được dùng cho một quyết định khác."),
    ("reviewer_id: the reviewer is not active", "Tài khoản cán bộ không còn hoạt động."),
    ("reviewer_id:", "Cán bộ không có quyền quyết định hồ sơ của cơ quan này."),
    ("takeover:", "Chỉ lãnh đạo của cơ quan mới được tiếp nhận thay hồ sơ người khác đang xử lý."),
    ("reason_code:", "Lý do từ chối không hợp lệ."),
    ("note:", "Cần ghi chú cho quyết định này."),
    ("documents:", "Danh sách giấy tờ cần bổ sung không hợp lệ."),
)


def in_vietnamese(refusal: str) -> str:
    """What the reviewer reads for a refused decision (the rule itself stays in the logs)."""
    for prefix, text in _VIETNAMESE:
        if refusal.startswith(prefix):
            return text
    return "Quyết định không được chấp nhận."


class TemporalDecisions:
    """:class:`DecisionSender` over a Temporal client, connected on first use (the web tier
    starts whether or not Temporal is up)."""

    def __init__(self, connect: Callable[[], Awaitable[Client]]) -> None:
        self._connect = connect
        self._client: Client | None = None

    async def __call__(self, request_id: str, decision: DecideUpdate) -> RegistrationStatus:
        return await self._update(request_id, "decide", decision)

    async def claim(self, request_id: str, claim: ClaimUpdate) -> RegistrationStatus:
        """:class:`ClaimSender` too: the update ``claim``."""
        return await self._update(request_id, "claim", claim)

    async def release(self, request_id: str, release: ReleaseUpdate) -> RegistrationStatus:
        return await self._update(request_id, "release", release)

    async def _update(
        self, request_id: str, name: str, update: DecideUpdate | ClaimUpdate | ReleaseUpdate
    ) -> RegistrationStatus:
        if self._client is None:
            self._client = await self._connect()
        handle = self._client.get_workflow_handle(workflow_id_for(request_id))
        try:
            status: RegistrationStatus = await handle.execute_update(
                name, update, result_type=RegistrationStatus
            )
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            raise DecisionRefused(
                cause.message if isinstance(cause, ApplicationError) else str(cause)
            ) from None
        return status
