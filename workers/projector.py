"""``childreg projector``: the composition root that keeps the read models current.

It runs one eventsourcing projection runner per read model (see :mod:`projections.runners`)
until SIGINT or SIGTERM, then stops them cleanly: each runner finishes the event in hand, whose
view write and tracking record commit together or not at all. A restart resumes after the last
tracked event. A second projector started by mistake applies nothing twice: an event's tracking
write is refused once another runner has recorded it, and its whole transaction rolls back.
If a runner fails (say, the database goes away) the process exits non-zero for its supervisor to
restart it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
import typer

from projections.catalogue import digest_key
from projections.runners import RunningProjections
from workers.audit import start_sealer
from workers.bootstrap import Resolved, resolve
from workers.logs import configure_logging
from workers.persistence import event_store_env
from workers.settings import SettingsError, load_settings

log = structlog.get_logger(__name__)


def running_projections(resolved: Resolved) -> RunningProjections:
    """The read models' runners for ``resolved``'s database, not yet started: enter the result
    to run them in-process (``childreg dev`` does), exit it to stop them."""
    return RunningProjections(
        event_store_env(resolved.database_url, resolved.cipher_key),
        digest_key(resolved.link_secret),
    )


@contextmanager
def audit_sealing(resolved: Resolved) -> Iterator[None]:
    """Seal the event store for the audit (checkpoints of the global chain) while the read side
    runs: a thread beside the runners, stopped and joined on exit."""
    stopping = threading.Event()
    sealer = start_sealer(resolved.database_url, stopping)
    try:
        yield
    finally:
        stopping.set()
        sealer.join(timeout=10)


def projector() -> None:
    """Keep the read models (status, queues, guardians' children, statistics) current."""
    try:
        settings = load_settings()
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_format, settings.log_level)
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("projector.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    resolved = resolve(settings)
    try:
        with running_projections(resolved) as running, audit_sealing(resolved):
            log.info("projector.running", **running.positions())
            running.run_until(stopping)
    except Exception as error:
        log.error("projector.failed", error=type(error).__name__, detail=str(error))
        raise typer.Exit(1) from None
    log.info("projector.stopped")


def main() -> None:
    """Run the projector without the rest of the ``childreg`` command."""
    typer.run(projector)
