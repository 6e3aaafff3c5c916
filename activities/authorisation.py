"""Reviewer decisions as an activity: authorise, record what was decided or why it was refused.

Who may decide, and the reason a refusal is recorded with, are ``domain.authorisation``. A
refused attempt is recorded (DecisionRefused) for the audit and answered with the reason. The
decision id makes a decision idempotent: delivered twice, it counts once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog
from temporalio import activity

from activities.messages import ActivityName, DecisionInput, ReviewClaimInput, Step, StepOutcome
from activities.recording import REFUSED, cause, domain_errors_not_retried, outcome
from domain.authorisation import (
    NotAuthorised,
    authorise,
    authorise_claim,
    needs_four_eyes,
    refusal_reason,
)
from domain.contract import DecideUpdate, Outcome
from domain.registration import ActorKind, Cause, Registration
from domain.registry import RegistryLookups
from domain.service import RegistrationService, RegistrationView

log = structlog.get_logger(__name__)


class DecisionActivities:
    def __init__(
        self,
        service: RegistrationService,
        registry: RegistryLookups,
        *,
        supplement_wait_days: float = 30,
    ) -> None:
        self._service = service
        self._registry = registry
        self._supplement_wait = dt.timedelta(days=supplement_wait_days)

    @activity.defn(name=ActivityName.DECIDE)
    def decide(self, data: DecisionInput) -> StepOutcome:
        """Authorise and record a decision; a refusal is recorded and returned with its reason."""
        step, decision = data.step, data.decision
        registration_id = UUID(step.registration_id)
        with domain_errors_not_retried():
            view = self._service.get(registration_id)
            try:
                authorise(self._registry, decision.reviewer_id, view.office_code)
                view = self._record(view, data)
            except (NotAuthorised, *REFUSED) as refused:
                return self._refuse(data, refusal_reason(refused, view.state.value))
        log.info(
            "review.decided",
            registration_id=step.registration_id,
            outcome=decision.outcome.value,
            decision_id=decision.decision_id,
            via=data.via,
        )
        return outcome(view)

    @activity.defn(name=ActivityName.CLAIM_REVIEW)
    def claim_review(self, data: ReviewClaimInput) -> StepOutcome:
        """Record a claim (``Claimed``) or a release (``Released``); a refused one is answered
        with its reason (``claim: held by reviewer …``, ``reviewer_id: …``), nothing recorded."""
        step = data.step
        registration_id = UUID(step.registration_id)
        with domain_errors_not_retried():
            view = self._service.get(registration_id)
            try:
                if data.claim is not None:
                    claim = data.claim
                    takeover = authorise_claim(
                        self._registry, claim.reviewer_id, view.office_code, claim.takeover
                    )
                    view = self._service.execute(
                        registration_id,
                        Registration.claim,
                        claim.reviewer_id,
                        takeover,
                        self._cause(step, "claim", claim.claim_id, claim.reviewer_id),
                    )
                elif data.release is not None:
                    release = data.release
                    authorise(self._registry, release.reviewer_id, view.office_code)
                    view = self._service.execute(
                        registration_id,
                        Registration.release,
                        release.reviewer_id,
                        self._cause(step, "release", release.claim_id, release.reviewer_id),
                    )
                else:
                    raise ValueError("claim: a claim or a release is required")
            except (NotAuthorised, *REFUSED) as refused:
                why = refusal_reason(refused, view.state.value)
                log.warning("review.claim_refused", registration_id=step.registration_id, why=why)
                return outcome(view, why, why.partition(":")[0])
        log.info(
            "review.claimed" if data.claim else "review.released",
            registration_id=step.registration_id,
        )
        return outcome(view)

    @staticmethod
    def _cause(step: Step, kind: str, claim_id: str, reviewer_id: str) -> Cause:
        return cause(
            step,
            f"{kind}:{claim_id}",
            kind=ActorKind.REVIEWER,
            actor_id=reviewer_id,
            causation_id=claim_id,
        )

    def _record(self, view: RegistrationView, data: DecisionInput) -> RegistrationView:
        """The decision as the domain's command: in a four-eyes office a rejection is proposed."""
        step, d = data.step, data.decision
        commands: dict[Outcome, tuple[Callable[..., None], tuple[Any, ...]]] = {
            Outcome.APPROVE: (Registration.approve, (d.note,)),
            Outcome.REJECT: (Registration.reject, (d.reason_code, d.note)),
            Outcome.CONFIRM_REJECTION: (Registration.confirm_rejection, ()),
            Outcome.DECLINE_REJECTION: (Registration.decline_rejection, (d.note,)),
            Outcome.REQUEST_SUPPLEMENT: (
                Registration.request_supplement,
                (list(d.documents or []), d.note or "", step.at + self._supplement_wait),
            ),
        }
        command, arguments = commands[d.outcome]
        if d.outcome is Outcome.REJECT and needs_four_eyes(self._registry, view.office_code):
            command = Registration.propose_rejection
        return self._service.execute(
            view.registration_id,
            command,
            d.decision_id,
            d.reviewer_id,
            *arguments,
            self._cause(step, "decision", d.decision_id, d.reviewer_id),
        )

    def _refuse(self, data: DecisionInput, why: str) -> StepOutcome:
        step, decision = data.step, data.decision
        registration_id = UUID(step.registration_id)
        view = self._service.execute(
            registration_id,
            Registration.refuse_decision,
            decision.decision_id,
            decision.reviewer_id,
            decision.outcome.value,
            why,
            cause(
                step,
                f"refusal:{decision.decision_id}:{_fingerprint(decision)}",
                kind=ActorKind.REVIEWER,
                actor_id=decision.reviewer_id,
                causation_id=decision.decision_id,
            ),
        )
        log.warning(
            "review.refused",
            registration_id=step.registration_id,
            decision_id=decision.decision_id,
            outcome=decision.outcome.value,
            why=why,
            via=data.via,
        )
        return outcome(view, why, why.partition(":")[0])


def _fingerprint(decision: DecideUpdate) -> str:
    """Refusals of one decision id for different decisions are recorded apart."""
    return f"{decision.outcome.value}:{decision.reviewer_id}"
