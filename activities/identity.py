"""The identity check as an activity: load the registration, run the check, record what it found.

The rules are ``domain.identity``; this records the identity verified, or the auto-rejection
with the catalogue's reason and the field.
"""

from __future__ import annotations

from uuid import UUID

import structlog
from temporalio import activity

from activities.messages import ActivityName, Step, StepOutcome
from activities.recording import REFUSED, cause, domain_errors_not_retried, outcome
from domain.contract import RegistrationRequest
from domain.identity import IdentityCheck
from domain.lifecycle import State
from domain.registration import Registration
from domain.service import RegistrationService

log = structlog.get_logger(__name__)


class IdentityActivities:
    def __init__(self, service: RegistrationService, check: IdentityCheck) -> None:
        self._service = service
        self._check = check

    @activity.defn(name=ActivityName.VERIFY_IDENTITY)
    def verify_identity(self, step: Step) -> StepOutcome:
        """Check the declaration against the registry; record the identity verified or the rejection."""
        with domain_errors_not_retried():
            registration_id = UUID(step.registration_id)
            view = self._service.get(registration_id)
            if view.state is not State.SUBMITTED:
                return outcome(view)  # carried out already (a retry after the recording)
            request = RegistrationRequest.model_validate(view.request)
            findings = self._check.check(request, registration_id)
            try:
                if findings.failure is not None:
                    failure = findings.failure
                    view = self._service.execute(
                        registration_id,
                        Registration.auto_reject,
                        failure.reason_code,
                        failure.field,
                        f"{failure.field}: {failure.rule}",
                        cause(step, "auto-reject"),
                    )
                    log.info(
                        "identity.rejected",
                        registration_id=step.registration_id,
                        reason_code=failure.reason_code,
                        field=failure.field,
                    )
                    return outcome(view, failure.reason_code, failure.field)
                view = self._service.execute(
                    registration_id,
                    Registration.verify_identity,
                    findings.child_code or "",
                    findings.guardian_code or "",
                    findings.warnings,
                    cause(step, "identity"),
                )
            except REFUSED as refused:
                return outcome(self._service.get(registration_id), str(refused))
        log.info(
            "identity.verified",
            registration_id=step.registration_id,
            warnings=len(findings.warnings),
        )
        return outcome(view)
