"""The activity ``prepare_notification``: what the guardian is told at a milestone, as the typed
input of ``notify_guardian``, built from the event store and the registry so that the workflow
carries no personal data of its own."""

from __future__ import annotations

from uuid import UUID

import structlog
from pydantic import ValidationError
from temporalio import activity

from activities.messages import ActivityName, NotifyInput, PreparedNotification
from activities.notifications.kinds import NotificationKind
from activities.notifications.models import NotifyGuardianInput
from activities.recording import domain_errors_not_retried
from domain.contract import VIETNAM, RegistrationRequest
from domain.registration import Registration
from domain.registry import RegistryLookups
from domain.service import RegistrationService

log = structlog.get_logger(__name__)


class MilestoneActivities:
    def __init__(self, service: RegistrationService, registry: RegistryLookups) -> None:
        self._service = service
        self._registry = registry

    @activity.defn(name=ActivityName.PREPARE_NOTIFICATION)
    def prepare_notification(self, data: NotifyInput) -> PreparedNotification:
        """The ``notify_guardian`` input for this milestone; None when there is no one to tell.

        A request that broke the contract has no usable contact to write to, and a copy of a
        request started under another workflow id is not the guardian's registration: neither is
        notified (the upstream has the workflow's result).
        """
        step = data.step
        registration_id = UUID(step.registration_id)
        with domain_errors_not_retried():
            view = self._service.get(registration_id)
            try:
                request = RegistrationRequest.model_validate(view.request)
            except ValidationError:
                log.info("notification.no_valid_request", registration_id=step.registration_id)
                return PreparedNotification()
            if request.request_id != view.request_id:
                # A body started under another workflow id: kept and refused under that id,
                # while the guardian's own registration goes on. Nobody to tell.
                log.info("notification.not_its_request", registration_id=step.registration_id)
                return PreparedNotification()
            office = self._registry.office(view.office_code)
            note: str | None = None
            documents: list[str] = []
            due = None
            for event in self._service.history(registration_id):
                if isinstance(event, Registration.Rejected):
                    note = event.note
                elif isinstance(event, Registration.SupplementRequested):
                    note, documents, due = event.note, list(event.documents), event.due
        kind = NotificationKind(data.kind)
        supplement = kind is NotificationKind.SUPPLEMENT_REQUESTED
        return PreparedNotification(
            message=NotifyGuardianInput(
                registration_id=registration_id,
                request_id=view.request_id,
                kind=kind,
                request=request,
                office_name=office.name if office else view.office_code,
                occurred_at=step.at,
                reason_code=view.reason_code,
                child_account_id=view.child_account_id,
                note=note if supplement or kind is NotificationKind.REJECTED else None,
                supplement_documents=documents if supplement else [],
                supplement_due=due.astimezone(VIETNAM).date() if supplement and due else None,
                occasion=data.round if supplement else 1,  # each round is its own delivery
            )
        )
