"""What an operator sees of a running worker: log lines that say which workflow, run, activity
and registration they belong to, and the Temporal SDK's metrics for Prometheus."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class LogContextInterceptor(Interceptor):
    """Binds the workflow id, run id and activity to every log line an activity writes."""

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
            return await self.next.execute_activity(input)


def metrics_runtime(port: int) -> Runtime | None:
    """A Temporal runtime exporting SDK metrics on ``0.0.0.0:port/metrics``; None when port is 0."""
    if not port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}"))
    )
