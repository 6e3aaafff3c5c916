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
from uuid import UUID

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

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
from domain.calendar import review_deadlines
from domain.errors import CommandConflict, DecisionRule, IllegalTransition, RegistrationNotFound
from domain.identity import ChildClaims
from domain.intake import RefusedRequest, read_submission, refused_unencrypted
from domain.registration import ActorKind, Cause, Registration, registration_id_for
from domain.registry import RegistryLookups
from domain.service import RegistrationService, RegistrationView

log = structlog.get_logger(__name__)

REFUSED = (IllegalTransition, DecisionRule, CommandConflict)
"""Domain errors that answer "no" to a step: reported, recorded when they are decisions, not retried."""


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


class RecordingActivities:
    """The steps that only record: submission, review requests, overdue, expiry, withdrawal."""

    def __init__(
        self,
        service: RegistrationService,
        registry: RegistryLookups,
        claims: ChildClaims,
        *,
        max_wait_days: float = 30,
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
        submission = (
            refused_unencrypted(data.workflow_id)
            if data.input_not_encrypted
            else read_submission(data.raw_request, data.workflow_id)
        )
        step = Step(
            workflow_id=data.workflow_id,
            registration_id=str(registration_id_for(submission.request_id)),
            at=data.at,
        )
        try:
            view = self._service.submit(
                submission,
                cause(step, "submit", kind=ActorKind.UPSTREAM, actor_id="upstream"),
                rejection=cause(step, "auto-reject"),
            )
        except CommandConflict:
            raise ApplicationError(
                "request_id: already used for a different request",
                type="InvalidRequest",
                non_retryable=True,
            ) from None
        if isinstance(submission, RefusedRequest):
            if view.position is not None:  # recorded now, not by an earlier attempt
                log.info(
                    "registration.auto_rejected",
                    registration_id=step.registration_id,
                    reason_code=submission.reason_code,
                    field=submission.field,
                )
            return outcome(view, submission.reason_code, submission.field)
        log.info("registration.submitted", registration_id=step.registration_id)
        return outcome(view)

    @activity.defn(name=ActivityName.REQUEST_REVIEW)
    def request_review(self, data: ReviewInput) -> StepOutcome:
        """Put the registration in the office's queue with a business-day deadline."""
        step = data.step
        with domain_errors_not_retried():
            view = self._service.get(registration_uuid(step))
            deadlines = review_deadlines(self._registry, view.office_code, step.at, self._max_wait)
            return self._step(
                step,
                lambda: self._service.execute(
                    view.registration_id,
                    Registration.request_review,
                    deadlines.deadline,
                    deadlines.expires_at,
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
                lambda: self._service.execute(
                    view.registration_id,
                    Registration.mark_overdue,
                    supervisors,
                    cause(step, f"overdue:{data.round}"),
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
                lambda: self._service.execute(
                    registration_uuid(step),
                    Registration.expire,
                    cause(step, f"expire:{data.round}"),
                ),
            )

    @activity.defn(name=ActivityName.WITHDRAW)
    def withdraw(self, data: WithdrawInput) -> StepOutcome:
        step = data.step
        with domain_errors_not_retried():
            return self._step(
                step,
                lambda: self._service.execute(
                    registration_uuid(step),
                    Registration.withdraw,
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
                lambda: self._service.execute(
                    registration_uuid(step),
                    Registration.provide_supplement,
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
