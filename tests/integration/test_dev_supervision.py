"""``childreg dev`` supervises its processes: PostgreSQL, Temporal, the worker, the projector and
the web tier are its children, restarted when they die, and none outlives a killed stack."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.builders import a_request
from tests.integration.test_dev_stack import (
    CHILDREG,
    Dev,
    _pictures,
    dev_ports,
    query_status,
    start_dev,
)
from workflows.registration import TASK_QUEUE, WORKFLOW_TYPE, ChildAccountRegistration

NAMES = ("postgres", "temporal", "projector", "worker", "web")


class Output:
    """Everything ``childreg dev`` prints after its banner, read in the background."""

    def __init__(self, dev: Dev) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(dev,), daemon=True)
        self._thread.start()

    def _read(self, dev: Dev) -> None:
        assert dev.process.stdout is not None
        for line in dev.process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def pid_of(dev: Dev, name: str) -> int:
    return int((dev.data_dir / "run" / f"{name}.pid").read_text())


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def until(condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def left_on(data_dir: Path) -> list[psutil.Process]:
    marker = str(data_dir)
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            mine = marker in " ".join(process.info["cmdline"] or [])
            mine = mine or process.environ().get("CHILDREG_DATA_DIR") == marker
            if mine and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def stack_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="childreg-sup-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(stack_dir: Path) -> Iterator[tuple[Dev, Output]]:
    dev = start_dev(
        stack_dir, dev_ports(), demo=True
    )  # the demo's registry, for the requests below
    output = Output(dev)
    yield dev, output
    if dev.process.poll() is None:
        dev.stop()


def test_every_process_is_a_child_with_its_pid_file(stack: tuple[Dev, Output]) -> None:
    dev, _ = stack
    children = {p.pid for p in psutil.Process(dev.process.pid).children()}

    assert {name: pid_of(dev, name) in children for name in NAMES} == dict.fromkeys(NAMES, True)


def test_a_killed_worker_is_restarted_with_a_line_saying_so(stack: tuple[Dev, Output]) -> None:
    dev, output = stack
    old = pid_of(dev, "worker")

    os.kill(old, signal.SIGKILL)

    until(lambda: pid_of(dev, "worker") != old and alive(pid_of(dev, "worker")))
    until(lambda: "Restarted worker" in output.text(), timeout=10)
    assert "Restarting worker: it killed by SIGKILL after" in output.text()
    assert f"(pid {old})" in output.text()


def put_pictures(dev: Dev) -> tuple[str, str]:
    portrait, certificate = (
        subprocess.run(
            [CHILDREG, "documents", "put", str(picture)],
            env=dev.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for picture in _pictures(dev.data_dir)
    )
    return portrait, certificate


async def start_registration(dev: Dev, request_id: str, portrait: str, certificate: str) -> None:
    client = await dev.client()
    body = a_request(
        request_id=request_id,
        guardian__social_insurance_code="7900000001",
        child__social_insurance_code="7900000012",
        child__full_name="Nguyễn Ngọc Hân",
        child__date_of_birth="2026-05-10",
        documents__portrait=portrait,
        documents__birth_certificate=certificate,
    )
    await client.start_workflow(
        WORKFLOW_TYPE, body, id=f"registration-{request_id}", task_queue=TASK_QUEUE
    )


def test_registrations_in_flight_move_on_within_15_s_of_a_new_worker(
    stack: tuple[Dev, Output],
) -> None:
    dev, _ = stack
    portrait, certificate = put_pictures(dev)
    ids = [f"recovery-{n}" for n in range(6)]

    async def start_all() -> None:
        for n, request_id in enumerate(ids):
            await start_registration(dev, request_id, portrait, certificate)
            if n == 2:
                await asyncio.sleep(0.3)  # a moment with activities in flight
                os.kill(pid_of(dev, "worker"), signal.SIGKILL)

    log = dev.data_dir / "logs" / "worker.log"
    starts = log.read_text().count('"worker.started"')
    asyncio.run(start_all())
    # The new worker has started once it logs so (its imports and connection are not the point).
    until(lambda: log.read_text().count('"worker.started"') > starts)
    restarted = time.monotonic()
    states = asyncio.run(until_moved_on(dev, ids, timeout=60))
    recovered = time.monotonic() - restarted
    print(f"in-flight registrations moved on {recovered:.1f} s after the new worker started")

    assert all(state.waiting_for in ("reviewer", "nobody") for state in states.values()), states
    assert recovered < 15


async def until_moved_on(dev: Dev, ids: list[str], timeout: float) -> dict[str, Any]:
    client = await dev.client()
    deadline = time.monotonic() + timeout
    while True:
        states = {}
        for request_id in ids:
            handle = client.get_workflow_handle(f"registration-{request_id}")
            states[request_id] = await handle.query(ChildAccountRegistration.status)
        moved = all(s.waiting_for in ("reviewer", "nobody") for s in states.values())
        if moved or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.2)


def test_a_killed_postgres_is_restarted_and_the_read_models_catch_up_in_the_same_projector(
    stack: tuple[Dev, Output],
) -> None:
    dev, output = stack
    old, projector = pid_of(dev, "postgres"), pid_of(dev, "projector")

    os.kill(old, signal.SIGKILL)

    until(lambda: pid_of(dev, "postgres") != old and alive(pid_of(dev, "postgres")))
    until(lambda: positions(dev) is not None)
    before = positions(dev)
    assert before is not None
    request_id = "after-postgres-restart"
    portrait, certificate = put_pictures(dev)
    asyncio.run(start_registration(dev, request_id, portrait, certificate))
    until(lambda: query_status(dev, request_id).waiting_for in ("reviewer", "nobody"))

    def caught_up() -> bool:
        now = positions(dev)
        return (
            now is not None
            and now["store"] > before["store"]
            and all(behind == 0 for behind in now["behind"].values())
        )

    until(caught_up, timeout=60)
    assert "Restarting postgres: it killed by SIGKILL" in output.text()
    assert pid_of(dev, "projector") == projector  # it reconnected: nobody had to restart it
    assert "Restarting projector" not in output.text()


def positions(dev: Dev) -> dict[str, Any] | None:
    shown = subprocess.run(
        [CHILDREG, "projections", "positions", "--json"],
        env=dev.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if shown.returncode != 0:
        return None
    answer: dict[str, Any] = json.loads(shown.stdout)
    return answer


def test_a_killed_stack_takes_its_children_along_and_a_restart_cleans_up(
    stack: tuple[Dev, Output],
) -> None:
    dev, _ = stack
    pids = {name: pid_of(dev, name) for name in NAMES}
    # A leftover a run might leave: a process on this data directory under a stale pid file.
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", str(dev.data_dir)],
        start_new_session=True,
    )

    dev.process.kill()
    dev.process.wait(10)
    until(lambda: not any(alive(pid) for pid in pids.values()), timeout=15)
    (dev.data_dir / "run" / "temporal.pid").write_text(f"{orphan.pid}\n")
    again = start_dev(dev.data_dir, dev.ports, demo=False)
    try:
        orphan.wait(15)
        restarted = {name: pid_of(again, name) for name in NAMES}
    finally:
        code = again.stop()

    assert f"Stopping a leftover temporal of a killed run (pid {orphan.pid})" in again.output
    assert all(alive(pid) is False for pid in restarted.values())
    assert code == 0
    assert left_on(dev.data_dir) == []
    assert (dev.data_dir / "postgres" / ".handle_pids.json").read_text() == "[]"
    assert not list((dev.data_dir / "run").glob("*.pid"))


def test_workers_2_starts_two_supervised_worker_processes() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="childreg-sup2-", dir="/tmp"))
    dev = start_dev(data_dir, dev_ports(), demo=False, extra=["--workers", "2"])
    output = Output(dev)
    try:
        children = {p.pid for p in psutil.Process(dev.process.pid).children()}
        first, second = pid_of(dev, "worker"), pid_of(dev, "worker-2")
        assert first != second
        assert {first, second} <= children

        def started(name: str) -> bool:
            log = data_dir / "logs" / f"{name}.log"
            return log.exists() and '"worker.started"' in log.read_text()

        for name in ("worker", "worker-2"):
            until(functools.partial(started, name))
        assert psutil.Process(second).cmdline()[-1] == "worker"

        os.kill(second, signal.SIGKILL)  # the second is supervised like the first
        until(lambda: pid_of(dev, "worker-2") != second and alive(pid_of(dev, "worker-2")))
        until(lambda: "Restarted worker-2" in output.text(), timeout=10)
        assert alive(first)
        assert dev.stop() == 0
        assert not (data_dir / "run" / "worker.pid").exists()
        assert not (data_dir / "run" / "worker-2.pid").exists()
    finally:
        if dev.process.poll() is None:
            dev.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
