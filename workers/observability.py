"""What an operator sees of a running worker: log lines that say which workflow, run, activity
and registration they belong to, and the Temporal SDK's metrics for Prometheus. And what Temporal
sees of an activity's unexpected error: its type, never its message."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

log = structlog.get_logger(__name__)


class LogContextInterceptor(Interceptor):
    """Binds the workflow id, run id and activity to every log line an activity writes, and keeps
    the messages of unexpected errors out of Temporal.

    An activity's own refusals are ``ApplicationError``s whose messages name fields and rules.
    Any other exception (a database error quoting a key, a validation error quoting a value)
    may hold a child's data, and Temporal keeps failure messages in plain text: such an error is
    logged here (through the redacting logger) and handed to Temporal as an ``ApplicationError``
    of the same type name (retry policies match on it) whose message says only where it was."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLogContext(next)


class _ActivityLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        # Bound before the SDK copies the context into the activity's thread, so sync activities
        # see it too. The workflow id is registration-<request id>: no personal data.
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity=info.activity_type,
            attempt=info.attempt,
        ):
            try:
                return await self.next.execute_activity(input)
            except (TemporalError, asyncio.CancelledError):
                raise  # the activity's own refusals, cancellation, heartbeat timeouts
            except Exception as error:
                kind = type(error).__name__
                log.warning("activity.failed", error_type=kind, exc_info=True)
                raise ApplicationError(
                    f"{kind} in activity {info.activity_type} (the message stays in the worker's"
                    " log: it may hold personal data)",
                    type=kind,
                ) from None


def metrics_runtime(port: int) -> Runtime | None:
    """A Temporal runtime exporting SDK metrics on ``0.0.0.0:port/metrics``; None when port is 0."""
    if not port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}"))
    )
