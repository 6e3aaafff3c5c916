"""The workflow's ``decide`` update without Temporal: the real decision activity (authorisation,
the aggregate's rules, the recorded refusals) over the in-memory event store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from activities.authorisation import DecisionActivities
from activities.messages import DecisionInput, Step
from domain.contract import DecideUpdate, RegistrationStatus, workflow_id_for
from domain.registry import RegistryLookups
from domain.service import RegistrationService
from web.console.decisions import DecisionRefused


class InProcessDecisions:
    def __init__(
        self, service: RegistrationService, registry: RegistryLookups, clock: Callable[[], datetime]
    ) -> None:
        self._service = service
        self._activities = DecisionActivities(service, registry)
        self._clock = clock
        self.sent: list[DecideUpdate] = []

    async def __call__(self, request_id: str, decision: DecideUpdate) -> RegistrationStatus:
        self.sent.append(decision)
        view = self._service.get_by_request(request_id)
        step = Step(
            workflow_id=workflow_id_for(request_id),
            registration_id=str(view.registration_id),
            at=self._clock(),
        )
        answer = await asyncio.to_thread(
            self._activities.decide, DecisionInput(step=step, decision=decision, via="update")
        )
        if answer.refusal is not None:
            raise DecisionRefused(answer.refusal)
        return answer.status
