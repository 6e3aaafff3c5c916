"""The ``Registration`` aggregate: one guardian's request to open an account for one child.

Commands check the lifecycle (:mod:`domain.lifecycle`) and raise a named domain error on an illegal
transition; the event classes only assign state. Every command carries a :class:`Cause`: who did
it, the correlation id (the workflow id), what caused it, the command id that makes it
idempotent, and when. Time is always an argument: the domain never reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import chain, lifecycle
from domain.errors import (
    CommandConflict,
    DecisionRule,
    IllegalTransition,
    InvalidValue,
    SecondReviewerRequired,
)
from domain.lifecycle import IN_REVIEW, OPEN_STATES, State
from domain.reasons import AUTOMATIC_CODES, REVIEWER_CODES, reason

MAX_SUPPLEMENT_ROUNDS = 3

CLAIM_LEASE = timedelta(minutes=30)
"""A claim lapses this long after its holder's last activity (the claim, a renewed claim)."""


class ClaimHeld(DecisionRule):
    """Another reviewer holds the registration's claim; the message names the holder's id."""

    def __init__(self, holder: str, until: datetime) -> None:
        super().__init__(f"claim: held by reviewer {holder} until {until.isoformat()}")
        self.holder = holder
        self.until = until


DECLARATION_OPENINGS = frozenset({"page", "pdf"})
"""What a guardian's link opens: the declaration's page, or its PDF."""

_REGISTRATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://vssid.example.vn/childreg/registrations")


def registration_id_for(request_id: str) -> UUID:
    """The registration id is a uuid5 of the request id: creating it twice gives the same id."""
    return uuid5(_REGISTRATION_NAMESPACE, request_id)


class ActorKind(StrEnum):
    UPSTREAM = "upstream"
    REVIEWER = "reviewer"
    GUARDIAN = "guardian"
    SYSTEM = "system"
    OPERATOR = "operator"
    """A privacy officer (an erasure)."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Who caused a command, in answer to what, and when."""

    actor_kind: ActorKind
    actor_id: str
    correlation_id: str
    """The workflow id (``registration-<request_id>``)."""
    command_id: str
    """Makes the command idempotent: the same id twice is a no-op."""
    at: datetime
    causation_id: str = ""
    """The request, signal or decision id that caused it; the command id when empty."""

    def fields(self) -> dict[str, Any]:
        return {
            "actor_kind": self.actor_kind.value,
            "actor_id": self.actor_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or self.command_id,
            "command_id": self.command_id,
        }


class Registration(Aggregate):
    """One registration's lifecycle. Build it with :meth:`submit`; never with ``Registration()``."""

    class Event(Aggregate.Event):
        actor_kind: str
        actor_id: str
        correlation_id: str
        causation_id: str
        command_id: str
        chain_link: str

        def apply(self, aggregate: Any) -> None:
            registration = cast(Registration, aggregate)
            registration.chain_head = self.chain_link
            registration.commands[self.command_id] = type(self).__name__
            registration.state = lifecycle.state_after(self, registration.state)
            self.evolve(registration)

        def evolve(self, registration: Registration) -> None:
            """Assign what this event brings besides the state (which :mod:`domain.lifecycle`
            gives). Only assignments: no checks, no clock."""

    class Submitted(Event, Aggregate.Created):
        request_id: str
        request: dict[str, Any]
        office_code: str

        def evolve(self, registration: Registration) -> None:
            registration.request_id = self.request_id
            registration.request = self.request
            registration.office_code = self.office_code
            registration.submitted_at = self.timestamp

    class IdentityVerified(Event):
        child_social_insurance_code: str
        guardian_social_insurance_code: str
        warnings: list[str]

        def evolve(self, registration: Registration) -> None:
            registration.child_social_insurance_code = self.child_social_insurance_code
            registration.warnings.extend(w for w in self.warnings if w not in registration.warnings)

    class AutoRejected(Event):
        reason_code: str
        field: str | None
        detail: str

        def evolve(self, registration: Registration) -> None:
            registration.reason_code = self.reason_code
            registration.reason_field = self.field
            registration.reason_detail = self.detail
            registration.decided_at = self.timestamp
            registration.decided_by = "system"

    class DocumentsStored(Event):
        documents: dict[str, dict[str, Any]]
        warnings: list[str]

        def evolve(self, registration: Registration) -> None:
            registration.documents.update(self.documents)
            registration.warnings.extend(w for w in self.warnings if w not in registration.warnings)

    class ReviewRequested(Event):
        office_code: str
        deadline: datetime
        expires_at: datetime
        round: int

        def evolve(self, registration: Registration) -> None:
            registration.review_deadline = self.deadline
            registration.expires_at = self.expires_at
            registration.overdue = False
            registration.claimed_by = None  # a new round starts unclaimed
            registration.claim_renewed_at = None

    class ReviewOverdue(Event):
        escalated_to: list[str]

        def evolve(self, registration: Registration) -> None:
            registration.overdue = True
            registration.escalated = True
            registration.escalated_to = list(self.escalated_to)

    class SupplementRequested(Event):
        decision_id: str
        reviewer_id: str
        documents: list[str]
        note: str
        due: datetime

        def evolve(self, registration: Registration) -> None:
            registration.supplement_rounds += 1
            registration.supplement_documents = list(self.documents)
            registration.expires_at = self.due
            registration.decisions[self.decision_id] = "request_supplement"

    class SupplementProvided(Event):
        documents: dict[str, str]

    class Approved(Event):
        decision_id: str
        reviewer_id: str
        note: str | None

        def evolve(self, registration: Registration) -> None:
            registration.decided_by = self.reviewer_id
            registration.decided_at = self.timestamp
            registration.decisions[self.decision_id] = "approve"

    class Rejected(Event):
        decision_id: str
        reviewer_id: str
        reason_code: str
        note: str | None

        def evolve(self, registration: Registration) -> None:
            registration.reason_code = self.reason_code
            registration.decided_by = self.reviewer_id
            registration.decided_at = self.timestamp
            registration.decisions[self.decision_id] = "reject"

    class RejectionProposed(Event):
        """Four eyes: a reviewer proposed a rejection; it takes effect when a second reviewer of
        the office confirms it (the ``Rejected`` event, recorded by the confirming reviewer)."""

        decision_id: str
        reviewer_id: str
        reason_code: str
        note: str | None

        def evolve(self, registration: Registration) -> None:
            registration.rejection_proposal = {
                "decision_id": self.decision_id,
                "reviewer_id": self.reviewer_id,
                "reason_code": self.reason_code,
                "note": self.note or "",
            }
            registration.decisions[self.decision_id] = "reject"

    class RejectionDeclined(Event):
        """Four eyes: a second reviewer did not agree with the proposed rejection: back to
        review (the deadline as it was)."""

        decision_id: str
        reviewer_id: str
        proposal_decision_id: str
        note: str | None

        def evolve(self, registration: Registration) -> None:
            registration.rejection_proposal = None
            registration.decisions[self.decision_id] = "decline_rejection"

    class DecisionRefused(Event):
        """An unauthorised or invalid decision attempt, kept for the audit. Changes no state."""

        decision_id: str
        reviewer_id: str
        outcome: str
        reason: str

        def evolve(self, registration: Registration) -> None:
            registration.refused_decisions += 1

    class Claimed(Event):
        """A reviewer of the office takes the registration in hand: a lease of
        :data:`CLAIM_LEASE` from this event's time. Changes no state."""

        reviewer_id: str
        takeover: bool
        """True when a supervisor took over a claim another reviewer held."""
        previous_holder: str | None

        def evolve(self, registration: Registration) -> None:
            registration.claimed_by = self.reviewer_id
            registration.claim_renewed_at = self.timestamp

    class Released(Event):
        """The holder gives the claim back. Changes no state."""

        reviewer_id: str

        def evolve(self, registration: Registration) -> None:
            registration.claimed_by = None
            registration.claim_renewed_at = None

    class Withdrawn(Event):
        reason: str | None

        def evolve(self, registration: Registration) -> None:
            registration.decided_at = self.timestamp
            registration.decided_by = "guardian"

    class Expired(Event):
        stage: str

        def evolve(self, registration: Registration) -> None:
            registration.decided_at = self.timestamp
            registration.decided_by = "system"

    class ChildAccountActivated(Event):
        account_id: str

        def evolve(self, registration: Registration) -> None:
            registration.child_account_id = self.account_id

    class NotificationPrepared(Event):
        """The intent to send, recorded before sending: what will be said, to whom (masked).

        ``subject`` and ``body`` are the message's text as sent (an email's subject and plain-text
        part; an SMS has no subject), for the guardian's access request
        (``childreg privacy export``); they are encrypted with the registration's other events and
        erased with its data key. Events recorded before the text was kept have neither: their
        stored state lacks the keys, the defaults read ``None``, and their chain links, computed
        over the stored attributes, still verify.
        """

        kind: str
        channel: str
        template_id: str
        template_version: int
        recipient_masked: str
        body_sha256: str
        attachment_sha256: str | None
        message_id: str
        subject: str | None = None
        body: str | None = None

        def evolve(self, registration: Registration) -> None:
            key = f"{self.kind}/{self.channel}"
            registration.notifications[key] = "prepared"
            registration.notification_intents[key] = (
                f"{self.message_id}/{self.body_sha256}/{self.attachment_sha256}"
            )

    class GuardianNotified(Event):
        kind: str
        channel: str
        message_id: str

        def evolve(self, registration: Registration) -> None:
            registration.notifications[f"{self.kind}/{self.channel}"] = "sent"

    class NotificationFailed(Event):
        kind: str
        channel: str
        error: str
        permanent: bool

        def evolve(self, registration: Registration) -> None:
            if self.permanent:
                registration.notifications[f"{self.kind}/{self.channel}"] = "failed"

    class NotificationSkipped(Event):
        kind: str
        channel: str
        why: str

        def evolve(self, registration: Registration) -> None:
            registration.notifications[f"{self.kind}/{self.channel}"] = "skipped"

    class DeclarationViewed(Event):
        """The guardian's link was opened (the page or the PDF). It changes no state: the audit
        shows when the guardian looked. The client's address is kept only as a keyed hash."""

        opened: str
        """What was opened: one of :data:`DECLARATION_OPENINGS`."""
        client_digest: str
        """HMAC-SHA-256 of the client's address under a service key: repeat visits from one
        address can be told apart from others, the address itself cannot be read back."""

    class Erased(Event):
        """The registration's personal data was erased (its data key deleted). Stored under the
        service key, so it stays readable after the erasure; it holds no personal data: only what
        the read models keep of an erased registration, the reason and the operator (the cause)."""

        reason: str
        request_id: str
        office_code: str
        state: str
        """The final state it was erased in (an erasure leaves the state as it was)."""
        outcome: str | None
        submitted_at: datetime | None
        outcome_at: datetime | None

        def evolve(self, registration: Registration) -> None:
            registration.erased_at = self.timestamp

    # --- state ------------------------------------------------------------------------------------

    def __init__(self) -> None:
        self.state = State.SUBMITTED
        self.chain_head = chain.GENESIS
        self.commands: dict[str, str] = {}
        self.request_id = ""
        self.request: dict[str, Any] = {}
        self.office_code = ""
        self.submitted_at: datetime | None = None
        self.child_social_insurance_code: str | None = None
        self.warnings: list[str] = []
        self.documents: dict[str, dict[str, Any]] = {}
        self.review_deadline: datetime | None = None
        self.expires_at: datetime | None = None
        self.overdue = False
        self.escalated = False
        self.escalated_to: list[str] = []
        self.supplement_rounds = 0
        self.supplement_documents: list[str] = []
        self.decisions: dict[str, str] = {}
        self.rejection_proposal: dict[str, str] | None = None
        """The waiting four-eyes proposal: decision_id, reviewer_id, reason_code, note."""
        self.refused_decisions = 0
        self.reason_code: str | None = None
        self.reason_field: str | None = None
        self.reason_detail: str | None = None
        self.decided_by: str | None = None
        self.decided_at: datetime | None = None
        self.child_account_id: str | None = None
        self.notifications: dict[str, str] = {}
        self.notification_intents: dict[str, str] = {}
        self.erased_at: datetime | None = None
        self.claimed_by: str | None = None
        self.claim_renewed_at: datetime | None = None

    # --- commands ---------------------------------------------------------------------------------

    @classmethod
    def submit(
        cls, request_id: str, request: dict[str, Any], office_code: str, cause: Cause
    ) -> Registration:
        registration_id = registration_id_for(request_id)
        fields = {
            "request_id": request_id,
            "request": request,
            "office_code": office_code,
            **cause.fields(),
        }
        at = _utc(cause.at)
        fields["chain_link"] = chain.next_link(
            chain.GENESIS, cls.Submitted.__name__, registration_id, cls.INITIAL_VERSION, at, fields
        )
        return cls._create(cls.Submitted, id=registration_id, timestamp=at, **fields)

    def verify_identity(
        self,
        child_social_insurance_code: str,
        guardian_social_insurance_code: str,
        warnings: list[str],
        cause: Cause,
    ) -> None:
        if self._repeated(cause, self.IdentityVerified):
            return
        self._require("verify the identity of", cause, State.SUBMITTED)
        self._record(
            self.IdentityVerified,
            cause,
            child_social_insurance_code=child_social_insurance_code,
            guardian_social_insurance_code=guardian_social_insurance_code,
            warnings=list(warnings),
        )

    def auto_reject(self, reason_code: str, field: str | None, detail: str, cause: Cause) -> None:
        if self._repeated(cause, self.AutoRejected):
            return
        if reason_code not in AUTOMATIC_CODES:
            raise DecisionRule(f"reason_code: {reason_code!r} is not an automatic reason code")
        self._require(
            "auto-reject",
            cause,
            State.SUBMITTED,
            State.IDENTITY_VERIFIED,
            State.SUPPLEMENT_PROVIDED,
        )
        self._record(self.AutoRejected, cause, reason_code=reason_code, field=field, detail=detail)

    def store_documents(
        self, documents: dict[str, dict[str, Any]], warnings: list[str], cause: Cause
    ) -> None:
        if self._repeated(cause, self.DocumentsStored):
            return
        self._require(
            "store documents of", cause, State.IDENTITY_VERIFIED, State.SUPPLEMENT_PROVIDED
        )
        self._record(self.DocumentsStored, cause, documents=documents, warnings=list(warnings))

    def request_review(self, deadline: datetime, expires_at: datetime, cause: Cause) -> None:
        if self._repeated(cause, self.ReviewRequested):
            return
        self._require("request a review of", cause, State.DOCUMENTS_STORED)
        self._record(
            self.ReviewRequested,
            cause,
            office_code=self.office_code,
            deadline=_utc(deadline),
            expires_at=_utc(expires_at),
            round=self.supplement_rounds + 1,
        )

    def mark_overdue(self, escalated_to: list[str], cause: Cause) -> None:
        if self._repeated(cause, self.ReviewOverdue):
            return
        self._require("mark overdue", cause, *IN_REVIEW)
        if self.overdue:
            return
        self._record(self.ReviewOverdue, cause, escalated_to=sorted(escalated_to))

    def approve(self, decision_id: str, reviewer_id: str, note: str | None, cause: Cause) -> None:
        if self._repeated(cause, self.Approved):
            return
        self._require("approve", cause, State.AWAITING_REVIEW)
        self._check_claim(reviewer_id, cause.at)
        self._record(
            self.Approved, cause, decision_id=decision_id, reviewer_id=reviewer_id, note=note
        )

    def reject(
        self,
        decision_id: str,
        reviewer_id: str,
        reason_code: str | None,
        note: str | None,
        cause: Cause,
    ) -> None:
        if self._repeated(cause, self.Rejected):
            return
        self._require("reject", cause, State.AWAITING_REVIEW)
        self._check_claim(reviewer_id, cause.at)
        check_rejection(reason_code, note)
        self._record(
            self.Rejected,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            reason_code=reason_code,
            note=note,
        )

    def propose_rejection(
        self,
        decision_id: str,
        reviewer_id: str,
        reason_code: str | None,
        note: str | None,
        cause: Cause,
    ) -> None:
        """Four eyes: the first reviewer's rejection, waiting for a second reviewer."""
        if self._repeated(cause, self.RejectionProposed):
            return
        self._require("propose a rejection of", cause, State.AWAITING_REVIEW)
        self._check_claim(reviewer_id, cause.at)
        check_rejection(reason_code, note)
        self._record(
            self.RejectionProposed,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            reason_code=reason_code,
            note=note,
        )

    def confirm_rejection(self, decision_id: str, reviewer_id: str, cause: Cause) -> None:
        """Four eyes: a second reviewer confirms the proposal; the rejection takes effect with
        the proposal's reason, decided by the confirming reviewer. Never by the proposer."""
        if self._repeated(cause, self.Rejected):
            return
        proposal = self._proposal("confirm a rejection of", cause, reviewer_id)
        self._record(
            self.Rejected,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            reason_code=proposal["reason_code"],
            note=proposal["note"] or None,
        )

    def decline_rejection(
        self, decision_id: str, reviewer_id: str, note: str | None, cause: Cause
    ) -> None:
        """Four eyes: a second reviewer does not agree; the registration is back in review."""
        if self._repeated(cause, self.RejectionDeclined):
            return
        proposal = self._proposal("decline a rejection of", cause, reviewer_id)
        self._record(
            self.RejectionDeclined,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            proposal_decision_id=proposal["decision_id"],
            note=note,
        )

    def _proposal(self, command: str, cause: Cause, reviewer_id: str) -> dict[str, str]:
        self._require(command, cause, State.REJECTION_PROPOSED)
        proposal = self.rejection_proposal
        if proposal is None:  # pragma: no cover - the state is only reached with a proposal
            raise IllegalTransition(command, self.state.value)
        if proposal["reviewer_id"] == reviewer_id:
            raise SecondReviewerRequired()
        return proposal

    def request_supplement(
        self,
        decision_id: str,
        reviewer_id: str,
        documents: list[str],
        note: str,
        due: datetime,
        cause: Cause,
    ) -> None:
        if self._repeated(cause, self.SupplementRequested):
            return
        self._require("request a supplement for", cause, State.AWAITING_REVIEW)
        self._check_claim(reviewer_id, cause.at)
        check_supplement(self.supplement_rounds, documents, note)
        self._record(
            self.SupplementRequested,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            documents=list(documents),
            note=note,
            due=_utc(due),
        )

    def provide_supplement(self, documents: dict[str, str], cause: Cause) -> None:
        if self._repeated(cause, self.SupplementProvided):
            return
        self._require("provide a supplement for", cause, State.SUPPLEMENT_REQUESTED)
        missing = sorted(set(self.supplement_documents) - set(documents))
        if missing:
            raise DecisionRule(f"documents: the supplement lacks {', '.join(missing)}")
        self._record(self.SupplementProvided, cause, documents=dict(documents))

    def refuse_decision(
        self, decision_id: str, reviewer_id: str, outcome: str, why: str, cause: Cause
    ) -> None:
        """Keep a refused decision attempt for the audit; allowed in every state."""
        if self._repeated(cause, self.DecisionRefused):
            return
        self._record(
            self.DecisionRefused,
            cause,
            decision_id=decision_id,
            reviewer_id=reviewer_id,
            outcome=outcome,
            reason=why,
        )

    def claim(self, reviewer_id: str, supervisor: bool, cause: Cause) -> None:
        """``reviewer_id`` (authorised for the office by the caller) claims the registration.

        The holder claiming again renews the lease. Another reviewer's live claim is refused with
        :class:`ClaimHeld`, unless ``supervisor`` (a supervisor of the office) takes it over.
        """
        if self._repeated(cause, self.Claimed):
            return
        self._require("claim", cause, State.AWAITING_REVIEW)
        holder = self.claim_holder(cause.at)
        if holder is not None and holder != reviewer_id and not supervisor:
            raise ClaimHeld(holder, self._lease_until())
        self._record(
            self.Claimed,
            cause,
            reviewer_id=reviewer_id,
            takeover=holder is not None and holder != reviewer_id,
            previous_holder=holder if holder != reviewer_id else None,
        )

    def release(self, reviewer_id: str, cause: Cause) -> None:
        """The holder gives the claim back; releasing a claim one does not hold is refused."""
        if self._repeated(cause, self.Released):
            return
        holder = self.claim_holder(cause.at)
        if holder is None:
            return  # nothing held (lapsed or never claimed): nothing to record
        if holder != reviewer_id:
            raise ClaimHeld(holder, self._lease_until())
        self._record(self.Released, cause, reviewer_id=reviewer_id)

    def claim_holder(self, at: datetime) -> str | None:
        """Who holds the claim at ``at``: None when nobody claimed it, it was released, the lease
        lapsed, or the review is over."""
        if self.claimed_by is None or self.claim_renewed_at is None:
            return None
        if self.state is not State.AWAITING_REVIEW or _utc(at) >= self._lease_until():
            return None
        return self.claimed_by

    def claim_expires_at(self, at: datetime) -> datetime | None:
        return self._lease_until() if self.claim_holder(at) is not None else None

    def withdraw(self, reason_text: str | None, cause: Cause) -> None:
        if self._repeated(cause, self.Withdrawn):
            return
        self._require("withdraw", cause, *OPEN_STATES)
        self._record(self.Withdrawn, cause, reason=reason_text)

    def expire(self, cause: Cause) -> None:
        if self._repeated(cause, self.Expired):
            return
        self._require("expire", cause, *IN_REVIEW, State.SUPPLEMENT_REQUESTED)
        stage = "review" if self.state in IN_REVIEW else "supplement"
        self._record(self.Expired, cause, stage=stage)

    def activate_child_account(self, account_id: str, cause: Cause) -> None:
        if self._repeated(cause, self.ChildAccountActivated):
            return
        self._require("activate the child's account of", cause, State.APPROVED)
        self._record(self.ChildAccountActivated, cause, account_id=account_id)

    # Notifications are recorded in any state once submitted: the guardian hears about every
    # milestone, including the final ones. Each (kind, channel) is prepared once and ends once.

    def notification_status(self, kind: str, channel: str) -> str | None:
        return self.notifications.get(f"{kind}/{channel}")

    def prepare_notification(
        self,
        kind: str,
        channel: str,
        template_id: str,
        template_version: int,
        recipient_masked: str,
        body_sha256: str,
        attachment_sha256: str | None,
        message_id: str,
        cause: Cause,
        *,
        subject: str | None = None,
        body: str | None = None,
    ) -> None:
        if self._repeated(cause, self.NotificationPrepared):
            return
        status = self.notification_status(kind, channel)
        if status in ("sent", "failed", "skipped"):
            return
        intent = f"{message_id}/{body_sha256}/{attachment_sha256}"
        if status == "prepared" and self.notification_intents.get(f"{kind}/{channel}") == intent:
            return  # the same intent again (a retry): nothing new to record
        self._record(
            self.NotificationPrepared,
            cause,
            kind=kind,
            channel=channel,
            template_id=template_id,
            template_version=template_version,
            recipient_masked=recipient_masked,
            body_sha256=body_sha256,
            attachment_sha256=attachment_sha256,
            message_id=message_id,
            subject=subject,
            body=body,
        )

    def notification_sent(self, kind: str, channel: str, message_id: str, cause: Cause) -> None:
        if self._repeated(cause, self.GuardianNotified):
            return
        status = self.notification_status(kind, channel)
        if status in ("sent", "failed", "skipped"):
            return  # already ended: a late acceptance changes nothing
        if status != "prepared":
            raise IllegalTransition(
                f"record a {kind} {channel} sent before it was prepared for", self.state
            )
        self._record(
            self.GuardianNotified, cause, kind=kind, channel=channel, message_id=message_id
        )

    def notification_failed(
        self, kind: str, channel: str, error: str, permanent: bool, cause: Cause
    ) -> None:
        if self._repeated(cause, self.NotificationFailed):
            return
        if self.notification_status(kind, channel) in ("sent", "failed", "skipped"):
            return
        self._record(
            self.NotificationFailed,
            cause,
            kind=kind,
            channel=channel,
            error=error,
            permanent=permanent,
        )

    def notification_skipped(self, kind: str, channel: str, why: str, cause: Cause) -> None:
        if self._repeated(cause, self.NotificationSkipped) or self.notification_status(
            kind, channel
        ):
            return
        self._record(self.NotificationSkipped, cause, kind=kind, channel=channel, why=why)

    def erase(self, reason: str, cause: Cause) -> None:
        """Record the erasure of a final registration's personal data (the caller then deletes
        its data key). Erasing again is a no-op."""
        if self.erased_at is not None or self._repeated(cause, self.Erased):
            return
        if not reason.strip():
            raise InvalidValue("reason", "an erasure needs a reason")
        if not self.is_final:
            raise IllegalTransition("erase", self.state.value)
        outcome = lifecycle.outcome_of(self.state)
        self._record(
            self.Erased,
            cause,
            reason=reason,
            request_id=self.request_id,
            office_code=self.office_code,
            state=self.state.value,
            outcome=outcome.value if outcome is not None else None,
            submitted_at=self.submitted_at,
            outcome_at=self.decided_at,
        )

    # The guardian's link may be opened in any state, final ones included (a withdrawn or expired
    # registration still shows its declaration); each opening is its own command id.

    def record_declaration_view(self, opened: str, client_digest: str, cause: Cause) -> None:
        if self._repeated(cause, self.DeclarationViewed):
            return
        if opened not in DECLARATION_OPENINGS:
            raise InvalidValue("opened", f"one of {', '.join(sorted(DECLARATION_OPENINGS))}")
        if not client_digest:
            raise InvalidValue("client_digest", "a keyed hash of the client's address is required")
        self._record(self.DeclarationViewed, cause, opened=opened, client_digest=client_digest)

    # --- derived ----------------------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return lifecycle.is_final(self.state)

    # --- mechanics --------------------------------------------------------------------------------

    def _repeated(self, cause: Cause, event_class: type[Registration.Event]) -> bool:
        """True when this command id was already carried out as the same command (a no-op)."""
        earlier = self.commands.get(cause.command_id)
        if earlier is None:
            return False
        if earlier != event_class.__name__:
            raise CommandConflict(cause.command_id, earlier, event_class.__name__)
        return True

    def _lease_until(self) -> datetime:
        if self.claim_renewed_at is None:
            raise IllegalTransition("read the lease of", "unclaimed")
        return self.claim_renewed_at + CLAIM_LEASE

    def _check_claim(self, reviewer_id: str, at: datetime) -> None:
        """A decision by someone other than the claim's live holder is refused."""
        holder = self.claim_holder(at)
        if holder is not None and holder != reviewer_id:
            raise ClaimHeld(holder, self._lease_until())

    def _require(self, command: str, cause: Cause, *allowed: State) -> None:
        if self.state not in allowed:
            raise IllegalTransition(command, self.state.value)

    def _record(
        self, event_class: type[Registration.Event], cause: Cause, **attributes: Any
    ) -> None:
        fields = {**attributes, **cause.fields()}
        at = _utc(cause.at)
        version = self.version + 1
        fields["chain_link"] = chain.next_link(
            self.chain_head, event_class.__name__, self.id, version, at, fields
        )
        self.trigger_event(event_class, timestamp=at, **fields)


def check_rejection(reason_code: str | None, note: str | None) -> None:
    """The rules of a reviewer's rejection: a reviewer reason code, and a note for ``OTHER``."""
    if not reason_code:
        raise DecisionRule("reason_code: a rejection needs a reason code")
    try:
        entry = reason(reason_code)
    except KeyError:
        raise DecisionRule(f"reason_code: unknown reason code {reason_code!r}") from None
    if reason_code not in REVIEWER_CODES:
        raise DecisionRule(f"reason_code: {reason_code!r} is not a reviewer's reason code")
    if entry.note_required and not (note and note.strip()):
        raise DecisionRule(f"note: a rejection with reason {reason_code} needs a note")


def check_supplement(rounds_so_far: int, documents: list[str], note: str) -> None:
    if rounds_so_far >= MAX_SUPPLEMENT_ROUNDS:
        raise DecisionRule(
            f"outcome: at most {MAX_SUPPLEMENT_ROUNDS} supplement rounds per registration"
        )
    if not documents:
        raise DecisionRule("documents: name at least one document to supplement")
    if not note.strip():
        raise DecisionRule("note: tell the guardian what to supplement")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)
