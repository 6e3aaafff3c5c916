"""``childreg projector``: the process that keeps the read models current.

It runs one eventsourcing projection runner per read model (see :mod:`projections.runners`)
until SIGINT or SIGTERM, then stops them cleanly: each runner finishes the event in hand, whose
view write and tracking record commit together or not at all. A restart resumes after the last
tracked event. A second projector started by mistake applies nothing twice: an event's tracking
write is refused once another runner has recorded it, and its whole transaction rolls back.
If a runner fails (say, PostgreSQL restarts) the runners are started again with backoff; one
failing for a minute on end makes the process exit non-zero for its supervisor to restart it.
Beside the runners, it seals the event store for the audit (:mod:`workers.run.sealer`).
"""

from __future__ import annotations

import signal
import threading
import time

import structlog

from workers.bootstrap import resolve, running_projections
from workers.run.sealer import audit_sealing
from workers.settings import Settings

log = structlog.get_logger(__name__)


class ProjectorFailed(Exception):
    """A runner failed; the projector has stopped (the log says why)."""


RECONNECT = (1.0, 2.0, 4.0, 8.0)
"""Seconds between attempts to start the runners again after they failed (the last repeated)."""
GIVE_UP_AFTER = 60.0
"""A projector whose runners keep failing this long exits non-zero for its supervisor."""


def run_projector(settings: Settings) -> None:
    """Run the read models' runners and the sealer until SIGINT or SIGTERM.

    When the runners fail (PostgreSQL restarted: the LISTEN connection is gone), they are closed
    and started again after a backoff, resuming after each view's tracking position: no event is
    missed or applied twice (an event's view write and tracking record commit together). Failing
    for :data:`GIVE_UP_AFTER` seconds on end raises :class:`ProjectorFailed` (exit 1)."""
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("projector.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    resolved = resolve(settings)
    failing_since: float | None = None
    attempt = 0
    while not stopping.is_set():
        try:
            with running_projections(resolved) as running, audit_sealing(resolved.database_url):
                log.info("projector.running", **running.positions())
                failing_since, attempt = None, 0
                running.run_until(stopping)
        except Exception as error:
            now = time.monotonic()
            failing_since = failing_since if failing_since is not None else now
            if now - failing_since >= GIVE_UP_AFTER:
                log.error("projector.failed", error=type(error).__name__, detail=str(error))
                raise ProjectorFailed(type(error).__name__) from None
            delay = RECONNECT[min(attempt, len(RECONNECT) - 1)]
            attempt += 1
            log.warning(
                "projector.reconnecting", error=type(error).__name__, detail=str(error), after=delay
            )
            stopping.wait(delay)
    log.info("projector.stopped")
