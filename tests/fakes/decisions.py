"""The workflow's ``decide``, ``claim`` and ``release`` updates without Temporal: the real
activities (authorisation, the aggregate's rules, the recorded refusals) over the in-memory event
store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from activities.authorisation import DecisionActivities
from activities.messages import DecisionInput, ReviewClaimInput, Step
from domain.contract import (
    ClaimUpdate,
    DecideUpdate,
    RegistrationStatus,
    ReleaseUpdate,
    workflow_id_for,
)
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
        self.claims: list[ClaimUpdate | ReleaseUpdate] = []

    async def __call__(self, request_id: str, decision: DecideUpdate) -> RegistrationStatus:
        self.sent.append(decision)
        answer = await asyncio.to_thread(
            self._activities.decide,
            DecisionInput(step=self._step(request_id), decision=decision, via="update"),
        )
        if answer.refusal is not None:
            raise DecisionRefused(answer.refusal)
        return answer.status

    async def claim(self, request_id: str, claim: ClaimUpdate) -> RegistrationStatus:
        return await self._claim_step(request_id, claim, None)

    async def release(self, request_id: str, release: ReleaseUpdate) -> RegistrationStatus:
        return await self._claim_step(request_id, None, release)

    async def _claim_step(
        self, request_id: str, claim: ClaimUpdate | None, release: ReleaseUpdate | None
    ) -> RegistrationStatus:
        self.claims += [update for update in (claim, release) if update is not None]
        data = ReviewClaimInput(step=self._step(request_id), claim=claim, release=release)
        answer = await asyncio.to_thread(self._activities.claim_review, data)
        if answer.refusal is not None:
            raise DecisionRefused(answer.refusal)
        return answer.status

    def _step(self, request_id: str) -> Step:
        view = self._service.get_by_request(request_id)
        return Step(
            workflow_id=workflow_id_for(request_id),
            registration_id=str(view.registration_id),
            at=self._clock(),
        )
