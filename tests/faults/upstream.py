"""Clients that behave like a real upstream: the same request id and decision id on every retry,
retrying on connection errors and timeouts, and checking before a retry whether the last
attempt took effect after all."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.contract import (
    DecideUpdate,
    Outcome,
    ProvideSupplementSignal,
    RegistrationResult,
    RegistrationStatus,
    WithdrawSignal,
)
from workflows.registration import TASK_QUEUE, WORKFLOW_TYPE, ChildAccountRegistration

T = TypeVar("T")
REVIEWER = "rv-79001-01"
CALL_TIMEOUT = 15.0
GIVE_UP_AFTER = 600.0
TRANSIENT = (
    RPCError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    TimeoutError,
    ConnectionError,
    OSError,
    psycopg.OperationalError,
)
"""What an upstream retries; ``psycopg.OperationalError``: this client's codec reads the stack's
data keys from PostgreSQL, so it fails while PostgreSQL is down."""


@dataclass
class Retries:
    """How often the upstream had to try again, by call."""

    by_call: dict[str, int] = field(default_factory=dict)

    def count(self, call: str) -> None:
        self.by_call[call] = self.by_call.get(call, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.by_call.values())


async def retrying(call: str, attempt: Callable[[], Awaitable[T]], retries: Retries) -> T:
    """``attempt`` until it answers; transient errors are retried with capped backoff."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    delay = 0.5
    while True:
        try:
            return await asyncio.wait_for(attempt(), CALL_TIMEOUT * 2)
        except TRANSIENT:
            if time.monotonic() > deadline:
                raise
            retries.count(call)
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311
            delay = min(delay * 2, 5.0)


@dataclass
class Registration:
    index: int
    path: str
    request: dict[str, Any]
    registration_id: str = ""
    outcome: str = ""
    error: str = ""

    @property
    def workflow_id(self) -> str:
        return f"registration-{self.request['request_id']}"


EXPECTED = {
    "approve": "approved",
    "reject": "rejected",
    "supplement": "approved",
    "withdraw": "withdrawn",
    "auto_reject": "auto_rejected",
    "expire": "expired",
}


class Upstream:
    def __init__(self, client: Client, supplement_portrait: str, poll_every: float) -> None:
        self._client = client
        self._portrait = supplement_portrait
        self._poll_every = poll_every
        self.retries = Retries()
        self.progress: list[float] = []
        """When a registration passed a step the upstream waits for (monotonic)."""

    def _handle(self, registration: Registration) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle_for(
            ChildAccountRegistration.run, registration.workflow_id
        )

    async def start(self, registration: Registration) -> None:
        async def attempt() -> None:
            try:
                await self._client.start_workflow(
                    WORKFLOW_TYPE,
                    registration.request,
                    id=registration.workflow_id,
                    task_queue=TASK_QUEUE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    rpc_timeout=_timeout(),
                )
            except WorkflowAlreadyStartedError:
                return  # an earlier attempt started it, and it has finished since

        await retrying("start", attempt, self.retries)

    async def status(self, registration: Registration) -> RegistrationStatus:
        handle = self._handle(registration)

        async def attempt() -> RegistrationStatus:
            status: RegistrationStatus = await handle.query(
                ChildAccountRegistration.status, rpc_timeout=_timeout()
            )
            return status

        return await retrying("status", attempt, self.retries)

    async def until_waiting_for(self, registration: Registration, who: str) -> RegistrationStatus:
        while True:
            status = await self.status(registration)
            if status.waiting_for in (who, "nobody"):
                self.progress.append(time.monotonic())
                registration.registration_id = str(status.registration_id)
                return status
            await asyncio.sleep(self._poll_every * random.uniform(0.7, 1.3))  # noqa: S311

    async def decide(self, registration: Registration, decision: DecideUpdate) -> None:
        """The ``decide`` update, its id the decision id; a retry first asks whether the
        decision took effect (the registration no longer waits for a reviewer)."""
        handle = self._handle(registration)
        while True:
            status = await self.status(registration)
            if status.waiting_for != "reviewer":
                return
            try:
                await handle.execute_update(
                    ChildAccountRegistration.decide,
                    decision,
                    id=decision.decision_id,
                    rpc_timeout=_timeout(),
                )
                self.progress.append(time.monotonic())
                return
            except TRANSIENT:
                self.retries.count("decide")
                await asyncio.sleep(1)

    async def signal(
        self, registration: Registration, name: str, body: Any, while_waiting_for: str
    ) -> None:
        handle = self._handle(registration)
        while True:
            status = await self.status(registration)
            if status.waiting_for != while_waiting_for:
                return
            try:
                await handle.signal(name, body, rpc_timeout=_timeout())
            except TRANSIENT:
                self.retries.count(name)
                await asyncio.sleep(1)
                continue
            # Delivered: wait for it to be seen before deciding whether to send again.
            for _ in range(10):
                await asyncio.sleep(1)
                if (await self.status(registration)).waiting_for != while_waiting_for:
                    self.progress.append(time.monotonic())
                    return

    async def result(self, registration: Registration) -> RegistrationResult:
        """The result, long-polled (the SDK's own wait), again after a connection error."""
        handle = self._handle(registration)
        deadline = time.monotonic() + GIVE_UP_AFTER
        while True:
            try:
                result: RegistrationResult = await handle.result()
                return result
            except TRANSIENT:
                if time.monotonic() > deadline:
                    raise
                self.retries.count("result")
                await asyncio.sleep(random.uniform(0.5, 2))  # noqa: S311

    async def walk(self, registration: Registration) -> None:
        """Start the registration and play its path to the end."""
        try:
            await self._walk(registration)
            result = await self.result(registration)
            registration.outcome = str(result.outcome)
            registration.registration_id = str(result.registration_id)
            self.progress.append(time.monotonic())
        except Exception as error:  # reported in the table, with the registration
            registration.error = f"{type(error).__name__}: {error}"[:300]

    async def _walk(self, registration: Registration) -> None:
        await self.start(registration)
        n, path = registration.index, registration.path
        if path in ("auto_reject",):
            return
        await self.until_waiting_for(registration, "reviewer")
        if path == "expire":
            return
        await asyncio.sleep(random.uniform(0, 3))  # noqa: S311 - a reviewer takes a moment
        if path == "approve":
            await self.decide(registration, _decision(n, 1, Outcome.APPROVE))
        elif path == "reject":
            await self.decide(
                registration,
                _decision(n, 1, Outcome.REJECT, reason_code="BIRTH_CERTIFICATE_MISMATCH",
                          note="Giấy khai sinh không khớp với hồ sơ."),
            )  # fmt: skip
        elif path == "withdraw":
            await self.signal(
                registration,
                "withdraw",
                WithdrawSignal(reason="Gia đình sẽ nộp lại sau."),
                while_waiting_for="reviewer",
            )
        elif path == "supplement":
            await self.decide(
                registration,
                _decision(n, 1, Outcome.REQUEST_SUPPLEMENT, documents=["portrait"],
                          note="Ảnh chân dung bị mờ, xin chụp lại."),
            )  # fmt: skip
            await self.until_waiting_for(registration, "guardian")
            await self.signal(
                registration,
                "provide_supplement",
                ProvideSupplementSignal(documents={"portrait": self._portrait}),
                while_waiting_for="guardian",
            )
            await self.until_waiting_for(registration, "reviewer")
            await self.decide(registration, _decision(n, 2, Outcome.APPROVE))


def _decision(index: int, round_: int, outcome: Outcome, **fields: Any) -> DecideUpdate:
    return DecideUpdate(
        decision_id=f"faults-d-{index}-{round_}", reviewer_id=REVIEWER, outcome=outcome, **fields
    )


def _timeout() -> Any:
    from datetime import timedelta

    return timedelta(seconds=CALL_TIMEOUT)
