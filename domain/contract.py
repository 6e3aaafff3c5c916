"""The public contract (README: "The public contract") as pydantic models.

Upstream services in any language depend on these field names: they are fixed. Optional fields
may be added; unknown fields are ignored so that a newer upstream can talk to an older worker.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from domain.errors import InvalidRequest, InvalidValue
from domain.values import (
    WORKFLOW_ID_PREFIX,
    DocumentRef,
    Email,
    Identifier,
    OfficeCode,
    PersonalIdNumber,
    PersonName,
    Relationship,
    RequestId,
    SocialInsuranceCode,
    VietnameseMobile,
    check_minor,
    describe_validation_error,
)

VIETNAM = timezone(timedelta(hours=7), "ICT")
"""Vietnam keeps UTC+07:00 all year; business days and ages are counted in it."""

NOTE_MAX_LENGTH = 1000
QR_MAX_LENGTH = 2000


def _printable_note(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("a note must not contain NUL or other control characters")
    return value


Note = Annotated[str, Field(max_length=NOTE_MAX_LENGTH), AfterValidator(_printable_note)]

_DOCUMENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)


def document_name(value: str) -> str:
    if not _DOCUMENT_NAME.fullmatch(value):
        raise ValueError("a document name must be 1 to 40 of a-z 0-9 _, starting with a letter")
    return value


DocumentName = Annotated[str, AfterValidator(document_name)]

REQUIRED_DOCUMENTS = ("portrait", "birth_certificate")


def workflow_id_for(request_id: str) -> str:
    """The registration's workflow id (README: "The public contract"): ``registration-<request_id>``."""
    return f"{WORKFLOW_ID_PREFIX}{request_id}"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_max_length=4000)


class Guardian(_Contract):
    social_insurance_code: SocialInsuranceCode
    full_name: PersonName
    relationship: Relationship
    phone: VietnameseMobile
    email: Email | None = None


class Child(_Contract):
    social_insurance_code: SocialInsuranceCode | None = None
    personal_id_number: PersonalIdNumber | None = None
    full_name: PersonName
    date_of_birth: date
    health_insurance_card_qr: Annotated[str, Field(max_length=QR_MAX_LENGTH)] | None = None

    @model_validator(mode="after")
    def _identified(self) -> Child:
        if self.social_insurance_code is None and self.personal_id_number is None:
            raise ValueError(
                "the child needs a social_insurance_code (10 digits) or a personal_id_number (12 digits)"
            )
        return self


class Documents(_Contract):
    portrait: DocumentRef
    birth_certificate: DocumentRef


def _not_a_number(value: Any) -> Any:
    # pydantic would read a number as a Unix time: a sender's mistake, not a date
    if isinstance(value, int | float):
        raise ValueError("a date and time must be ISO 8601 text with its offset, not a number")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
"""A date and time with its offset, sent as text (``2026-11-25T09:00:00+07:00``)."""


class Commitment(_Contract):
    accepted: bool
    accepted_at: Timestamp | None = None


class RegistrationRequest(_Contract):
    """The workflow's input: one guardian registering one minor child at one office."""

    request_id: RequestId
    submitted_at: Timestamp
    guardian: Guardian
    child: Child
    documents: Documents
    office_code: OfficeCode
    commitment: Commitment

    @property
    def submission_date(self) -> date:
        """The day of submission in Vietnam, which ages and deadlines count from."""
        return self.submitted_at.astimezone(VIETNAM).date()


def parse_request(data: Any) -> RegistrationRequest:
    """Validate a request as sent and check the rules that make it acceptable.

    Raises :class:`InvalidRequest` with the catalogue's reason code and every problem as
    ``field: rule``. Problems never quote the values sent (they may be a child's personal data).
    """
    if not isinstance(data, dict):
        raise InvalidRequest(
            "INVALID_REQUEST",
            [InvalidValue("request", "must be a JSON object with the fields of the contract")],
        )
    try:
        request = RegistrationRequest.model_validate(data)
    except ValidationError as error:
        problems = describe_validation_error(error)
        only_documents_missing = all(
            item["loc"][:1] == ("documents",) and item["type"] == "missing"
            for item in error.errors()
        )
        # The reason describes the whole refusal: DOCUMENT_MISSING only when that is all that is wrong.
        code = "DOCUMENT_MISSING" if only_documents_missing else "INVALID_REQUEST"
        raise InvalidRequest(code, problems) from None
    check_request(request)
    return request


def check_request(request: RegistrationRequest) -> None:
    """The rules a well-formed request must still satisfy, each with its own reason code."""
    if not request.commitment.accepted:
        raise InvalidRequest(
            "COMMITMENT_NOT_ACCEPTED",
            [InvalidValue("commitment.accepted", "the guardian must accept the commitment")],
        )
    try:
        check_minor(request.child.date_of_birth, request.submission_date)
    except ValueError as error:
        code = (
            "INVALID_REQUEST"
            if request.child.date_of_birth > request.submission_date
            else "CHILD_NOT_MINOR"
        )
        raise InvalidRequest(code, [InvalidValue("child.date_of_birth", str(error))]) from None


# --- reviewer decisions and the guardian's messages ------------------------------------------------


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_SUPPLEMENT = "request_supplement"
    CONFIRM_REJECTION = "confirm_rejection"
    """Four-eyes offices: a second reviewer confirms the proposed rejection."""
    DECLINE_REJECTION = "decline_rejection"
    """Four-eyes offices: a second reviewer declines it; the registration is back in review."""


class ApproveSignal(_Contract):
    decision_id: Identifier
    reviewer_id: Identifier
    note: Note | None = None


class RejectSignal(_Contract):
    decision_id: Identifier
    reviewer_id: Identifier
    reason_code: str
    note: Note | None = None


class RequestSupplementSignal(_Contract):
    decision_id: Identifier
    reviewer_id: Identifier
    documents: Annotated[list[DocumentName], Field(min_length=1, max_length=10)]
    note: Note


class SecondReviewSignal(_Contract):
    """The signals ``confirm_rejection`` and ``decline_rejection`` (four-eyes offices)."""

    decision_id: Identifier
    reviewer_id: Identifier
    note: Note | None = None


class ProvideSupplementSignal(_Contract):
    documents: Annotated[dict[DocumentName, DocumentRef], Field(min_length=1, max_length=10)]


class WithdrawSignal(_Contract):
    reason: Note | None = None


class DecideUpdate(_Contract):
    """The update ``decide``: any reviewer decision, answered synchronously."""

    decision_id: Identifier
    reviewer_id: Identifier
    outcome: Outcome
    reason_code: str | None = None
    documents: Annotated[list[DocumentName], Field(min_length=1, max_length=10)] | None = None
    note: Note | None = None


class ClaimUpdate(_Contract):
    """The update ``claim``: a reviewer of the office takes the registration in hand (a lease of
    30 minutes, renewed by claiming again); ``takeover`` lets a supervisor take another's claim."""

    claim_id: Identifier
    reviewer_id: Identifier
    takeover: bool = False


class ReleaseUpdate(_Contract):
    """The update ``release``: the claim's holder gives it back."""

    claim_id: Identifier
    reviewer_id: Identifier


# --- answers ------------------------------------------------------------------------------------------


class FinalOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    AUTO_REJECTED = "auto_rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class RegistrationResult(_Contract):
    """The workflow's result."""

    registration_id: str
    outcome: FinalOutcome
    reason_code: str | None = None
    reason_field: str | None = None
    """For an automatic rejection: the field at fault (``child.date_of_birth``)."""
    reason_detail: str | None = None
    """For an automatic rejection: every problem as ``field: rule``, never quoting a value."""
    child_account_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime


class RegistrationStatus(_Contract):
    """The answer of the query ``status`` (and the update ``decide``). No personal data."""

    registration_id: str
    request_id: str
    state: str
    office_code: str | None = None
    review_deadline: datetime | None = None
    expires_at: datetime | None = None
    waiting_for: Literal["system", "reviewer", "guardian", "nobody"] = "system"
    overdue: bool = False
    escalated: bool = False
    supplement_rounds: int = 0
    outcome: FinalOutcome | None = None
    reason_code: str | None = None
    reason_field: str | None = None
    reason_detail: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    warnings: list[str] = Field(default_factory=list)
    rejection_proposed_by: str | None = None
    """Four-eyes offices: the reviewer whose proposed rejection waits for a second reviewer."""
    claimed_by: str | None = None
    """The reviewer who claimed it; they hold it until ``claim_expires_at``."""
    claim_expires_at: datetime | None = None


def utc(moment: datetime) -> datetime:
    """Aware datetimes are compared and stored in UTC."""
    return moment.astimezone(UTC)


CONTRACT_MODELS: dict[str, type[BaseModel]] = {
    "RegistrationRequest": RegistrationRequest,
    "ApproveSignal": ApproveSignal,
    "RejectSignal": RejectSignal,
    "RequestSupplementSignal": RequestSupplementSignal,
    "SecondReviewSignal": SecondReviewSignal,
    "ProvideSupplementSignal": ProvideSupplementSignal,
    "WithdrawSignal": WithdrawSignal,
    "DecideUpdate": DecideUpdate,
    "RegistrationStatus": RegistrationStatus,
    "RegistrationResult": RegistrationResult,
}
"""Every message of the contract, by name: ``childreg schema`` prints their JSON Schema."""
