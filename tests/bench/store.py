"""The event store against the database underneath it, on the same server, interleaved in
small blocks (A B C A B C …) so that a burst of load elsewhere falls on all three alike.

- ``command``: ``service.execute`` of one command (load, decide, save), encrypted;
- ``insert``: one single-row INSERT of a payload the size of a stored event, committed;
- ``locked``: the same INSERT inside ``LOCK TABLE … IN EXCLUSIVE MODE`` + ``NOTIFY``, which is
  what eventsourcing's PostgreSQL recorder does on every save.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from domain.contract import parse_request
from domain.registration import ActorKind, Cause, Registration
from tests.builders import a_request
from workers.bootstrap import registration_service

T0 = datetime(2026, 11, 25, 2, tzinfo=UTC)
PAYLOAD = secrets.token_bytes(1200)


def _cause(command_id: str, request_id: str) -> Cause:
    return Cause(ActorKind.SYSTEM, "bench", f"registration-{request_id}", command_id, T0)


def measure(database_url: str, cipher_key: str, *, per_round: int, rounds: int) -> dict[str, Any]:
    service = registration_service(database_url, cipher_key)
    connection = psycopg.connect(database_url, autocommit=True)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, body bytea NOT NULL)"
    )
    request = a_request()
    prefix = secrets.token_hex(4)
    registrations = []
    for index in range(per_round * rounds):
        request_id = f"bench-store-{prefix}-{index}"
        view = service.submit(
            parse_request({**request, "request_id": request_id}), _cause(request_id, request_id)
        )
        service.execute(
            view.registration_id,
            Registration.verify_identity,
            "7912345678",
            "0123456789",
            [],
            _cause("identity", request_id),
        )
        registrations.append((view.registration_id, request_id))
    commands = iter(registrations)

    def command() -> None:
        registration_id, request_id = next(commands)
        service.execute(
            registration_id,
            Registration.store_documents,
            {"portrait": {"sha256": "a" * 64}},
            [],
            _cause("documents", request_id),
        )

    def insert() -> None:
        connection.execute("INSERT INTO bench_rows (body) VALUES (%s)", (PAYLOAD,))

    def locked() -> None:
        with connection.transaction():
            connection.execute("LOCK TABLE bench_rows IN EXCLUSIVE MODE")
            connection.execute("INSERT INTO bench_rows (body) VALUES (%s)", (PAYLOAD,))
            connection.execute("NOTIFY bench_rows")

    kinds: dict[str, Callable[[], None]] = {"command": command, "insert": insert, "locked": locked}
    rates: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(rounds):
        for name, work in kinds.items():
            started = time.perf_counter()
            for _ in range(per_round):
                work()
            rates[name].append(per_round / (time.perf_counter() - started))
    connection.execute("DROP TABLE bench_rows")
    connection.close()
    service.close()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "per_round": per_round,
        "rounds": rounds,
        "per_second": rates,
        "median_per_second": medians,
        "command_vs_insert": medians["command"] / medians["insert"],
        "command_vs_locked": medians["command"] / medians["locked"],
        "locked_vs_insert": medians["locked"] / medians["insert"],
    }
