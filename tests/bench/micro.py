"""In-process figures kept from the first bench: the aggregate in memory, the declaration PDF."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.application import Application

from domain.registration import ActorKind, Cause, Registration

T0 = datetime(2026, 11, 25, 2, tzinfo=UTC)


def _per_second(count: int, work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def _cause(command_id: str, request_id: str) -> Cause:
    return Cause(ActorKind.SYSTEM, "bench", f"registration-{request_id}", command_id, T0)


def aggregate_lifecycles(count: int = 1000) -> float:
    app: Application[Any] = Application()

    def run() -> None:
        for index in range(count):
            request_id = f"bench-{index}"
            registration = Registration.submit(
                request_id, {"request_id": request_id}, "79001", _cause(request_id, request_id)
            )
            registration.verify_identity("7900000011", "7900000001", [], _cause("i", request_id))
            registration.store_documents(
                {"portrait": {"sha256": "a" * 64}}, [], _cause("documents", request_id)
            )
            registration.request_review(
                T0 + timedelta(days=3), T0 + timedelta(days=30), _cause("review", request_id)
            )
            registration.approve("d", "rv-79001-01", None, _cause("d", request_id))
            registration.activate_child_account("acc", _cause("activate", request_id))
            app.save(registration)

    return _per_second(count, run)


def declarations(count: int = 20) -> float:
    from activities.notifications.declaration import render_declaration
    from activities.notifications.kinds import NotificationKind
    from workers.cli.notifications import example_milestone  # the contract's example

    notice = example_milestone(NotificationKind.RECEIVED)

    def run() -> None:
        for index in range(count):
            render_declaration(
                notice.request,
                registration_id=notice.registration_id,
                office_name=f"{notice.office_name} {index}",  # a different declaration each time
            )

    return _per_second(count, run)


def ciphers(count: int = 20000) -> dict[str, float]:
    """AES-GCM seal + open of a 1.2 KB event, the AESGCM object built on every call (as before)
    and taken from the process's cache (as now)."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from activities.aes_gcm import CIPHERS

    key, nonce, data = os.urandom(32), os.urandom(12), os.urandom(1200)

    def built() -> None:
        for _ in range(count):
            AESGCM(key).decrypt(nonce, AESGCM(key).encrypt(nonce, data, None), None)

    def cached() -> None:
        for _ in range(count):
            CIPHERS.get(key).decrypt(nonce, CIPHERS.get(key).encrypt(nonce, data, None), None)

    return {
        "AES-GCM seal+open 1.2 KB, AESGCM built per call": _per_second(count, built),
        "AES-GCM seal+open 1.2 KB, AESGCM cached (LRU)": _per_second(count, cached),
    }


def figures() -> dict[str, float]:
    return {
        **ciphers(),
        "domain: 6-event lifecycles in memory": aggregate_lifecycles(),
        "declaration PDFs rendered (each a different one)": declarations(),
    }
