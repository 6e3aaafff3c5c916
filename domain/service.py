"""The registration service: the eventsourcing ``Application`` that is the system of record.

Persistence is picked by configuration (the ``env`` given by the composition root: PostgreSQL
in every process, an in-memory store in unit tests), not by code. Methods take plain values and
return plain data, never live aggregates: :meth:`RegistrationService.submit` records a
submission (valid or refused), :meth:`RegistrationService.execute` carries out any other command
of the ``Registration`` aggregate inside the service. Each command is idempotent through its
cause's command id, and is retried on a concurrent write by reloading the registration and
deciding again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.contract import FinalOutcome, RegistrationRequest, RegistrationStatus
from domain.errors import CommandConflict, DataErased, RegistrationNotFound
from domain.intake import RefusedRequest
from domain.lifecycle import State, outcome_of, waiting_for
from domain.registration import CLAIM_LEASE, Cause, Registration, registration_id_for

_CONCURRENT_WRITE_ATTEMPTS = 5

P = ParamSpec("P")


@dataclass(frozen=True)
class RegistrationView:
    """A registration as plain data, for activities and commands (it holds personal data)."""

    registration_id: UUID
    request_id: str
    version: int
    state: State
    office_code: str
    request: dict[str, Any]
    submitted_at: datetime | None
    warnings: list[str]
    documents: dict[str, dict[str, Any]]
    review_deadline: datetime | None
    expires_at: datetime | None
    overdue: bool
    escalated: bool
    escalated_to: list[str]
    supplement_rounds: int
    supplement_documents: list[str]
    reason_code: str | None
    reason_field: str | None
    reason_detail: str | None
    decided_by: str | None
    decided_at: datetime | None
    child_account_id: str | None
    notifications: dict[str, str] = field(default_factory=dict)
    rejection_proposal: dict[str, str] | None = None
    """Four-eyes offices: the waiting proposal (decision_id, reviewer_id, reason_code, note)."""
    claimed_by: str | None = None
    """The claim's holder as of the last event (None once released or out of review)."""
    claim_expires_at: datetime | None = None
    position: int | None = None
    """The notification id of the last event this call recorded (None when it recorded nothing)."""
    erased_at: datetime | None = None
    """When its personal data was erased (a process that had it cached still holds it: check
    this before using the request)."""

    @property
    def outcome(self) -> FinalOutcome | None:
        return outcome_of(self.state)

    def contract_status(self) -> RegistrationStatus:
        """The answer of the workflow's ``status`` query (the contract's type): no personal data."""
        return RegistrationStatus(
            registration_id=str(self.registration_id),
            request_id=self.request_id,
            state=self.state.value,
            office_code=self.office_code,
            review_deadline=self.review_deadline,
            expires_at=self.expires_at,
            waiting_for=waiting_for(self.state),
            overdue=self.overdue,
            escalated=self.escalated,
            supplement_rounds=self.supplement_rounds,
            outcome=self.outcome,
            reason_code=self.reason_code,
            reason_field=self.reason_field,
            reason_detail=self.reason_detail,
            decided_by=self.decided_by,
            decided_at=self.decided_at,
            warnings=list(self.warnings),
            rejection_proposed_by=self.rejection_proposal["reviewer_id"]
            if self.rejection_proposal
            else None,
            claimed_by=self.claimed_by,
            claim_expires_at=self.claim_expires_at,
        )


class _WrittenCopies:
    """The registrations this process saved last, each as it was after its save (bounded, least
    recently saved dropped first). A copy is taken out for one command at a time (two threads
    never share one); the store refuses its save if anyone wrote after it (the events' version
    numbers are unique), so a copy that another writer made stale costs a retry, never a wrong
    decision."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._copies: OrderedDict[UUID, Registration] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, registration_id: UUID) -> Registration | None:
        with self._lock:
            return self._copies.pop(registration_id, None)

    def peek(self, registration_id: UUID) -> Registration | None:
        """The copy, left in place, to read what never changes (None while a command has it)."""
        with self._lock:
            return self._copies.get(registration_id)

    def keep(self, registration: Registration) -> None:
        if self._maxsize <= 0:
            return
        with self._lock:
            self._copies[registration.id] = registration
            self._copies.move_to_end(registration.id)
            while len(self._copies) > self._maxsize:
                self._copies.popitem(last=False)


class RegistrationService(Application[UUID]):
    name = "childreg"

    WRITTEN_COPIES = 1000
    """Registrations kept as this process last saved them: the next command on one starts from
    that copy, with no read (the fast-forward of the aggregate cache), no decryption and no deep
    copy; ``0`` turns it off."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self._written = _WrittenCopies(self.WRITTEN_COPIES)

    # --- commands ---------------------------------------------------------------------------------

    def submit(
        self,
        submission: RegistrationRequest | RefusedRequest,
        cause: Cause,
        rejection: Cause | None = None,
    ) -> RegistrationView:
        """Record a submission, valid or refused.

        A refused one is kept as sent together with its auto-rejection (``rejection`` is that
        command's cause), in one save: nothing is half-stored. Submitting the same request id
        again returns the registration recorded under it; a different valid request under a
        request id already used is a :class:`CommandConflict`.
        """
        registration_id = registration_id_for(submission.request_id)
        for _ in range(_CONCURRENT_WRITE_ATTEMPTS):
            try:
                existing = self._load(registration_id)
            except RegistrationNotFound:
                pass
            else:
                # A refused request is answered with what is recorded: it has nothing to compare.
                if isinstance(submission, RegistrationRequest) and not _same(existing, submission):
                    raise CommandConflict(submission.request_id, "another request", "this request")
                return _view(existing)
            registration = _submitted(submission, cause, rejection)
            try:
                recordings = self.save(registration)
            except IntegrityError:
                continue  # created concurrently: load it and compare
            self._written.keep(registration)
            return _view(registration, recordings[-1].notification.id if recordings else None)
        raise RuntimeError("could not record the submission after repeated concurrent writes")

    def execute(
        self,
        registration_id: UUID,
        command: Callable[Concatenate[Registration, P], None],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> RegistrationView:
        """Carry out one of the registration's commands and return the registration as plain data.

        ``execute(registration_id, Registration.approve, decision_id, reviewer_id, note, cause)``
        loads the registration, applies the command and saves what it recorded; on a concurrent
        write it loads the fresh state and decides again. The aggregate never leaves the service:
        ``command`` must be one of ``Registration``'s own public methods.
        """
        if not _is_registration_command(command):
            raise TypeError("command: must be a public method of Registration")
        copy = self._written.take(registration_id)
        for _ in range(_CONCURRENT_WRITE_ATTEMPTS + 1):
            # This process's own last save, when it has one: only a save can prove it is still
            # the newest, so whatever it does not save (a refusal raised, a repeat that records
            # nothing) is decided again on the stored state.
            verified = copy is None or copy.erased_at is not None
            registration = self._load(registration_id) if verified else copy
            copy = None
            assert registration is not None  # noqa: S101  (loaded, or the copy)
            try:
                command(registration, *args, **kwargs)
            except Exception:
                if verified:
                    raise
                continue
            if not registration.pending_events:
                if verified:
                    return _view(registration)
                continue
            try:
                recordings = self.save(registration)
            except IntegrityError:
                continue  # another writer got there first: decide again on the fresh state
            self._written.keep(registration)
            return _view(registration, recordings[-1].notification.id if recordings else None)
        raise RuntimeError("could not record the command after repeated concurrent writes")

    # --- queries ----------------------------------------------------------------------------------

    def get(self, registration_id: UUID, version: int | None = None) -> RegistrationView:
        return _view(self._load(registration_id, version))

    def request_id_of(self, registration_id: UUID) -> str:
        """The request id the registration was submitted under. It never changes, so this
        process's copy of its own last save answers it without a read."""
        copy = self._written.peek(registration_id)
        if copy is not None and copy.erased_at is None:
            return copy.request_id
        return self._load(registration_id).request_id

    def get_by_request(self, request_id: str) -> RegistrationView:
        return self.get(registration_id_for(request_id))

    def history(self, registration_id: UUID) -> list[Registration.Event]:
        """The stored events of one registration, oldest first (frozen values, safe to hand out)."""
        events = list(self.repository.event_store.get(registration_id))
        if not events:
            raise RegistrationNotFound(str(registration_id))
        return events  # type: ignore[return-value]

    # --- mechanics --------------------------------------------------------------------------------

    def _load(self, registration_id: UUID, version: int | None = None) -> Registration:
        try:
            registration: object = self.repository.get(registration_id, version=version)
        except AggregateNotFoundError:
            raise RegistrationNotFound(str(registration_id)) from None
        if not isinstance(registration, Registration):
            raise RegistrationNotFound(str(registration_id))
        if registration.erased_at is not None:
            # Erased since this process cached it: what it holds must not be used any more.
            raise DataErased(registration_id)
        return registration


def _submitted(
    submission: RegistrationRequest | RefusedRequest, cause: Cause, rejection: Cause | None
) -> Registration:
    """A new registration of ``submission``: submitted, and auto-rejected when it was refused."""
    if isinstance(submission, RegistrationRequest):
        payload = submission.model_dump(mode="json")
        return Registration.submit(submission.request_id, payload, submission.office_code, cause)
    if rejection is None:
        raise ValueError("rejection: a refused submission is recorded with its rejection")
    registration = Registration.submit(
        submission.request_id, submission.as_sent, submission.office_code, cause
    )
    registration.auto_reject(submission.reason_code, submission.field, submission.detail, rejection)
    return registration


def _same(registration: Registration, request: RegistrationRequest) -> bool:
    return registration.request == request.model_dump(mode="json")


def _is_registration_command(command: object) -> bool:
    name = getattr(command, "__name__", "")
    return not name.startswith("_") and vars(Registration).get(name) is command


def _view(registration: Registration, position: int | None = None) -> RegistrationView:
    in_review = registration.state is State.AWAITING_REVIEW and registration.claimed_by is not None
    claimed_by = registration.claimed_by if in_review else None
    claim_renewed_at = registration.claim_renewed_at if in_review else None
    return RegistrationView(
        registration_id=registration.id,
        request_id=registration.request_id,
        version=registration.version,
        state=registration.state,
        office_code=registration.office_code,
        request=dict(registration.request),
        submitted_at=registration.submitted_at,
        warnings=list(registration.warnings),
        documents={name: dict(details) for name, details in registration.documents.items()},
        review_deadline=registration.review_deadline,
        expires_at=registration.expires_at,
        overdue=registration.overdue,
        escalated=registration.escalated,
        escalated_to=list(registration.escalated_to),
        supplement_rounds=registration.supplement_rounds,
        supplement_documents=list(registration.supplement_documents),
        reason_code=registration.reason_code,
        reason_field=registration.reason_field,
        reason_detail=registration.reason_detail,
        decided_by=registration.decided_by,
        decided_at=registration.decided_at,
        child_account_id=registration.child_account_id,
        notifications=dict(registration.notifications),
        rejection_proposal=dict(registration.rejection_proposal)
        if registration.rejection_proposal
        else None,
        claimed_by=claimed_by,
        claim_expires_at=claim_renewed_at + CLAIM_LEASE if claim_renewed_at else None,
        position=position,
        erased_at=registration.erased_at,
    )
