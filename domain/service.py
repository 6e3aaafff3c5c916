"""The registration service: the eventsourcing ``Application`` that is the system of record.

Persistence is picked by configuration (the ``env`` given by the composition root: PostgreSQL
in every process, an in-memory store in unit tests), not by code. Methods take plain values and
return plain data, never live aggregates. Each command is idempotent through its cause's command
id, and is retried on a concurrent write by reloading the registration and deciding again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.contract import FinalOutcome, RegistrationRequest, RegistrationStatus
from domain.errors import CommandConflict, RegistrationNotFound
from domain.lifecycle import State, outcome_of, waiting_for
from domain.registration import Cause, Registration, registration_id_for

_CONCURRENT_WRITE_ATTEMPTS = 5


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
    position: int | None = None
    """The notification id of the last event this call recorded (None when it recorded nothing)."""

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
        )


class RegistrationService(Application[UUID]):
    name = "childreg"

    # --- commands ---------------------------------------------------------------------------------

    def submit(self, request: RegistrationRequest, cause: Cause) -> RegistrationView:
        """Record a submission. Submitting the same request id again returns the same registration;
        a different request under a request id already used is a :class:`CommandConflict`."""
        payload = request.model_dump(mode="json")
        registration_id = registration_id_for(request.request_id)
        for _ in range(_CONCURRENT_WRITE_ATTEMPTS):
            try:
                existing = self._load(registration_id)
            except RegistrationNotFound:
                pass
            else:
                if existing.request != payload:
                    raise CommandConflict(request.request_id, "another request", "this request")
                return _view(existing)
            registration = Registration.submit(
                request.request_id, payload, request.office_code, cause
            )
            try:
                recordings = self.save(registration)
            except IntegrityError:
                continue  # created concurrently: load it and compare
            return _view(registration, recordings[-1].notification.id if recordings else None)
        raise RuntimeError("could not record the submission after repeated concurrent writes")

    def verify_identity(
        self,
        registration_id: UUID,
        child_code: str,
        guardian_code: str,
        warnings: list[str],
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.verify_identity(child_code, guardian_code, warnings, cause)
        )

    def auto_reject(
        self,
        registration_id: UUID,
        reason_code: str,
        field_name: str | None,
        detail: str,
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.auto_reject(reason_code, field_name, detail, cause)
        )

    def store_documents(
        self,
        registration_id: UUID,
        documents: dict[str, dict[str, Any]],
        warnings: list[str],
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.store_documents(documents, warnings, cause)
        )

    def request_review(
        self, registration_id: UUID, deadline: datetime, expires_at: datetime, cause: Cause
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.request_review(deadline, expires_at, cause)
        )

    def mark_overdue(
        self, registration_id: UUID, escalated_to: list[str], cause: Cause
    ) -> RegistrationView:
        return self._command(registration_id, lambda r: r.mark_overdue(escalated_to, cause))

    def approve(
        self,
        registration_id: UUID,
        decision_id: str,
        reviewer_id: str,
        note: str | None,
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.approve(decision_id, reviewer_id, note, cause)
        )

    def reject(
        self,
        registration_id: UUID,
        decision_id: str,
        reviewer_id: str,
        reason_code: str | None,
        note: str | None,
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id, lambda r: r.reject(decision_id, reviewer_id, reason_code, note, cause)
        )

    def request_supplement(
        self,
        registration_id: UUID,
        decision_id: str,
        reviewer_id: str,
        documents: list[str],
        note: str,
        due: datetime,
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id,
            lambda r: r.request_supplement(decision_id, reviewer_id, documents, note, due, cause),
        )

    def provide_supplement(
        self, registration_id: UUID, documents: dict[str, str], cause: Cause
    ) -> RegistrationView:
        return self._command(registration_id, lambda r: r.provide_supplement(documents, cause))

    def refuse_decision(
        self,
        registration_id: UUID,
        decision_id: str,
        reviewer_id: str,
        outcome: str,
        why: str,
        cause: Cause,
    ) -> RegistrationView:
        return self._command(
            registration_id,
            lambda r: r.refuse_decision(decision_id, reviewer_id, outcome, why, cause),
        )

    def withdraw(
        self, registration_id: UUID, reason_text: str | None, cause: Cause
    ) -> RegistrationView:
        return self._command(registration_id, lambda r: r.withdraw(reason_text, cause))

    def expire(self, registration_id: UUID, cause: Cause) -> RegistrationView:
        return self._command(registration_id, lambda r: r.expire(cause))

    def activate_child_account(
        self, registration_id: UUID, account_id: str, cause: Cause
    ) -> RegistrationView:
        return self._command(registration_id, lambda r: r.activate_child_account(account_id, cause))

    def command(
        self, registration_id: UUID, action: Callable[[Registration], None]
    ) -> RegistrationView:
        """Run any aggregate command (for the notification journal and other adapters)."""
        return self._command(registration_id, action)

    # --- queries ----------------------------------------------------------------------------------

    def get(self, registration_id: UUID, version: int | None = None) -> RegistrationView:
        return _view(self._load(registration_id, version))

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
        return registration

    def _command(
        self, registration_id: UUID, action: Callable[[Registration], None]
    ) -> RegistrationView:
        for _ in range(_CONCURRENT_WRITE_ATTEMPTS):
            registration = self._load(registration_id)
            action(registration)
            if not registration.pending_events:
                return _view(registration)
            try:
                recordings = self.save(registration)
            except IntegrityError:
                continue  # another writer got there first: decide again on the fresh state
            return _view(registration, recordings[-1].notification.id if recordings else None)
        raise RuntimeError("could not record the command after repeated concurrent writes")


def _view(registration: Registration, position: int | None = None) -> RegistrationView:
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
        position=position,
    )
