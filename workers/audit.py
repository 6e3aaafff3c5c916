"""The audit commands' composition root: which database, which role, which keys.

Auditors read through ``audit_database_url`` (a read-only role) when it is configured, otherwise
through ``database_url``; either way every connection is a read-only session
(:func:`projections.audit.store.read_only_connection`). Only the sealer writes, to its own
tables, and it uses the service's ``database_url``: run it from the projector (see
:func:`run_sealer`) or as ``childreg audit seal``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import structlog
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from projections.audit import seal as sealing
from projections.audit.store import EventDecoder, read_only_connection
from projections.catalogue import digest_key
from workers.bootstrap import resolve
from workers.persistence import event_store_env
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect, data_converter

log = structlog.get_logger(__name__)

SEAL_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class AuditWiring:
    read_url: str
    """The auditors' URL: ``audit_database_url`` when set, else the service's."""
    write_url: str
    """The service's URL: for the sealer only."""
    cipher_key: str | None
    digest_key: bytes

    def event_store_env(self) -> dict[str, str]:
        return event_store_env(self.read_url, self.cipher_key, create_tables=False)


def audit_wiring(settings: Settings) -> AuditWiring:
    resolved = resolve(settings)
    return AuditWiring(
        read_url=settings.audit_database_url or resolved.database_url,
        write_url=resolved.database_url,
        cipher_key=resolved.cipher_key,
        digest_key=digest_key(resolved.link_secret),
    )


class AuditUnavailable(Exception):
    """The audit database cannot be reached (the message says which setting to check)."""


@contextmanager
def auditing(wiring: AuditWiring) -> Iterator[tuple[psycopg.Connection[Any], EventDecoder]]:
    """A read-only connection and the decoder for the stored events."""
    try:
        connection = read_only_connection(wiring.read_url)
    except psycopg.OperationalError as error:
        raise AuditUnavailable(
            "cannot connect to the audit database (CHILDREG_AUDIT_DATABASE_URL, else "
            f"CHILDREG_DATABASE_URL): {type(error).__name__}"
        ) from None
    try:
        decoder = EventDecoder(wiring.cipher_key)
    except BaseException:
        connection.close()
        raise
    try:
        yield connection, decoder
    finally:
        decoder.close()
        connection.close()


def seal_once(database_url: str, every: int = sealing.DEFAULT_EVERY) -> sealing.SealReport:
    """Extend the global chain over the events recorded since the last seal."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        report = sealing.seal(connection, every)
    if report.sealed:
        log.info(
            "audit.sealed",
            events=report.sealed,
            head=report.head.events if report.head else 0,
            position=report.head.notification_id if report.head else 0,
        )
    return report


def run_sealer(
    database_url: str,
    stopping: threading.Event,
    every: int = sealing.DEFAULT_EVERY,
    interval: float = SEAL_INTERVAL_SECONDS,
) -> None:
    """Seal every ``interval`` seconds until ``stopping`` is set (run it on a thread beside the
    projection runners). A failed seal is logged and tried again: sealing is idempotent."""
    while not stopping.is_set():
        try:
            seal_once(database_url, every)
        except Exception as error:  # the next round retries; the projector must not die of it
            log.error("audit.seal_failed", error=type(error).__name__)
        stopping.wait(interval)


def start_sealer(
    database_url: str, stopping: threading.Event, every: int = sealing.DEFAULT_EVERY
) -> threading.Thread:
    """:func:`run_sealer` on a daemon thread; set ``stopping`` and join it to stop."""
    thread = threading.Thread(
        target=run_sealer, args=(database_url, stopping, every), name="audit-sealer", daemon=True
    )
    thread.start()
    return thread


# --- workflow histories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayOutcome:
    name: str
    failure: str | None
    """None: the current workflow code reproduces the history's commands exactly."""


def load_histories(directory: Path) -> list[tuple[str, WorkflowHistory]]:
    """Every ``*.json`` history in ``directory`` (as ``temporal workflow show --output json``
    or ``WorkflowHistory.to_json`` writes them), named by file."""
    return [
        (path.stem, WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8")))
        for path in sorted(directory.glob("*.json"))
    ]


def replay(
    histories: Sequence[tuple[str, WorkflowHistory]],
    cipher_key: str | None,
    workflows: Sequence[type] | None = None,
) -> list[ReplayOutcome]:
    """Replay each history with the workflow code (the current one by default)."""
    from workflows.registration import ChildAccountRegistration

    async def run() -> list[ReplayOutcome]:
        replayer = Replayer(
            workflows=list(workflows or [ChildAccountRegistration]),
            data_converter=data_converter(cipher_key),
        )
        outcomes = []
        for name, history in histories:
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            failure = result.replay_failure
            outcomes.append(
                ReplayOutcome(
                    name, None if failure is None else f"{type(failure).__name__}: {failure}"
                )
            )
        return outcomes

    return asyncio.run(run())


def replay_directory(directory: Path, settings: Settings) -> list[ReplayOutcome]:
    # Recorded test histories are plain JSON; the codec passes plain payloads through, so the
    # configured key (for histories exported from an encrypting deployment) does no harm.
    key = settings.cipher_key.get_secret_value() if settings.cipher_key else None
    return replay(load_histories(directory), key)


def replay_from_server(settings: Settings, query: str) -> list[ReplayOutcome]:
    """Fetch the histories of the workflows a visibility query lists, then replay them."""
    resolved = resolve(settings)

    async def fetch() -> list[tuple[str, WorkflowHistory]]:
        client = await connect(
            temporal_address(settings), settings.temporal_namespace, resolved.cipher_key
        )
        return [
            (history.workflow_id, history)
            async for history in client.list_workflows(query).map_histories()
        ]

    return replay(asyncio.run(fetch()), resolved.cipher_key)
