"""The four read models, by name, and what their runners need: the environment and the key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from projections.base import ReadModelProjection, ReadModelView
from projections.guardians import GuardianChildrenProjection, GuardianChildrenView
from projections.queue import ReviewQueueProjection, ReviewQueueView
from projections.statistics import OfficeStatisticsProjection, OfficeStatisticsView
from projections.status import RegistrationStatusProjection, RegistrationStatusView


@dataclass(frozen=True)
class ReadModel:
    name: str
    projection_class: type[ReadModelProjection]
    view_class: type[ReadModelView]


_PAIRS: tuple[tuple[type[ReadModelProjection], type[ReadModelView]], ...] = (
    (RegistrationStatusProjection, RegistrationStatusView),
    (ReviewQueueProjection, ReviewQueueView),
    (GuardianChildrenProjection, GuardianChildrenView),
    (OfficeStatisticsProjection, OfficeStatisticsView),
)

NAMES = tuple(view.projection_name for _, view in _PAIRS)


class UnknownReadModel(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"NAME: unknown read model {name!r}; one of {', '.join(NAMES)}")


def read_models(key: bytes, names: Sequence[str] | None = None) -> list[ReadModel]:
    """The read models named (all by default), with the guardian index keyed by ``key``."""
    every = {
        view.projection_name: ReadModel(
            view.projection_name,
            projection,
            GuardianChildrenView.keyed(key) if view is GuardianChildrenView else view,
        )
        for projection, view in _PAIRS
    }
    chosen = list(names) if names else list(NAMES)
    for name in chosen:
        if name not in every:
            raise UnknownReadModel(name)
    return [every[name] for name in chosen]


def digest_key(secret: str) -> bytes:
    """The guardian index's HMAC key, derived from a service secret (the link secret) with its
    own label, so the same secret never keys two different things directly."""
    return hmac.new(
        secret.encode(), b"childreg/read-models/guardian-index/v1", hashlib.sha256
    ).digest()


def projection_env(event_store_env: Mapping[str, str]) -> dict[str, str]:
    """The event store's settings with small pools: each runner holds two (application, view)."""
    env = dict(event_store_env)
    env["POSTGRES_POOL_SIZE"] = "2"
    env["POSTGRES_MAX_OVERFLOW"] = "2"
    # An erased registration's events before its ``Erased`` cannot be read: the read models skip
    # them (the ``Erased`` event, still readable, says what they keep of it).
    env["ERASED_EVENTS"] = "placeholder"
    return env


def factory(model: ReadModel, env: Mapping[str, str]) -> PostgresFactory:
    """eventsourcing's factory for one projection (its tables are prefixed with its name)."""
    return PostgresFactory(Environment(model.name, dict(env)))


def create_schema(event_store_env: Mapping[str, str], key: bytes = b"schema") -> list[str]:
    """Create every read model's tables and tracking table (idempotent); returns their names."""
    created = []
    env = {**projection_env(event_store_env), "CREATE_TABLE": "yes"}
    for model in read_models(key):
        made = factory(model, env)
        try:
            made.tracking_recorder(model.view_class)
        finally:
            made.close()
        created.append(model.name)
    return created
