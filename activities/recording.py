"""Recording the registration's lifecycle in the event store, one activity per step.

Each activity is idempotent: its command id is derived from the workflow id and the step (and
the round, for the steps of the review loop), so a retried activity finds its command already
carried out and records nothing twice. A step the registration's state does not allow is not an
error to retry: the activity answers with a refusal that says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.claims import ChildClaims
from activities.messages import (
    ActivityName,
    ClaimInput,
    ReviewInput,
    StageInput,
    Step,
    StepOutcome,
    SubmissionInput,
    SupplementInput,
    WithdrawInput,
)
from domain.contract import VIETNAM, parse_request, workflow_id_for
from domain.errors import (
    CommandConflict,
    DecisionRule,
    IllegalTransition,
    InvalidRequest,
    InvalidValue,
    RegistrationNotFound,
)
from domain.registration import ActorKind, Cause, Registration, registration_id_for
from domain.registry import RegistryLookups, business_deadline
from domain.service import RegistrationService, RegistrationView
from domain.values import WORKFLOW_ID_PREFIX, RequestId, parse

log = structlog.get_logger(__name__)

REFUSED = (IllegalTransition, DecisionRule, CommandConflict)
"""Domain errors that answer "no" to a step: reported, recorded when they are decisions, not retried."""

HOLIDAY_HORIZON_DAYS = 120
"""How far ahead holidays are read when a deadline is counted (review_days is at most 30)."""


def cause(
    step: Step,
    name: str,
    *,
    kind: ActorKind = ActorKind.SYSTEM,
    actor_id: str = "childreg",
    causation_id: str = "",
) -> Cause:
    """The cause of one step: its command id is the workflow id and the step's name."""
    return Cause(
        actor_kind=kind,
        actor_id=actor_id,
        correlation_id=step.workflow_id,
        command_id=f"{step.workflow_id}:{name}",
        at=step.at,
        causation_id=causation_id,
    )


def outcome(
    view: RegistrationView, refusal: str | None = None, field: str | None = None
) -> StepOutcome:
    return StepOutcome(
        status=view.contract_status(),
        refusal=refusal,
        field=field,
        child_account_id=view.child_account_id,
    )


def registration_uuid(step: Step) -> UUID:
    return UUID(step.registration_id)


@contextmanager
def domain_errors_not_retried() -> Iterator[None]:
    """A registration that does not exist is a bug in the orchestration: retrying will not help."""
    try:
        yield
    except RegistrationNotFound as error:
        raise ApplicationError(
            str(error), type="RegistrationNotFound", non_retryable=True
        ) from None


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of ``day`` in Vietnam: a deadline "on" a day lasts until that day is over."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), VIETNAM)


class RecordingActivities:
    """The steps that only record: submission, review requests, overdue, expiry, withdrawal."""

    def __init__(
        self,
        service: RegistrationService,
        registry: RegistryLookups,
        claims: ChildClaims,
        *,
        max_wait_days: int = 30,
    ) -> None:
        self._service = service
        self._registry = registry
        self._claims = claims
        self._max_wait = dt.timedelta(days=max_wait_days)

    @activity.defn(name=ActivityName.RECORD_SUBMISSION)
    def record_submission(self, data: SubmissionInput) -> StepOutcome:
        """Validate the request as sent and record it; an invalid one is recorded auto-rejected.

        The invalid request is kept as sent (the event store is encrypted) together with its
        rejection, in one save: nothing is half-stored, and the reason names the field.
        """
        raw = data.raw_request
        request_id = _request_id(raw, data.workflow_id)
        step = Step(
            workflow_id=data.workflow_id,
            registration_id=str(registration_id_for(request_id)),
            at=data.at,
        )
        submitted = cause(step, "submit", kind=ActorKind.UPSTREAM, actor_id="upstream")
        try:
            request = parse_request(raw)
            if request.request_id != request_id:
                # Started under another workflow id (see _request_id): else two workflows could
                # drive one registration, the same body under two ids.
                raise InvalidRequest(
                    "INVALID_REQUEST",
                    [
                        InvalidValue(
                            "request_id", f"must be the workflow id after {WORKFLOW_ID_PREFIX}"
                        )
                    ],
                )
        except InvalidRequest as invalid:
            return self._record_invalid(step, request_id, raw, invalid, submitted)
        try:
            view = self._service.submit(request, submitted)
        except CommandConflict:
            raise ApplicationError(
                "request_id: already used for a different request",
                type="InvalidRequest",
                non_retryable=True,
            ) from None
        log.info("registration.submitted", registration_id=step.registration_id)
        return outcome(view)

    def _record_invalid(
        self,
        step: Step,
        request_id: str,
        raw: Any,
        invalid: InvalidRequest,
        submitted: Cause,
    ) -> StepOutcome:
        registration_id = registration_uuid(step)
        as_sent = raw if isinstance(raw, dict) else {"as_sent": raw}  # kept whatever it is
        for _ in range(3):
            try:
                return outcome(
                    self._service.get(registration_id), invalid.reason_code, invalid.field
                )
            except RegistrationNotFound:
                pass
            office = as_sent.get("office_code")
            registration = Registration.submit(
                request_id,
                as_sent,
                office if isinstance(office, str) and len(office) <= 8 else "",
                submitted,
            )
            registration.auto_reject(
                invalid.reason_code, invalid.field, str(invalid), cause(step, "auto-reject")
            )
            try:
                self._service.save(registration)
            except IntegrityError:
                continue  # recorded concurrently by a retry: read it back
            log.info(
                "registration.auto_rejected",
                registration_id=step.registration_id,
                reason_code=invalid.reason_code,
                field=invalid.field,
            )
            return outcome(self._service.get(registration_id), invalid.reason_code, invalid.field)
        raise RuntimeError("could not record the invalid submission")

    @activity.defn(name=ActivityName.REQUEST_REVIEW)
    def request_review(self, data: ReviewInput) -> StepOutcome:
        """Put the registration in the office's queue with a business-day deadline."""
        step = data.step
        with domain_errors_not_retried():
            view = self._service.get(registration_uuid(step))
            office = self._registry.office(view.office_code)
            review_days = office.review_days if office else 3
            start = step.at.astimezone(VIETNAM).date()
            holidays = self._registry.holidays(
                start, start + dt.timedelta(days=HOLIDAY_HORIZON_DAYS)
            )
            deadline = end_of_day(business_deadline(start, review_days, holidays))
            expires_at = step.at + self._max_wait
            return self._step(
                step,
                lambda: self._service.request_review(
                    view.registration_id,
                    min(deadline, expires_at),
                    expires_at,
                    cause(step, f"review:{data.round}"),
                ),
            )

    @activity.defn(name=ActivityName.MARK_OVERDUE)
    def mark_overdue(self, data: StageInput) -> StepOutcome:
        """The deadline passed: escalate to the office's supervisors and keep waiting."""
        step = data.step
        with domain_errors_not_retried():
            view = self._service.get(registration_uuid(step))
            supervisors = [s.reviewer_id for s in self._registry.supervisors(view.office_code)]
            result = self._step(
                step,
                lambda: self._service.mark_overdue(
                    view.registration_id, supervisors, cause(step, f"overdue:{data.round}")
                ),
            )
        log.info(
            "review.overdue",
            registration_id=step.registration_id,
            office_code=view.office_code,
            supervisors=len(supervisors),
        )
        return result

    @activity.defn(name=ActivityName.EXPIRE)
    def expire(self, data: StageInput) -> StepOutcome:
        step = data.step
        with domain_errors_not_retried():
            return self._step(
                step,
                lambda: self._service.expire(
                    registration_uuid(step), cause(step, f"expire:{data.round}")
                ),
            )

    @activity.defn(name=ActivityName.WITHDRAW)
    def withdraw(self, data: WithdrawInput) -> StepOutcome:
        step = data.step
        with domain_errors_not_retried():
            return self._step(
                step,
                lambda: self._service.withdraw(
                    registration_uuid(step),
                    data.reason,
                    cause(step, "withdraw", kind=ActorKind.GUARDIAN, actor_id="guardian"),
                ),
            )

    @activity.defn(name=ActivityName.PROVIDE_SUPPLEMENT)
    def provide_supplement(self, data: SupplementInput) -> StepOutcome:
        step = data.step
        with domain_errors_not_retried():
            return self._step(
                step,
                lambda: self._service.provide_supplement(
                    registration_uuid(step),
                    dict(data.documents),
                    cause(
                        step,
                        f"supplement-provided:{data.round}",
                        kind=ActorKind.GUARDIAN,
                        actor_id="guardian",
                    ),
                ),
            )

    @activity.defn(name=ActivityName.RELEASE_CHILD_CLAIM)
    def release_child_claim(self, data: ClaimInput) -> None:
        """The registration reached its outcome: another registration for the child may go on."""
        self._claims.release(UUID(data.registration_id))

    def _step(self, step: Step, command: Callable[[], RegistrationView]) -> StepOutcome:
        try:
            return outcome(command())
        except REFUSED as refused:
            return outcome(self._service.get(registration_uuid(step)), str(refused))


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
