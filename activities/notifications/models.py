"""The activity's input and result: what the workflow imports (light: pydantic and the domain only).

Field names are a contract between the workflow and the worker: add optional fields, never rename.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import phonenumbers
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from activities.notifications.journal import DeliveryStatus
from activities.notifications.kinds import (
    MAX_OCCASIONS,
    NEEDS_REASON,
    Channel,
    NotificationKind,
    delivery_name,
    short_reference,
)
from domain.contract import RegistrationRequest
from domain.reasons import CATALOGUE


def _load_what_validation_loads_on_first_use() -> None:
    """The workflow decodes this model (a prepared notification, the request inside) in Temporal's
    sandbox, which refuses what validating a phone number does the first time in a process:
    phonenumbers loads a region's metadata under a lock. The workflow imports this module through
    the sandbox's pass-through, so this runs outside it, once per process, before any workflow
    code: without it a worker that replays before it runs any activity (a fresh process,
    ``childreg audit replay-workflows``) fails the workflow task."""
    phonenumbers.PhoneMetadata.metadata_for_region("VN")


_load_what_validation_loads_on_first_use()


class NotifyGuardianInput(BaseModel):
    """One milestone to tell the guardian about. The same input on every retry."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    registration_id: UUID
    request_id: str
    kind: NotificationKind
    request: RegistrationRequest
    """The registration as submitted: names and contacts, and the declaration's content."""
    office_name: str
    occurred_at: AwareDatetime
    """When the milestone happened (the workflow's time): dates the message and its link."""
    reason_code: str | None = None
    """Required for rejected and auto_rejected; one of the catalogue's codes."""
    note: str | None = None
    """The reviewer's note (rejected, supplement requested), shown to the guardian as written."""
    supplement_documents: Annotated[list[str], Field(max_length=10)] = Field(default_factory=list)
    supplement_due: date | None = None
    child_account_id: str | None = None
    """Required for approved."""
    occasion: Annotated[int, Field(ge=1, le=MAX_OCCASIONS)] = 1
    """Which time this kind is told: for supplement_requested the supplement round (1 to 3, each
    round is its own email and SMS); always 1 for every other kind. Part of the delivery's
    identity: the same (registration, kind, occasion) is delivered once."""

    @model_validator(mode="after")
    def _complete_for_its_kind(self) -> NotifyGuardianInput:
        if self.kind in NEEDS_REASON:
            if self.reason_code is None:
                raise ValueError(f"reason_code: required for a {self.kind} notification")
            if self.reason_code not in CATALOGUE:
                raise ValueError("reason_code: not in the catalogue of reason codes")
        if self.kind is NotificationKind.SUPPLEMENT_REQUESTED and not self.supplement_documents:
            raise ValueError(
                "supplement_documents: required for a supplement_requested notification"
            )
        if self.kind is NotificationKind.APPROVED and not self.child_account_id:
            raise ValueError("child_account_id: required for an approved notification")
        if self.occasion != 1 and self.kind is not NotificationKind.SUPPLEMENT_REQUESTED:
            raise ValueError(f"occasion: a {self.kind} notification is told once (occasion 1)")
        return self

    @property
    def reference(self) -> str:
        """The short reference the guardian sees, e.g. ``DK-1A2B3C4D``."""
        return short_reference(self.registration_id)

    @property
    def delivery(self) -> str:
        """The journal's name of this delivery, e.g. ``supplement_requested.2``."""
        return delivery_name(self.kind, self.occasion)


class ChannelOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel
    status: DeliveryStatus
    message_id: str | None = None
    detail: str | None = None
    """Why it failed or was skipped (a failure class and code, never an address)."""
    already: bool = False
    """Nothing was done: an earlier attempt had reached this status."""


class NotifyGuardianResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    registration_id: UUID
    kind: NotificationKind
    occasion: int = 1
    email: ChannelOutcome
    sms: ChannelOutcome
