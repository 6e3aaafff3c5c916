"""Running the projections: one eventsourcing ``ProjectionRunner`` per read model.

Each runner subscribes to the registration service's events through PostgreSQL LISTEN/NOTIFY
(eventsourcing's ``PostgresSubscription``), starting after its view's tracking position, so a
restart resumes where it stopped. The same :class:`RunningProjections` serves the projector
process (``childreg projector``) and the development stack (``childreg dev``, in-process).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import structlog
from eventsourcing.projection import ProjectionRunner

from domain.service import RegistrationService
from projections.base import APPLICATION_NAME, ReadModelView
from projections.catalogue import projection_env, read_models

log = structlog.get_logger(__name__)

Runner = ProjectionRunner[RegistrationService, ReadModelView]


class RunningProjections:
    """The read models' runners, started on enter and stopped on exit.

    ``event_store_env`` is the registration service's eventsourcing environment (with its
    ``CIPHER_KEY``: events are read through the application's mapper, decrypted).
    """

    def __init__(
        self,
        event_store_env: Mapping[str, str],
        key: bytes,
        names: Sequence[str] | None = None,
    ) -> None:
        self._env = projection_env(event_store_env)
        self._models = read_models(key, names)
        self.runners: dict[str, Runner] = {}

    def __enter__(self) -> Self:
        try:
            for model in self._models:
                runner: Runner = ProjectionRunner(
                    application_class=RegistrationService,
                    projection_class=model.projection_class,
                    view_class=model.view_class,
                    env=self._env,
                )
                runner.__enter__()
                self.runners[model.name] = runner
                log.info(
                    "projection.started", projection=model.name, position=runner.view.position()
                )
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        errors: list[BaseException] = []
        for name, runner in reversed(list(self.runners.items())):
            try:
                runner.__exit__(None, None, None)
            except BaseException as error:
                errors.append(error)
                log.error("projection.failed", projection=name, error=type(error).__name__)
            finally:
                runner.view.datastore.close()
                log.info("projection.stopped", projection=name)
        self.runners.clear()
        if errors:
            raise errors[0]

    def stop(self) -> None:
        """Ask every runner to stop (safe from a signal handler); ``__exit__`` waits for them."""
        for runner in self.runners.values():
            runner.stop()

    def wait(self, position: int | None, timeout: float = 10.0) -> None:
        """Block until every read model has applied the event at ``position`` (TimeoutError);
        re-raises a runner's error."""
        for runner in self.runners.values():
            runner.wait(position, timeout=timeout)

    def positions(self) -> dict[str, int]:
        return {
            name: runner.view.max_tracking_id(APPLICATION_NAME) or 0
            for name, runner in self.runners.items()
        }

    def run_until(self, stopping: threading.Event, check_every: float = 0.5) -> None:
        """Block until ``stopping`` is set, or re-raise the error a runner stopped with."""
        while not stopping.is_set():
            for runner in self.runners.values():
                runner.run_forever(timeout=0)
                if runner.is_interrupted.is_set() and not stopping.is_set():
                    raise RuntimeError("a projection runner stopped unexpectedly")
            stopping.wait(check_every)
