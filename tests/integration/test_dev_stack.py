"""``childreg dev`` as a newcomer and an operator run it: a subprocess on its own data directory,
with the embedded PostgreSQL, the Temporal dev server, the SMTP sink, the worker and the
projector, and the demo on first start."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from temporalio.client import Client

from activities.keys import DataKeys
from domain.contract import RegistrationStatus
from tests.builders import a_request
from workers.embedded import generated_key
from workers.temporal_client import connect
from workflows.registration import TASK_QUEUE, ChildAccountRegistration

BIN = Path(sys.executable).parent
CHILDREG = str(BIN / "childreg")
TEMPORAL = str(BIN / "temporal")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORTS = ("temporal-port", "ui-port", "smtp-port", "codec-port", "metrics-port", "web-port")
"""The ports ``childreg dev`` takes as options."""


def dev_ports() -> dict[str, int]:
    """A free port for each of ``childreg dev``'s port options."""
    return {name: free_port() for name in PORTS}


@dataclass
class Dev:
    process: subprocess.Popen[str]
    data_dir: Path
    ports: dict[str, int]
    output: str = ""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.ports['temporal-port']}"

    async def client(self) -> Client:
        """A client of the stack with its key and its data keys (in the stack's database)."""
        key = generated_key(self.data_dir, "cipher.key")
        found = re.search(r"^PostgreSQL\s+(\S+)", self.output, re.MULTILINE)
        assert found, self.output  # the banner names the stack's database
        keys = DataKeys(found.group(1), key)
        return await connect(self.address, "default", key, data_keys=keys)

    def env(self) -> dict[str, str]:
        return {**os.environ, "CHILDREG_DATA_DIR": str(self.data_dir), "COLUMNS": "120"}

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=90)


def start_dev(
    data_dir: Path, ports: dict[str, int], *, demo: bool = True, extra: Sequence[str] = ()
) -> Dev:
    options = [f"--{name}={port}" for name, port in ports.items()] + list(extra)
    process = subprocess.Popen(
        [CHILDREG, "dev", "--data-dir", str(data_dir), *options, "--demo" if demo else "--no-demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    dev = Dev(process, data_dir, ports)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C stops" in line:
            dev.output = "".join(lines)
            return dev
    raise AssertionError("childreg dev ended before it was ready:\n" + "".join(lines))


def stack_processes(dev: Dev) -> list[psutil.Process]:
    """Everything the stack runs: its children, and the PostgreSQL server (a daemon of its own)."""
    found = psutil.Process(dev.process.pid).children(recursive=True)
    for candidate in psutil.process_iter(["cmdline"]):
        if (
            str(dev.data_dir) in " ".join(candidate.info["cmdline"] or [])
            and candidate.pid != dev.process.pid
        ):
            found.append(candidate)
    return found


def query_status(dev: Dev, request_id: str) -> RegistrationStatus:
    async def ask() -> RegistrationStatus:
        client = await dev.client()
        handle = client.get_workflow_handle(f"registration-{request_id}")
        status: RegistrationStatus = await handle.query(ChildAccountRegistration.status)
        return status

    return asyncio.run(ask())


def result_of(dev: Dev, request_id: str) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        client = await dev.client()
        handle = client.get_workflow_handle_for(
            ChildAccountRegistration.run, f"registration-{request_id}"
        )
        result = await asyncio.wait_for(handle.result(), 60)
        return dict(result.model_dump(mode="json"))

    return asyncio.run(wait())


def temporal(dev: Dev, *arguments: str) -> str:
    done = subprocess.run(
        [TEMPORAL, *arguments, "--address", dev.address],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def dev_data_dir() -> Iterator[Path]:
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="childreg-dev-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def dev(dev_data_dir: Path) -> Iterator[Dev]:
    ports = dev_ports()
    running = start_dev(dev_data_dir, ports)
    yield running
    if running.process.poll() is None:
        running.stop()


def test_the_demo_reaches_its_four_outcomes(dev: Dev) -> None:
    played = dict(re.findall(r"request (demo-\d+-\w+): (\w+)", dev.output))

    outcomes = {
        request_id.rsplit("-", 1)[1]: query_status(dev, request_id) for request_id in played
    }

    assert outcomes["approved"].outcome == "approved"
    assert outcomes["approved"].state == "account_activated"
    assert outcomes["rejected"].reason_code == "BIRTH_CERTIFICATE_MISMATCH"
    assert outcomes["auto"].outcome == "auto_rejected"
    assert outcomes["auto"].reason_code == "GUARDIAN_ACCOUNT_INACTIVE"
    assert outcomes["waiting"].state == "awaiting_review"
    assert outcomes["waiting"].waiting_for == "reviewer"
    assert "Office 48001: awaiting review" in dev.output
    # Times read as in Vietnam: a deadline lasts to the end of its day there.
    assert re.search(r"review deadline\s+│ \d{4}-\d\d-\d\dT00:00\+07:00", dev.output)
    assert (
        "email to an.nguyen@example.vn: Tài khoản giao dịch điện tử của con đã được kích hoạt"
        in dev.output
    )


def test_it_prints_where_everything_is(dev: Dev) -> None:
    assert f"Temporal      {dev.address}" in dev.output
    assert "Web UI http://127.0.0.1:" in dev.output
    assert "PostgreSQL    postgresql://" in dev.output
    assert f"{dev.data_dir}/mail/*.eml" in dev.output
    assert f"{dev.data_dir}/sms/*.json" in dev.output
    assert f"http://127.0.0.1:{dev.ports['metrics-port']}/metrics" in dev.output
    assert f"Codec server  http://127.0.0.1:{dev.ports['codec-port']}" in dev.output


def test_its_hint_for_upstream_services_keeps_the_input_encrypted(dev: Dev) -> None:
    hint = dev.output.split("Try it yourself", 1)[1]
    start = hint.split("temporal workflow start", 1)[1].split("temporal workflow list", 1)[0]

    assert f"--codec-endpoint http://127.0.0.1:{dev.ports['codec-port']}" in start


def test_a_registration_started_with_the_temporal_cli_completes(dev: Dev) -> None:
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
    request = a_request(
        request_id="cli-0001",
        guardian__social_insurance_code="7900000001",
        child__social_insurance_code="7900000012",
        child__full_name="Nguyễn Ngọc Hân",
        child__date_of_birth="2026-05-10",
        documents__portrait=portrait,
        documents__birth_certificate=certificate,
    )

    temporal(
        dev, "workflow", "start", "--type", "ChildAccountRegistration", "--task-queue", TASK_QUEUE,
        "--workflow-id", "registration-cli-0001", "--input", json.dumps(request, ensure_ascii=False),
    )  # fmt: skip
    _until(lambda: query_status(dev, "cli-0001").waiting_for in ("reviewer", "nobody"))
    assert query_status(dev, "cli-0001").state == "awaiting_review"
    temporal(
        dev, "workflow", "signal", "--workflow-id", "registration-cli-0001", "--name", "approve",
        "--input", json.dumps({"decision_id": "cli-d1", "reviewer_id": "rv-79001-01"}),
    )  # fmt: skip

    assert result_of(dev, "cli-0001")["outcome"] == "approved"
    codec = f"--codec-endpoint=http://127.0.0.1:{dev.ports['codec-port']}"
    answer = json.loads(
        temporal(
            dev,
            "workflow",
            "query",
            "--workflow-id",
            "registration-cli-0001",
            "--name",
            "status",
            codec,
            "-o",
            "json",
        )
    )
    assert answer["queryResult"][0]["outcome"] == "approved"


def test_other_commands_find_the_running_stack_through_the_data_directory(dev: Dev) -> None:
    shown = subprocess.run(
        [CHILDREG, "queue", "48001", "--json"],
        env=dev.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["entries"]) == 1


def test_a_second_dev_on_the_same_directory_refuses(dev: Dev) -> None:
    second = subprocess.run(
        [CHILDREG, "dev", "--data-dir", str(dev.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 1
    assert "already running" in second.stdout


def test_taken_ports_are_reported_not_crashed_on(dev: Dev, data_dir: Path) -> None:
    refused = subprocess.run(
        [
            CHILDREG,
            "dev",
            "--data-dir",
            str(data_dir),
            f"--temporal-port={dev.ports['temporal-port']}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode == 1
    assert f"Temporal port {dev.ports['temporal-port']}" in refused.stdout
    assert "already in use" in refused.stdout


def test_the_worker_exposes_the_sdk_metrics_for_prometheus(dev: Dev) -> None:
    import urllib.request

    with urllib.request.urlopen(
        f"http://127.0.0.1:{dev.ports['metrics-port']}/metrics", timeout=10
    ) as answer:
        body = answer.read().decode()

    assert "temporal_" in body
    assert f'task_queue="{TASK_QUEUE}"' in body


def test_temporal_keeps_its_state_in_sqlite_with_the_wal_pragmas(dev: Dev) -> None:
    database = dev.data_dir / "temporal.db"
    temporal = next(
        " ".join(process.cmdline())
        for process in stack_processes(dev)
        if "start-dev" in process.cmdline()
    )

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (journal_mode,) = connection.execute("PRAGMA journal_mode").fetchone()

    assert journal_mode == "wal"  # kept in the file itself
    assert f"--db-filename {database}" in temporal
    assert "--sqlite-pragma synchronous=normal" in temporal  # a per-connection setting


def test_ctrl_c_stops_everything_and_a_restart_keeps_the_data(dev: Dev) -> None:
    started = stack_processes(dev)
    assert any("temporal" in " ".join(p.cmdline()) for p in started)

    code = dev.stop()
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    again = start_dev(dev.data_dir, dev.ports)
    try:
        earlier = query_status(again, "cli-0001")
    finally:
        again.stop()

    assert code == 0
    assert alive == []
    assert "Demo: four registrations" not in again.output  # played once, kept
    assert earlier.outcome == "approved"


def _pictures(directory: Path) -> list[Path]:
    from tests.builders import sharp_jpeg

    paths = []
    for seed in (1, 2):
        path = directory / f"picture-{seed}.jpg"
        path.write_bytes(sharp_jpeg(seed))
        paths.append(path)
    return paths


def _until(condition: Any, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)
