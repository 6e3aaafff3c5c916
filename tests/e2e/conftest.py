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

from activities.keys import DataKeys
from tests.e2e.stack import BIN, LINK_SECRET, address
from tests.workflow.conftest import TEST_KEY, adapters
from workers.bootstrap import (
    ACTIVITY_THREADS,
    Adapters,
    build_activities,
    data_keys,
    document_store,
    resolve,
    worker_notifications,
)
from workers.run.smtp_sink import SmtpSink, start_sink
from workers.run.worker import registration_worker
from workers.settings import Settings, SmtpSettings, load_settings
from workers.temporal_client import data_converter
from workflows.registration import TASK_QUEUE

__all__ = ["adapters", "dev_server", "settings", "sink", "worker"]


class PerTestKeys(DataKeys):
    """The session's client reads the data keys of the running test's database."""

    def __init__(self) -> None:
        super().__init__("", TEST_KEY)

    def use(self, database_url: str) -> None:
        self.close()
        self._cache.clear()
        self._url = database_url


KEYS = PerTestKeys()


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(TEST_KEY, KEYS),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(autouse=True)
def _keys_of_this_test(database_url: str) -> None:
    """The session client's codec finds the data keys in this test's database."""
    KEYS.use(database_url)


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
    resolved = resolve(settings)  # both the database and the keys are given: nothing starts
    notifications = worker_notifications(settings, resolved, adapters, embedded_smtp_port=sink.port)
    adapters.documents = document_store(settings, resolved.cipher_key, data_keys(resolved))
    activities = build_activities(adapters, max_wait_days=30, notify=notifications.notify_guardian)
    task_queue = f"{TASK_QUEUE}-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        # The production worker as `childreg worker` builds it, its interceptor included.
        async with registration_worker(dev_server.client, task_queue, activities, executor):
            yield task_queue
