"""The audit sealer: checkpoints of the global hash chain over the event store.

The projector runs it on a thread beside the read models (:func:`audit_sealing`); ``childreg
audit seal`` runs one round. It writes to its own tables only, through the service's
``database_url`` (the auditors' read-only role cannot).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import structlog

from projections.audit import seal as sealing

log = structlog.get_logger(__name__)

SEAL_INTERVAL_SECONDS = 5.0


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


@contextmanager
def audit_sealing(database_url: str) -> Iterator[None]:
    """Seal the event store for the audit (checkpoints of the global chain) while the read side
    runs: a thread beside the runners, stopped and joined on exit."""
    stopping = threading.Event()
    sealer = start_sealer(database_url, stopping)
    try:
        yield
    finally:
        stopping.set()
        sealer.join(timeout=10)
