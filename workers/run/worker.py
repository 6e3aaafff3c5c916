"""``childreg worker``: the Temporal worker of the registration workflow.

It runs :func:`run_worker` until SIGTERM; tests and the development stack build the same
activities with :func:`workers.bootstrap.build_activities` and run them on a worker of their own.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from workers.bootstrap import (
    ACTIVITY_THREADS,
    build_activities,
    data_keys,
    open_adapters,
    resolve,
    worker_notifications,
)
from workers.heartbeats import LivenessHeartbeats
from workers.observability import LogContextInterceptor, metrics_runtime
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect
from workflows.registration import ChildAccountRegistration

log = structlog.get_logger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=30)
"""On SIGTERM, in-flight activities get this long to finish before they are handed back."""


STICKY_TIMEOUT = timedelta(seconds=2)
"""A workflow task waits this long for the worker that cached its workflow (10 s by default)
before any worker takes it: what a killed worker's registrations wait before moving on."""


def registration_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    executor: ThreadPoolExecutor,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ChildAccountRegistration],
        activities=activities,
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        interceptors=[LogContextInterceptor(), LivenessHeartbeats()],
    )


async def run_worker(
    settings: Settings,
    *,
    embedded_smtp_port: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until ``stop`` is set (by default: until SIGTERM or SIGINT), then shut down gracefully."""
    resolved = resolve(settings)
    with open_adapters(settings, resolved) as adapters:
        notifications = worker_notifications(
            settings, resolved, adapters, embedded_smtp_port=embedded_smtp_port
        )
        activities = build_activities(
            adapters, max_wait_days=settings.max_wait_days, notify=notifications.notify_guardian
        )
        client = await connect(
            temporal_address(settings),
            settings.temporal_namespace,
            resolved.cipher_key,
            metrics_runtime(settings.metrics_port),
            data_keys(resolved),
            require_encrypted_input=settings.require_encrypted_input,
        )
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            worker = registration_worker(client, settings.task_queue, activities, executor)
            if stop is None:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, stop.set)
            log.info("worker.started", task_queue=settings.task_queue)
            async with worker:
                await stop.wait()
                log.info("worker.stopping")
            await notifications.close()
            log.info("worker.stopped")
