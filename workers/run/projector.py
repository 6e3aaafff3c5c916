"""``childreg projector``: the process that keeps the read models current.

It runs one eventsourcing projection runner per read model (see :mod:`projections.runners`)
until SIGINT or SIGTERM, then stops them cleanly: each runner finishes the event in hand, whose
view write and tracking record commit together or not at all. A restart resumes after the last
tracked event. A second projector started by mistake applies nothing twice: an event's tracking
write is refused once another runner has recorded it, and its whole transaction rolls back.
If a runner fails (say, the database goes away) the process exits non-zero for its supervisor to
restart it. Beside the runners, it seals the event store for the audit (:mod:`workers.run.sealer`).
"""

from __future__ import annotations

import signal
import threading

import structlog

from workers.bootstrap import resolve, running_projections
from workers.run.sealer import audit_sealing
from workers.settings import Settings

log = structlog.get_logger(__name__)


class ProjectorFailed(Exception):
    """A runner failed; the projector has stopped (the log says why)."""


def run_projector(settings: Settings) -> None:
    """Run the read models' runners and the sealer until SIGINT or SIGTERM."""
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("projector.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    resolved = resolve(settings)
    try:
        with running_projections(resolved) as running, audit_sealing(resolved.database_url):
            log.info("projector.running", **running.positions())
            running.run_until(stopping)
    except Exception as error:
        log.error("projector.failed", error=type(error).__name__, detail=str(error))
        raise ProjectorFailed(type(error).__name__) from None
    log.info("projector.stopped")
