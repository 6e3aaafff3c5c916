"""Reading a submission as sent: a valid request, or a refused one kept as sent with why.

Every submission is recorded, the invalid ones too (auto-rejected, with the reason naming the
field), so that the guardian's request and the answer to it are in the event store whatever was
sent. The event store is encrypted: keeping what was sent is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.contract import RegistrationRequest, parse_request, workflow_id_for
from domain.errors import InvalidRequest, InvalidValue
from domain.values import WORKFLOW_ID_PREFIX, RequestId, parse

_OFFICE_CODE_MAX_LENGTH = 8
"""A refused request's office code is kept only when short enough to be one (never a long text)."""


@dataclass(frozen=True)
class RefusedRequest:
    """A request that cannot be accepted as sent: what to keep of it, and why it was refused."""

    request_id: str
    """The request id it is kept under: the one sent when valid, else the workflow's."""
    as_sent: dict[str, Any]
    office_code: str
    """The office code sent, or "" when there was none that could be one."""
    reason_code: str
    field: str
    detail: str
    """Every problem as ``field: rule``; never the values sent."""


def read_submission(raw: Any, workflow_id: str) -> RegistrationRequest | RefusedRequest:
    """The request sent to start the workflow ``workflow_id``, valid or refused."""
    request_id = _request_id(raw, workflow_id)
    try:
        request = parse_request(raw)
        if request.request_id != request_id:
            # Started under another workflow id (see _request_id): else two workflows could
            # drive one registration, the same body under two ids.
            raise InvalidRequest(
                "INVALID_REQUEST",
                [InvalidValue("request_id", f"must be the workflow id after {WORKFLOW_ID_PREFIX}")],
            )
    except InvalidRequest as invalid:
        as_sent = raw if isinstance(raw, dict) else {"as_sent": raw}  # kept whatever it is
        office = as_sent.get("office_code")
        return RefusedRequest(
            request_id=request_id,
            as_sent=as_sent,
            office_code=(
                office if isinstance(office, str) and len(office) <= _OFFICE_CODE_MAX_LENGTH else ""
            ),
            reason_code=invalid.reason_code,
            field=invalid.field,
            detail=str(invalid),
        )
    return request


def refused_unencrypted(workflow_id: str) -> RefusedRequest:
    """A start whose input did not come through the payload codec: refused unread, so nothing of
    what was sent is kept (the request id is the workflow's, as for any unreadable request)."""
    return RefusedRequest(
        request_id=workflow_id,
        as_sent={},
        office_code="",
        reason_code="INPUT_NOT_ENCRYPTED",
        field="request",
        detail="request: must come through the payload codec (encrypted); it was sent as plain JSON",
    )


def _request_id(raw: Any, workflow_id: str) -> str:
    """The request id the registration is kept under; the workflow id when the sent one is invalid."""
    sent = raw.get("request_id") if isinstance(raw, dict) else None
    try:
        request_id: str = parse(RequestId, sent, "request_id")
    except ValueError:
        return workflow_id
    if workflow_id_for(request_id) != workflow_id:
        return workflow_id  # refused too: kept under the id it was started with
    return request_id
