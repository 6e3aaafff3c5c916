"""The lifecycle of a registration, defined once: every layer reads it from here.

::

    submitted            → identity_verified | auto_rejected
    identity_verified    → documents_stored | auto_rejected
    documents_stored     → awaiting_review
    awaiting_review      → approved | rejected | rejection_proposed | supplement_requested | expired
    rejection_proposed   → rejected | awaiting_review | expired      (four-eyes offices)
    supplement_requested → supplement_provided | expired
    supplement_provided  → documents_stored | auto_rejected
    approved             → account_activated
    any open state       → withdrawn

- **open**: no decision yet; the guardian may still withdraw.
- **approved**: decided, but the child's account is not activated yet: neither open nor final.
- **final**: nothing more happens to the registration.

The aggregate (:mod:`domain.registration`) checks which command is allowed in which state; this
module says where each event leads, what a state means to the outside (its outcome, who it waits
for). The workflow, the service's view, the read models and the queries all read these tables,
so adding a state is one edit here (and a test, ``tests/unit/test_lifecycle.py``, fails until
every consumer agrees).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from domain.contract import FinalOutcome


class State(StrEnum):
    """Where a registration is. The values are what the status query and the read models show."""

    SUBMITTED = "submitted"
    IDENTITY_VERIFIED = "identity_verified"
    DOCUMENTS_STORED = "documents_stored"
    AWAITING_REVIEW = "awaiting_review"
    REJECTION_PROPOSED = "rejection_proposed"
    """A four-eyes office: a reviewer proposed a rejection; a second reviewer confirms or
    declines it. The review deadline keeps running."""
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENT_PROVIDED = "supplement_provided"
    APPROVED = "approved"
    ACCOUNT_ACTIVATED = "account_activated"
    REJECTED = "rejected"
    AUTO_REJECTED = "auto_rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


OPEN_STATES = frozenset(
    {
        State.SUBMITTED,
        State.IDENTITY_VERIFIED,
        State.DOCUMENTS_STORED,
        State.AWAITING_REVIEW,
        State.REJECTION_PROPOSED,
        State.SUPPLEMENT_REQUESTED,
        State.SUPPLEMENT_PROVIDED,
    }
)
"""Before any decision: a withdrawal is still possible."""

FINAL_STATES = frozenset(
    {State.ACCOUNT_ACTIVATED, State.REJECTED, State.AUTO_REJECTED, State.WITHDRAWN, State.EXPIRED}
)
"""Nothing more happens: the workflow ends, the guardian has been told the outcome."""

STATE_AFTER: Mapping[str, State] = MappingProxyType(
    {
        "Submitted": State.SUBMITTED,
        "IdentityVerified": State.IDENTITY_VERIFIED,
        "AutoRejected": State.AUTO_REJECTED,
        "DocumentsStored": State.DOCUMENTS_STORED,
        "ReviewRequested": State.AWAITING_REVIEW,
        "RejectionProposed": State.REJECTION_PROPOSED,
        "RejectionDeclined": State.AWAITING_REVIEW,
        "SupplementRequested": State.SUPPLEMENT_REQUESTED,
        "SupplementProvided": State.SUPPLEMENT_PROVIDED,
        "Approved": State.APPROVED,
        "Rejected": State.REJECTED,
        "Withdrawn": State.WITHDRAWN,
        "Expired": State.EXPIRED,
        "ChildAccountActivated": State.ACCOUNT_ACTIVATED,
    }
)
"""The state a registration is in after each event that moves it, by the event class's name
(``Registration.Approved`` → ``"Approved"``). Every other event (an overdue mark, a refused
decision, the notifications) leaves the state as it was.

Keyed by name because the event classes are defined in :mod:`domain.registration`, which reads
this module; the names are the stored events' topics, so they never change."""

OUTCOMES: Mapping[State, FinalOutcome] = MappingProxyType(
    {
        State.APPROVED: FinalOutcome.APPROVED,
        State.ACCOUNT_ACTIVATED: FinalOutcome.APPROVED,
        State.REJECTED: FinalOutcome.REJECTED,
        State.AUTO_REJECTED: FinalOutcome.AUTO_REJECTED,
        State.WITHDRAWN: FinalOutcome.WITHDRAWN,
        State.EXPIRED: FinalOutcome.EXPIRED,
    }
)
"""The outcome a state stands for; open states have none. ``approved`` has its outcome before it
is final: the decision is made, only the account's activation is left."""

WaitingFor = Literal["system", "reviewer", "guardian", "nobody"]

WAITING_FOR: Mapping[State, WaitingFor] = MappingProxyType(
    {
        State.SUBMITTED: "system",
        State.IDENTITY_VERIFIED: "system",
        State.DOCUMENTS_STORED: "system",
        State.AWAITING_REVIEW: "reviewer",
        State.REJECTION_PROPOSED: "reviewer",
        State.SUPPLEMENT_REQUESTED: "guardian",
        State.SUPPLEMENT_PROVIDED: "system",
        State.APPROVED: "system",
        State.ACCOUNT_ACTIVATED: "nobody",
        State.REJECTED: "nobody",
        State.AUTO_REJECTED: "nobody",
        State.WITHDRAWN: "nobody",
        State.EXPIRED: "nobody",
    }
)
"""Who has to act next for the registration to move on."""


IN_REVIEW = frozenset({State.AWAITING_REVIEW, State.REJECTION_PROPOSED})
"""A reviewer has to act and the review deadline runs (a waiting rejection proposal included)."""


def new_state(event: object) -> State | None:
    """The state ``event`` (a ``Registration`` event) brings; None when it leaves the state as
    it was."""
    return STATE_AFTER.get(type(event).__name__)


def state_after(event: object, state: State) -> State:
    """The state after ``event`` of a registration in ``state``."""
    return new_state(event) or state


def outcome_of(state: State) -> FinalOutcome | None:
    return OUTCOMES.get(state)


def waiting_for(state: State) -> WaitingFor:
    return WAITING_FOR[state]


def is_final(state: State) -> bool:
    return state in FINAL_STATES
