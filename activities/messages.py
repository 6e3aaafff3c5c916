"""The typed inputs and results of the registration workflow's activities.

Every activity takes one of these and returns one. They carry ids, times and reference codes,
never a child's personal data: the activities read what they need from the event store, so
Temporal's history holds no more than it must. ``at`` is the workflow's ``workflow.now()`` when
it scheduled the activity: a retry records the same time, so a replay of the events is exact.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from activities.notifications.models import NotifyGuardianInput
from domain.contract import (
    ClaimUpdate,
    DecideUpdate,
    DocumentName,
    RegistrationStatus,
    ReleaseUpdate,
)


class ActivityName(StrEnum):
    """The registration workflow's activities, by the name Temporal schedules them under.

    The workflow calls them by these names and each ``@activity.defn(name=...)`` registers under
    one, so the worker decides which implementation runs. The values are recorded in every
    workflow history: they never change.
    """

    RECORD_SUBMISSION = "record_submission"
    VERIFY_IDENTITY = "verify_identity"
    STORE_DOCUMENTS = "store_documents"
    REQUEST_REVIEW = "request_review"
    MARK_OVERDUE = "mark_overdue"
    EXPIRE = "expire"
    DECIDE = "decide"
    PROVIDE_SUPPLEMENT = "provide_supplement"
    WITHDRAW = "withdraw"
    ACTIVATE_CHILD_ACCOUNT = "activate_child_account"
    RELEASE_CHILD_CLAIM = "release_child_claim"
    CLAIM_REVIEW = "claim_review"
    PREPARE_NOTIFICATION = "prepare_notification"
    NOTIFY_GUARDIAN = "notify_guardian"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Step(_Message):
    """What every recording activity needs: which registration, who orchestrates it, and when."""

    workflow_id: str
    registration_id: str
    at: datetime


class SubmissionInput(_Message):
    workflow_id: str
    raw_request: Any
    """The request exactly as the upstream sent it (any JSON value): validated by the activity,
    not the workflow."""
    at: datetime
    input_not_encrypted: bool = False
    """The input did not come through the payload codec (``CHILDREG_REQUIRE_ENCRYPTED_INPUT``):
    ``raw_request`` is then empty and the registration is recorded auto-rejected unread."""


class StepOutcome(_Message):
    """The registration's status after a step; ``refusal`` says why a step was not carried out."""

    status: RegistrationStatus
    refusal: str | None = None
    field: str | None = None
    child_account_id: str | None = None


class DocumentsInput(_Message):
    step: Step
    documents: dict[DocumentName, str]
    """Document name → ``sha256:`` reference in the intake."""
    round: int = 0
    """0 for the documents of the submission, n for the n-th supplement."""


class ReviewInput(_Message):
    step: Step
    round: int


class DecisionInput(_Message):
    step: Step
    decision: DecideUpdate
    via: str = Field(pattern="^(signal|update)$")


class ReviewClaimInput(_Message):
    """A reviewer's claim on the review (the update ``claim``), or its release (``release``)."""

    step: Step
    claim: ClaimUpdate | None = None
    release: ReleaseUpdate | None = None


class WithdrawInput(_Message):
    step: Step
    reason: str | None = None


class SupplementInput(_Message):
    step: Step
    round: int
    documents: dict[str, str]


class StageInput(_Message):
    """A step the system takes on its own (overdue, expiry), numbered by review round."""

    step: Step
    round: int


class ClaimInput(_Message):
    registration_id: str


class NotifyInput(_Message):
    """The milestone the guardian hears about; the notifications activity builds the message."""

    step: Step
    kind: str
    """A notification kind: received, supplement_requested, approved, rejected, ..."""
    round: int = 0
    """For ``supplement_requested``: which request (each round is its own message)."""


class PreparedNotification(_Message):
    """The ``notify_guardian`` input for a milestone, or None when there is no one to tell.

    The workflow hands ``message`` to ``notify_guardian`` as it is: checked once, when it is
    prepared. Its JSON has the fields the untyped message of earlier histories had, so their
    recorded results still decode (missing optional fields take their defaults)."""

    message: NotifyGuardianInput | None = None
