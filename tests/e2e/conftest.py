"""The end-to-end stack: one real Temporal dev server for the session, an SMTP sink per test, the
production worker's workflow and activities on a task queue of the test's own. The database and
adapters are the workflow tests' fixtures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.notifications.event_store_journal import EventStoreNotificationJournal
from activities.notifications.wiring import build_notifications
from tests.e2e.stack import BIN, LINK_SECRET, address
from tests.workflow.conftest import TEST_KEY, adapters
from workers.settings import Settings, SmtpSettings, load_settings
from workers.smtp_sink import SmtpSink, start_sink
from workers.temporal_client import data_converter
from workers.worker import ACTIVITY_THREADS, Adapters, build_activities, registration_worker
from workflows.registration import TASK_QUEUE

__all__ = ["adapters", "dev_server", "settings", "sink", "worker"]


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(TEST_KEY),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with start_sink(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def settings(data_dir: Path, database_url: str, dev_server: WorkflowEnvironment) -> Settings:
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        cipher_key=TEST_KEY,
        link_secret=LINK_SECRET,
        temporal_address=address(dev_server),
        smtp=SmtpSettings(host=None),
    )


@pytest.fixture
async def worker(
    dev_server: WorkflowEnvironment, adapters: Adapters, settings: Settings, sink: SmtpSink
) -> AsyncIterator[str]:
    """The production worker, on a task queue of the test's own."""
    notifications = build_notifications(
        settings,
        LINK_SECRET,
        EventStoreNotificationJournal(adapters.service),
        embedded_smtp_port=sink.port,
    )
    adapters.documents = type(adapters.documents)(settings.data_dir / "documents", TEST_KEY)
    activities = build_activities(adapters, max_wait_days=30, notify=notifications.notify_guardian)
    task_queue = f"{TASK_QUEUE}-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        # The production worker as `childreg worker` builds it, its interceptor included.
        async with registration_worker(dev_server.client, task_queue, activities, executor):
            yield task_queue
