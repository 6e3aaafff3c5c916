"""The Temporal worker's composition root: settings → pools and adapters → activities → run.

``childreg worker`` runs :func:`run_worker`; tests and the development stack build the same
activities with :func:`build_activities` and run them on a worker of their own.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from psycopg_pool import ConnectionPool
from temporalio.client import Client
from temporalio.worker import Worker

from activities.accounts import AccountActivities, PostgresChildAccounts
from activities.authorisation import DecisionActivities
from activities.claims import ChildClaims, PostgresChildClaims
from activities.documents import DocumentActivities, DocumentStore
from activities.identity import IdentityActivities, IdentityCheck
from activities.notifications.preparation import MilestoneActivities
from activities.recording import RecordingActivities
from activities.registry import PostgresRegistry
from domain.registry import RegistryLookups
from domain.service import RegistrationService
from workers.bootstrap import resolve
from workers.migrate import WORKER_TABLES, require_tables
from workers.observability import LogContextInterceptor, metrics_runtime
from workers.persistence import registration_service
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect
from workflows.registration import ChildAccountRegistration

log = structlog.get_logger(__name__)

ACTIVITY_THREADS = 16
GRACEFUL_SHUTDOWN = timedelta(seconds=30)
"""On SIGTERM, in-flight activities get this long to finish before they are handed back."""


def documents_root(data_dir: Path) -> Path:
    return data_dir / "documents"


@dataclass
class Adapters:
    """What the activities need, built once per process."""

    service: RegistrationService
    registry: RegistryLookups
    claims: ChildClaims
    accounts: PostgresChildAccounts
    documents: DocumentStore


def build_activities(
    adapters: Adapters, *, max_wait_days: int, notify: Callable[..., Any] | None
) -> list[Callable[..., Any]]:
    """Every activity of the registration workflow, as bound methods.

    ``notify`` is the ``notify_guardian`` activity (the notifications' own composition).
    """
    service, registry = adapters.service, adapters.registry
    recording = RecordingActivities(service, registry, adapters.claims, max_wait_days=max_wait_days)
    identity = IdentityActivities(service, IdentityCheck(registry, adapters.claims))
    documents = DocumentActivities(service, adapters.documents)
    decisions = DecisionActivities(service, registry, supplement_wait_days=max_wait_days)
    accounts = AccountActivities(service, adapters.accounts)
    milestones = MilestoneActivities(service, registry)
    activities: list[Callable[..., Any]] = [
        recording.record_submission,
        recording.request_review,
        recording.mark_overdue,
        recording.expire,
        recording.withdraw,
        recording.provide_supplement,
        recording.release_child_claim,
        identity.verify_identity,
        documents.store_documents,
        decisions.decide,
        accounts.activate_child_account,
        milestones.prepare_notification,
    ]
    if notify is not None:
        activities.append(notify)
    return activities


@contextmanager
def open_adapters(database_url: str, cipher_key: str | None, data_dir: Path) -> Iterator[Adapters]:
    """Open the pool and the event store, close on exit.

    The tables must be there (``childreg db migrate``): the worker checks them and creates none.
    """
    pool = ConnectionPool(database_url, min_size=1, max_size=ACTIVITY_THREADS, open=False)
    pool.open(wait=True)
    try:
        require_tables(pool, WORKER_TABLES)
        service = registration_service(database_url, cipher_key, create_tables=False)
        try:
            yield Adapters(
                service=service,
                registry=PostgresRegistry(pool),
                claims=PostgresChildClaims(pool),
                accounts=PostgresChildAccounts(pool),
                documents=DocumentStore(documents_root(data_dir), cipher_key),
            )
        finally:
            service.close()
    finally:
        pool.close()


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
        interceptors=[LogContextInterceptor()],
    )


async def run_worker(
    settings: Settings,
    *,
    embedded_smtp_port: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until ``stop`` is set (by default: until SIGTERM or SIGINT), then shut down gracefully."""
    from activities.notifications.event_store_journal import EventStoreNotificationJournal
    from activities.notifications.wiring import build_notifications

    resolved = resolve(settings)
    with open_adapters(resolved.database_url, resolved.cipher_key, settings.data_dir) as adapters:
        notifications = build_notifications(
            settings,
            resolved.link_secret,
            EventStoreNotificationJournal(adapters.service),
            embedded_smtp_port=embedded_smtp_port,
        )
        activities = build_activities(
            adapters, max_wait_days=settings.max_wait_days, notify=notifications.notify_guardian
        )
        client = await connect(
            temporal_address(settings),
            settings.temporal_namespace,
            resolved.cipher_key,
            metrics_runtime(settings.metrics_port),
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
