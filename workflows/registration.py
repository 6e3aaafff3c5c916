"""The workflow ``ChildAccountRegistration``: one registration from submission to outcome.

Deterministic orchestration only: every side effect is an activity (called by name, so that the
worker decides which implementation runs), time is ``workflow.now()``.

Messages (README: "The public contract"):

- signals ``approve``, ``reject``, ``request_supplement`` (reviewers), ``provide_supplement`` and
  ``withdraw`` (the guardian, through the upstream); a refused signal is recorded and logged;
- update ``decide``: a reviewer's decision answered with the new status, or an error naming why
  it was refused;
- query ``status``: state, office, deadline, who it waits for, outcome, reason (no personal data).

Steps that change the registration run one at a time (a workflow lock): a decision arriving while
the deadline timer fires is decided on the state the timer's step left, so the first valid
decision wins and a later conflicting one is refused by the domain.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import Priority, RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # Decoding a prepared notification validates the guardian's e-mail, and email_validator
    # imports from itself on every call: passed through, the sandbox does not import it per run.
    import email_validator  # noqa: F401
    from pydantic import ValidationError

    from activities.messages import (
        ActivityName,
        ClaimInput,
        DecisionInput,
        DocumentsInput,
        NotifyInput,
        PreparedNotification,
        ReviewClaimInput,
        ReviewInput,
        StageInput,
        Step,
        StepOutcome,
        SubmissionInput,
        SupplementInput,
        WithdrawInput,
    )
    from activities.notifications.kinds import NotificationKind
    from domain.contract import (
        REQUIRED_DOCUMENTS,
        ApproveSignal,
        ClaimUpdate,
        DecideUpdate,
        FinalOutcome,
        Outcome,
        ProvideSupplementSignal,
        RegistrationResult,
        RegistrationStatus,
        RejectSignal,
        ReleaseUpdate,
        RequestSupplementSignal,
        SecondReviewSignal,
        WithdrawSignal,
        workflow_id_for,
    )
    from domain.lifecycle import State, is_final
    from domain.values import WORKFLOW_ID_PREFIX, describe_validation_error

__all__ = ["TASK_QUEUE", "WORKFLOW_ID_PREFIX", "WORKFLOW_TYPE", "workflow_id_for"]

WORKFLOW_TYPE = "ChildAccountRegistration"
TASK_QUEUE = "child-registration"

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
)
"""Transient failures (database, disk) are retried with backoff for as long as it takes;
validation and domain refusals come back as answers, or as non-retryable errors.

At most 5 s between attempts: a step that failed through a PostgreSQL outage tries again
within 5 s of the database's return. With the earlier 2 min cap, backoff doubling from 1 s left
a ``store_documents`` that failed through a 16 s outage waiting 56.9 s after PostgreSQL came
back (``make faults``). An activity option, as its timeouts are: recorded histories replay
unchanged (a local step backs off in the worker below the SDK's one-minute threshold, so the
cap never makes a timer of its own)."""
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""``notify_guardian`` waits up to a minute between attempts: through a relay or gateway outage
each attempt records its transient failure as an event, so a long outage must not add one every
few seconds per pending message; a message goes out within a minute of the relay's return. (The
two full fault runs of the README were measured with a 10 s cap here, and their store held 8%
more events than before the cap.)"""

STEP_TIMEOUT = timedelta(seconds=60)
HEARTBEAT_TIMEOUT = timedelta(seconds=5)
"""The worker heartbeats every regular activity still running a third of this in
(workers.heartbeats): one on a killed worker is retried elsewhere after this long, whatever its
start-to-close timeout."""
DOCUMENTS_TIMEOUT = timedelta(minutes=5)
NOTIFY_TIMEOUT = timedelta(minutes=2)

REGULAR_STEPS = frozenset(
    {
        ActivityName.STORE_DOCUMENTS,
        ActivityName.NOTIFY_GUARDIAN,
        ActivityName.PROVIDE_SUPPLEMENT,
        ActivityName.WITHDRAW,
    }
)
"""Steps that stay regular activities: disk and documents, e-mail and SMS, and the guardian's
signals. Every other step is a short idempotent database step, run as a local activity (in the
worker that runs the workflow task: no round trip through the server's task queue)."""
LOCAL_STEPS = frozenset(ActivityName) - REGULAR_STEPS
LOCAL_STEPS_PATCH = "local-steps"
"""Histories recorded before local steps replay with every step a regular activity."""
FOUR_EYES_PATCH = "four-eyes"
"""A proposed rejection (four-eyes offices) waits under the review deadline's timer; histories
recorded before it never reach that state."""

NOTIFY_PRIORITY = Priority(priority_key=4)
"""``notify_guardian`` is scheduled below the registration's own steps (priority key 4; the
default is 3): after a relay or gateway outage, hundreds of notification retries fill the task
queue, and a registration's ``store_documents`` or ``withdraw`` scheduled behind them waited
for the whole backlog (30-55 s in ``make faults``). An activity option, as its timeouts are (not
a command of its own): recorded histories replay unchanged. Not behind ``workflow.patched``:
a patch checked after a local activity (``prepare_notification``) failed workflow tasks on
replay after a worker kill ("encountered for change ..., but there is no corresponding change
command")."""

INPUT_ENCRYPTION_PATCH = "input-encryption"
"""An input flagged as not encrypted is recorded auto-rejected unread; histories recorded before
it never carry the flag."""
NOT_ENCRYPTED_METADATA = "childreg-input-not-encrypted"
"""Set by the worker's codec (``CHILDREG_REQUIRE_ENCRYPTED_INPUT``) on a payload that came as
plain JSON, not through the codec: the workflow then refuses its input without reading it."""

_NOTIFY_ON_OUTCOME = {
    FinalOutcome.APPROVED: NotificationKind.APPROVED,
    FinalOutcome.REJECTED: NotificationKind.REJECTED,
    FinalOutcome.AUTO_REJECTED: NotificationKind.AUTO_REJECTED,
    FinalOutcome.EXPIRED: NotificationKind.EXPIRED,
    FinalOutcome.WITHDRAWN: NotificationKind.WITHDRAWN,
}


@workflow.defn(name=WORKFLOW_TYPE)
class ChildAccountRegistration:
    """One guardian's registration of an account for one child.

    The input is the contract's ``RegistrationRequest`` as JSON. It is taken as any JSON value
    (even one that is not an object) and validated by the first activity: a request that breaks
    the contract must end the workflow auto-rejected with the field named, and a strictly typed
    input would instead fail the workflow task and be retried forever.
    """

    @workflow.init
    def __init__(self, request: RawValue) -> None:
        self._workflow_id = workflow.info().workflow_id
        self._registration_id = ""
        self._status = RegistrationStatus(
            registration_id="",
            request_id=self._workflow_id.removeprefix(WORKFLOW_ID_PREFIX),
            state=State.SUBMITTED,
        )
        self._child_account_id: str | None = None
        self._lock = asyncio.Lock()
        self._changes = 0
        self._review_round = 0
        self._supplement: ProvideSupplementSignal | None = None
        self._identity_checked = False
        self._notified: set[tuple[NotificationKind, int]] = set()

    # --- the lifecycle ------------------------------------------------------------------------

    @workflow.run
    async def run(self, sent: RawValue) -> RegistrationResult:
        # Taken raw to see how it came: the input of a client without the codec (plain JSON) is
        # flagged by the worker's codec when encrypted input is required, and never read.
        if sent.payload.metadata.get(NOT_ENCRYPTED_METADATA) and workflow.patched(
            INPUT_ENCRYPTION_PATCH
        ):
            submission = SubmissionInput(
                workflow_id=self._workflow_id,
                raw_request={},
                at=workflow.now(),
                input_not_encrypted=True,
            )
            request: Any = {}
        else:
            request = workflow.payload_converter().from_payload(sent.payload)
            submission = SubmissionInput(
                workflow_id=self._workflow_id, raw_request=request, at=workflow.now()
            )
        submitted = await self._activity(ActivityName.RECORD_SUBMISSION, submission)
        self._registration_id = submitted.status.registration_id
        self._apply(submitted)
        if not self._final:
            await self._notify(NotificationKind.RECEIVED)
            async with self._lock:
                if not self._final:
                    self._identity_checked = True
                    self._apply(await self._activity(ActivityName.VERIFY_IDENTITY, self._step()))
            async with self._lock:
                if not self._final:
                    documents = _submitted_documents(request)
                    self._apply(
                        await self._activity(
                            ActivityName.STORE_DOCUMENTS,
                            DocumentsInput(step=self._step(), documents=documents, round=0),
                            timeout=DOCUMENTS_TIMEOUT,
                        )
                    )
            await self._review_loop()
        return await self._finish()

    async def _review_loop(self) -> None:
        while not self._final:
            state = self._status.state
            if state == State.DOCUMENTS_STORED:
                async with self._lock:
                    if self._status.state == State.DOCUMENTS_STORED:
                        self._review_round += 1
                        self._apply(
                            await self._activity(
                                ActivityName.REQUEST_REVIEW,
                                ReviewInput(step=self._step(), round=self._review_round),
                            )
                        )
            elif state == State.AWAITING_REVIEW:
                await self._await_review()
            elif state == State.REJECTION_PROPOSED and workflow.patched(FOUR_EYES_PATCH):
                await self._await_review()  # the review deadline keeps running
            elif state == State.SUPPLEMENT_REQUESTED:
                await self._await_supplement()
            elif state == State.SUPPLEMENT_PROVIDED:
                await self._store_supplement()
            elif state == State.APPROVED:
                async with self._lock:
                    if self._status.state == State.APPROVED:
                        self._apply(
                            await self._activity(ActivityName.ACTIVATE_CHILD_ACCOUNT, self._step())
                        )
            else:  # a state this loop does not drive: wait for a handler to move it on
                await self._wait_for_change(None)

    async def _await_review(self) -> None:
        status = self._status
        expires_at = status.expires_at or workflow.now()
        deadline = status.review_deadline or expires_at
        until = expires_at if status.overdue else min(deadline, expires_at)
        seen = self._changes
        if await self._wait_for_change(until):
            return
        async with self._lock:
            if self._changes != seen:
                return  # a decision got there first
            stage = StageInput(step=self._step(), round=self._review_round)
            if workflow.now() >= expires_at:
                self._apply(await self._activity(ActivityName.EXPIRE, stage))
            else:
                self._apply(await self._activity(ActivityName.MARK_OVERDUE, stage))
                workflow.logger.info(
                    "review overdue: escalated to the office's supervisors",
                    extra={"registration_id": self._registration_id, "round": self._review_round},
                )

    async def _await_supplement(self) -> None:
        await self._notify(NotificationKind.SUPPLEMENT_REQUESTED, self._status.supplement_rounds)
        if self._status.state != State.SUPPLEMENT_REQUESTED:
            return  # provided (or withdrawn) while the guardian was being told
        seen = self._changes
        if await self._wait_for_change(self._status.expires_at or workflow.now()):
            return
        async with self._lock:
            if self._changes == seen:
                self._apply(
                    await self._activity(
                        ActivityName.EXPIRE,
                        StageInput(step=self._step(), round=self._review_round),
                    )
                )

    async def _store_supplement(self) -> None:
        async with self._lock:
            if self._status.state != State.SUPPLEMENT_PROVIDED or self._supplement is None:
                return
            self._apply(
                await self._activity(
                    ActivityName.STORE_DOCUMENTS,
                    DocumentsInput(
                        step=self._step(),
                        documents=dict(self._supplement.documents),
                        round=self._status.supplement_rounds,
                    ),
                    timeout=DOCUMENTS_TIMEOUT,
                )
            )

    async def _finish(self) -> RegistrationResult:
        outcome = self._status.outcome or FinalOutcome.AUTO_REJECTED
        await self._notify(_NOTIFY_ON_OUTCOME[outcome])
        if self._identity_checked:
            await self._activity(
                ActivityName.RELEASE_CHILD_CLAIM,
                ClaimInput(registration_id=self._registration_id),
                result_type=None,
            )
        # Late signals and updates are answered (and refusals recorded) before the workflow ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        status = self._status
        workflow.logger.info(
            "registration finished",
            extra={"registration_id": self._registration_id, "outcome": str(status.outcome)},
        )
        return RegistrationResult(
            registration_id=status.registration_id,
            outcome=status.outcome or FinalOutcome.AUTO_REJECTED,
            reason_code=status.reason_code,
            reason_field=status.reason_field,
            reason_detail=status.reason_detail,
            child_account_id=self._child_account_id,
            decided_by=status.decided_by,
            decided_at=status.decided_at or workflow.now(),
        )

    # --- messages -----------------------------------------------------------------------------

    @workflow.query
    def status(self) -> RegistrationStatus:
        return self._status

    @workflow.signal
    async def approve(self, signal: ApproveSignal) -> None:
        await self._signalled(
            DecideUpdate(
                decision_id=signal.decision_id,
                reviewer_id=signal.reviewer_id,
                outcome=Outcome.APPROVE,
                note=signal.note,
            )
        )

    @workflow.signal
    async def reject(self, signal: RejectSignal) -> None:
        await self._signalled(
            DecideUpdate(
                decision_id=signal.decision_id,
                reviewer_id=signal.reviewer_id,
                outcome=Outcome.REJECT,
                reason_code=signal.reason_code,
                note=signal.note,
            )
        )

    @workflow.signal
    async def request_supplement(self, signal: RequestSupplementSignal) -> None:
        await self._signalled(
            DecideUpdate(
                decision_id=signal.decision_id,
                reviewer_id=signal.reviewer_id,
                outcome=Outcome.REQUEST_SUPPLEMENT,
                documents=list(signal.documents),
                note=signal.note,
            )
        )

    @workflow.signal
    async def confirm_rejection(self, signal: SecondReviewSignal) -> None:
        await self._signalled(
            DecideUpdate(
                decision_id=signal.decision_id,
                reviewer_id=signal.reviewer_id,
                outcome=Outcome.CONFIRM_REJECTION,
                note=signal.note,
            )
        )

    @workflow.signal
    async def decline_rejection(self, signal: SecondReviewSignal) -> None:
        await self._signalled(
            DecideUpdate(
                decision_id=signal.decision_id,
                reviewer_id=signal.reviewer_id,
                outcome=Outcome.DECLINE_REJECTION,
                note=signal.note,
            )
        )

    @workflow.update
    async def decide(self, update: dict[str, Any]) -> RegistrationStatus:
        # Read as JSON and validated here (not by the data converter, whose refusal is only
        # "Failed decoding arguments"), so that a bad update is refused naming the field and rule.
        answer = await self._decision(DecideUpdate.model_validate(update), "update")
        if answer.refusal is not None:
            raise ApplicationError(answer.refusal, type="DecisionRefused", non_retryable=True)
        return answer.status

    @workflow.update
    async def claim(self, update: ClaimUpdate) -> RegistrationStatus:
        """A reviewer claims the review (or renews their claim, or a supervisor takes it over):
        answered with the status naming the holder, or refused (``claim: held by reviewer …``)."""
        return await self._claim_step(ReviewClaimInput(step=self._step(), claim=update))

    @workflow.update
    async def release(self, update: ReleaseUpdate) -> RegistrationStatus:
        """The claim's holder gives it back."""
        return await self._claim_step(ReviewClaimInput(step=self._step(), release=update))

    async def _claim_step(self, data: ReviewClaimInput) -> RegistrationStatus:
        # New handlers: only histories that receive a claim schedule this step, so no recorded
        # history's commands change (no patch needed; tests/integration/audit/test_replay.py).
        await self._registered()
        async with self._lock:
            answer: StepOutcome = await self._activity(
                ActivityName.CLAIM_REVIEW, data.model_copy(update={"step": self._step()})
            )
            self._apply(answer)
        if answer.refusal is not None:
            raise ApplicationError(answer.refusal, type="ClaimRefused", non_retryable=True)
        return answer.status

    @decide.validator
    def _decide_is_valid(self, update: dict[str, Any]) -> None:
        """Refuses (before it is accepted, so nothing is recorded) an update that breaks the
        contract: ``field: rule`` for every problem, never quoting a value."""
        try:
            DecideUpdate.model_validate(update)
        except ValidationError as error:
            why = "; ".join(str(problem) for problem in describe_validation_error(error))
            raise ApplicationError(why, type="DecisionRefused", non_retryable=True) from None

    @workflow.signal
    async def provide_supplement(self, signal: ProvideSupplementSignal) -> None:
        await self._registered()
        async with self._lock:
            answer = await self._activity(
                ActivityName.PROVIDE_SUPPLEMENT,
                SupplementInput(
                    step=self._step(),
                    round=self._status.supplement_rounds,
                    documents=dict(signal.documents),
                ),
            )
            if answer.refusal is None:
                self._supplement = signal
            else:
                workflow.logger.warning(
                    "supplement refused",
                    extra={"registration_id": self._registration_id, "why": answer.refusal},
                )
            self._apply(answer)

    @workflow.signal
    async def withdraw(self, signal: WithdrawSignal) -> None:
        await self._registered()
        async with self._lock:
            answer = await self._activity(
                ActivityName.WITHDRAW, WithdrawInput(step=self._step(), reason=signal.reason)
            )
            if answer.refusal is not None:
                workflow.logger.warning(
                    "withdrawal refused",
                    extra={"registration_id": self._registration_id, "why": answer.refusal},
                )
            self._apply(answer)

    async def _signalled(self, decision: DecideUpdate) -> None:
        answer = await self._decision(decision, "signal")
        if answer.refusal is not None:
            workflow.logger.warning(
                "decision refused",
                extra={
                    "registration_id": self._registration_id,
                    "decision_id": decision.decision_id,
                    "why": answer.refusal,
                },
            )

    async def _decision(self, decision: DecideUpdate, via: str) -> StepOutcome:
        await self._registered()
        async with self._lock:
            answer: StepOutcome = await self._activity(
                ActivityName.DECIDE, DecisionInput(step=self._step(), decision=decision, via=via)
            )
            self._apply(answer)
            return answer

    # --- mechanics ----------------------------------------------------------------------------

    @property
    def _final(self) -> bool:
        return is_final(State(self._status.state))

    def _step(self) -> Step:
        return Step(
            workflow_id=self._workflow_id,
            registration_id=self._registration_id,
            at=workflow.now(),
        )

    def _apply(self, answer: StepOutcome) -> None:
        if answer.status != self._status:
            self._changes += 1
        self._status = answer.status
        if answer.child_account_id:
            self._child_account_id = answer.child_account_id

    async def _registered(self) -> None:
        """Messages that arrive before the submission is recorded wait for it."""
        await workflow.wait_condition(lambda: bool(self._registration_id))

    async def _wait_for_change(self, until: datetime | None) -> bool:
        """Wait until a handler changes the status (True) or ``until`` passes (False)."""
        seen = self._changes
        if until is None:
            await workflow.wait_condition(lambda: self._changes != seen)
            return True
        remaining = until - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(lambda: self._changes != seen, timeout=remaining)
        except TimeoutError:
            return False
        return True

    async def _activity(
        self,
        name: ActivityName,
        argument: Any,
        *,
        timeout: timedelta = STEP_TIMEOUT,
        result_type: type[Any] | None = StepOutcome,
    ) -> Any:
        if name not in REGULAR_STEPS and workflow.patched(LOCAL_STEPS_PATCH):
            return await workflow.execute_local_activity(
                name,
                argument,
                result_type=result_type,
                start_to_close_timeout=timeout,
                retry_policy=RETRY,
            )
        return await workflow.execute_activity(
            name,
            argument,
            result_type=result_type,
            start_to_close_timeout=timeout,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _notify(self, kind: NotificationKind, round_: int = 0) -> None:
        """Tell the guardian about a milestone, once per kind (and supplement round)."""
        if (kind, round_) in self._notified:
            return
        self._notified.add((kind, round_))
        prepared: PreparedNotification = await self._activity(
            ActivityName.PREPARE_NOTIFICATION,
            NotifyInput(step=self._step(), kind=kind, round=round_),
            result_type=PreparedNotification,
        )
        if prepared.message is None:
            return
        await workflow.execute_activity(
            ActivityName.NOTIFY_GUARDIAN,
            prepared.message,
            start_to_close_timeout=NOTIFY_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=NOTIFY_RETRY,
            priority=NOTIFY_PRIORITY,
        )


def _submitted_documents(request: Any) -> dict[str, str]:
    """The contract's documents of a request the first activity accepted; keys the contract
    ignores never reach the storage (they could name any file)."""
    sent = request.get("documents") if isinstance(request, dict) else None
    if not isinstance(sent, dict):
        return {}
    return {name: sent[name] for name in REQUIRED_DOCUMENTS if isinstance(sent.get(name), str)}
